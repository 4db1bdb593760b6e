package handoff

import (
	"sync"
	"time"
)

// limiter counts password attempts per key (an email, an address) in a
// sliding window. An attempt is counted before its password is checked
// (reserve), so that simultaneous attempts cannot all slip under the
// limit while the slow check runs; it then either becomes a failure
// (fail) or is given back (release). It lives in memory: a restart
// forgets past failures, which is acceptable for throttling password
// guessing.
type limiter struct {
	max    int
	window time.Duration

	mu   sync.Mutex
	keys map[string]*attempts
}

// attempts are one key's failures within the window and its attempts
// under way.
type attempts struct {
	failures []time.Time // oldest first
	pending  int
}

// sweepAbove is the number of keys past which a failure also drops every
// key with no recent failure, bounding memory under a spray of addresses.
const sweepAbove = 10000

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, keys: map[string]*attempts{}}
}

// reserve counts an attempt of every key at now, before it is made. It
// reports false, counting nothing, when any key already has max failures
// and attempts under way in the window ending at now. Each reservation
// ends with fail or release.
func (l *limiter) reserve(now time.Time, keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if a := l.recent(now, k); a != nil && len(a.failures)+a.pending >= l.max {
			return false
		}
	}
	for _, k := range keys {
		a := l.keys[k]
		if a == nil {
			a = &attempts{}
			l.keys[k] = a
		}
		a.pending++
	}
	return true
}

// fail turns a reservation of every key into a failure at now.
func (l *limiter) fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		a := l.keys[k]
		if a == nil {
			a = &attempts{}
			l.keys[k] = a
		}
		a.pending = max(a.pending-1, 0)
		a.failures = append(a.failures, now)
		l.recent(now, k)
	}
	if len(l.keys) > sweepAbove {
		for k := range l.keys {
			l.recent(now, k)
		}
	}
}

// release gives back a reservation of every key: the attempt did not
// fail (the password was right, or it was never checked).
func (l *limiter) release(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if a := l.keys[k]; a != nil {
			a.pending = max(a.pending-1, 0)
			if a.pending == 0 && len(a.failures) == 0 {
				delete(l.keys, k)
			}
		}
	}
}

// reset forgets key's failures; attempts under way still count.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a := l.keys[key]; a != nil {
		a.failures = nil
		if a.pending == 0 {
			delete(l.keys, key)
		}
	}
}

// recent drops key's failures older than the window, and the key itself
// when nothing is left, and returns what remains (nil for nothing).
func (l *limiter) recent(now time.Time, key string) *attempts {
	a := l.keys[key]
	if a == nil {
		return nil
	}
	i := 0
	for i < len(a.failures) && now.Sub(a.failures[i]) >= l.window {
		i++
	}
	a.failures = a.failures[i:]
	if len(a.failures) == 0 && a.pending == 0 {
		delete(l.keys, key)
		return nil
	}
	return a
}
