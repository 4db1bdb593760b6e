// Package wait is the tests' one way to wait for something to become
// true: a condition polled until a deadline. Tests that must show that
// something did not happen wait instead for a positive sign that it was
// processed (a later event, an acknowledgement), never for a bare sleep.
package wait

import (
	"context"
	"testing"
	"time"
)

// interval is how long For and Until sleep between polls.
const interval = 5 * time.Millisecond

// For polls cond every few milliseconds until it holds, and fails the
// test, naming what it waited for, when it has not within timeout.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Until(context.Background(), timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Until polls cond every few milliseconds until it holds (true), or until
// timeout has passed or ctx ended (false), for code that reports rather
// than fails: a harness that returns an error, a wait whose outcome the
// checks after it judge.
func Until(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-time.After(interval):
		case <-ctx.Done():
		}
	}
	return true
}
