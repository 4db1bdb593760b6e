// Package tick runs the background timers' one loop: a job every
// interval until its context ends.
package tick

import (
	"context"
	"time"
)

// Every calls fn every interval (the first time one interval from now)
// until ctx ends. It returns when ctx has ended, never while fn runs.
func Every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
