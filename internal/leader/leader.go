// Package leader runs work that one node of a cluster does at a time:
// the Telegram poller and sender, and the timers (SLA escalation, queue
// notices, follow-ups, dashboard rollups, retention). On several nodes
// sharing one PostgreSQL database, a role is a session advisory lock
// (store/postgres.DB.Hold); with the bbolt file, which one process owns,
// the node always holds every role (store/bolt.DB.Hold).
package leader

import (
	"context"
	"sync"
	"time"
)

// Lease is a cluster-wide role a node can hold. *postgres.DB and
// *bolt.DB implement it.
type Lease interface {
	// Hold runs fn whenever this node holds the role, trying for it every
	// interval while another node does; fn's context is cancelled when
	// the role is lost or ctx ends, and fn must then return. When fn
	// returns, the role is released and tried for again; Hold returns
	// when ctx ends.
	Hold(ctx context.Context, role string, interval time.Duration, fn func(ctx context.Context))
}

// Timers is the role of the node that runs the timers: SLA escalation,
// queue notices, follow-ups, the dashboard's rollups and retention.
const Timers = "timers"

// Retry is how often a node that does not hold a role tries for it: the
// most a role stays unheld after its holder's session ended.
const Retry = time.Second

// Run runs the jobs, each in a goroutine of its own, while this node
// holds the named role, until ctx ends: at once when the role is free,
// else once its holder dies or lets it go. Their context ends when the
// role is lost; Run waits for them all to return, and runs them again
// when the node holds the role again. A nil lease means this node is
// alone: the jobs run under ctx (and again a Retry after they all
// returned early).
func Run(ctx context.Context, l Lease, role string, jobs ...func(ctx context.Context)) {
	if l == nil {
		l = Alone{}
	}
	l.Hold(ctx, role, Retry, func(ctx context.Context) {
		var wg sync.WaitGroup
		for _, job := range jobs {
			wg.Go(func() { job(ctx) })
		}
		wg.Wait()
	})
}

// Alone is the lease of a node with no other: it always holds every
// role.
type Alone struct{}

// Hold runs fn until ctx ends, and again after interval if fn returns
// before that.
func (Alone) Hold(ctx context.Context, role string, interval time.Duration, fn func(ctx context.Context)) {
	for ctx.Err() == nil {
		fn(ctx)
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}
