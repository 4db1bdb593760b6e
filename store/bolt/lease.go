package bolt

import (
	"context"
	"time"

	"github.com/frontdesk/frontdesk/internal/leader"
)

// Hold runs fn for the cluster-wide role: one process owns the bbolt
// file (its lock keeps others out), so this node is the cluster and
// always holds every role. fn runs until ctx ends, and again after
// interval if it returns before that.
func (db *DB) Hold(ctx context.Context, role string, interval time.Duration, fn func(ctx context.Context)) {
	leader.Alone{}.Hold(ctx, role, interval, fn)
}
