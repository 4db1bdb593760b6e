package tick_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/tick"
)

// Every runs the job on each tick and returns once the context ends,
// without running it again.
func TestEveryRunsUntilTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick.Every(ctx, time.Millisecond, func() {
			if n++; n == 3 {
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not return after its context ended")
	}
	if n != 3 {
		t.Errorf("the job ran %d times, want 3 (none after the context ended)", n)
	}
}
