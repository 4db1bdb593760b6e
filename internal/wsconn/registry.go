package wsconn

import (
	"context"
	"sync"
)

// Registry is a server's set of open connections, so that it can close
// them all on shutdown and wait for them, or close those of one agent or
// session. The zero value is ready to use. Its lock guards only the set:
// callers close connections after Matching returns, and Close does no
// I/O anyway.
type Registry[C comparable] struct {
	mu       sync.Mutex
	conns    map[C]struct{}
	shutting bool
	wg       sync.WaitGroup
}

// Add registers c. It reports false once Shutdown has begun: the caller
// turns the connection away (TurnAway) instead of serving it.
func (r *Registry[C]) Add(c C) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shutting {
		return false
	}
	if r.conns == nil {
		r.conns = map[C]struct{}{}
	}
	r.conns[c] = struct{}{}
	r.wg.Add(1)
	return true
}

// Remove forgets c and reports whether no open connection is left for
// which alike holds (nil: no connection at all), such as another console
// of the same agent. The caller calls Done once finished with c.
func (r *Registry[C]) Remove(c C, alike func(C) bool) (none bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, c)
	for o := range r.conns {
		if alike == nil || alike(o) {
			return false
		}
	}
	return true
}

// Done says that a connection Add registered is finished with: its
// goroutines have returned and its socket is closed. Shutdown waits for
// every one.
func (r *Registry[C]) Done() { r.wg.Done() }

// Matching returns the open connections for which ok holds.
func (r *Registry[C]) Matching(ok func(C) bool) []C {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []C
	for c := range r.conns {
		if ok(c) {
			out = append(out, c)
		}
	}
	return out
}

// Shutdown refuses connections from now on, calls bye for each open one
// (without the lock held), and waits until every one is Done, or for ctx.
func (r *Registry[C]) Shutdown(ctx context.Context, bye func(C)) error {
	r.mu.Lock()
	r.shutting = true
	r.mu.Unlock()
	for _, c := range r.Matching(func(C) bool { return true }) {
		bye(c)
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
