package wait_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/wait"
)

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	go func() {
		time.Sleep(20 * time.Millisecond)
		n.Store(1)
	}()
	wait.For(t, 5*time.Second, "the flag", func() bool { return n.Load() == 1 })
}

// failing records a Fatalf instead of ending the test.
type failing struct {
	testing.TB
	msg string
}

func (f *failing) Helper() {}
func (f *failing) Fatalf(format string, args ...any) {
	f.msg = format
	panic(f)
}

func TestForFailsAfterTheTimeout(t *testing.T) {
	f := &failing{TB: t}
	defer func() {
		if r := recover(); r != f || f.msg == "" {
			t.Errorf("no failure after the timeout: %v", r)
		}
	}()
	wait.For(f, 30*time.Millisecond, "something that never happens", func() bool { return false })
}

func TestUntilReportsInsteadOfFailing(t *testing.T) {
	var n atomic.Int32
	go func() {
		time.Sleep(20 * time.Millisecond)
		n.Store(1)
	}()
	if !wait.Until(context.Background(), 5*time.Second, func() bool { return n.Load() == 1 }) {
		t.Error("Until gave up on a condition that came true")
	}
	if wait.Until(context.Background(), 30*time.Millisecond, func() bool { return false }) {
		t.Error("Until reported a condition that never held")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if wait.Until(ctx, time.Minute, func() bool { return false }) || time.Since(start) > time.Second {
		t.Error("Until went on after its context ended")
	}
}
