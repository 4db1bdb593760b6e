package main

import (
	"context"
	"sync"

	"github.com/frontdesk/frontdesk/internal/leader"
)

// timersRole is the cluster-wide role of the node that runs the timers:
// SLA escalation, queue notices, follow-ups, the dashboard's rollups and
// retention.
const timersRole = "timers"

// runLed runs the jobs, each in a goroutine of its own, while this node
// holds the role, until ctx ends: all of them on one node of the cluster
// at a time (see internal/leader). When the role is lost their context
// ends; runLed waits for them to return, and runs them again when the
// node holds the role again. With the bbolt file the node always holds
// it, and the jobs run from start to stop, as they would alone.
func runLed(ctx context.Context, l leader.Lease, role string, jobs ...func(context.Context)) {
	leader.Run(ctx, l, role, func(ctx context.Context) {
		var wg sync.WaitGroup
		for _, job := range jobs {
			wg.Go(func() { job(ctx) })
		}
		wg.Wait()
	})
}
