// Package wait is the tests' one way to wait for something to become
// true: a condition polled until a deadline. Tests that must show that
// something did not happen wait instead for a positive sign that it was
// processed (a later event, an acknowledgement), never for a bare sleep.
package wait

import (
	"testing"
	"time"
)

// For polls cond every few milliseconds until it holds, and fails the
// test, naming what it waited for, when it has not within timeout.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
