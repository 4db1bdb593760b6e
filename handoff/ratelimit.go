package handoff

import (
	"sync"
	"time"
)

// limiter counts failures per key in a sliding window. It lives in memory:
// a restart forgets past failures, which is acceptable for throttling
// password guessing.
type limiter struct {
	max    int
	window time.Duration

	mu       sync.Mutex
	failures map[string][]time.Time // oldest first, all within window
}

// sweepAbove is the number of keys past which a failure also drops every
// key with no recent failure, bounding memory under a spray of addresses.
const sweepAbove = 10000

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, failures: map[string][]time.Time{}}
}

// allow reports whether key has fewer than max failures in the window
// ending at now.
func (l *limiter) allow(now time.Time, key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(now, key)) < l.max
}

// fail records a failure of key at now.
func (l *limiter) fail(now time.Time, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures[key] = append(l.recent(now, key), now)
	if len(l.failures) > sweepAbove {
		for k := range l.failures {
			l.recent(now, k)
		}
	}
}

// reset forgets key's failures.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// recent drops key's failures older than the window and returns the rest.
func (l *limiter) recent(now time.Time, key string) []time.Time {
	fs := l.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= l.window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = fs
	return fs
}
