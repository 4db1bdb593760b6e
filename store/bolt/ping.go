package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// Ping checks that the database serves reads and that its commit loop
// takes acts: it opens a read transaction, then runs an empty act through
// the loop (nothing is written, so nothing is synced to disk). When the
// loop does not answer before ctx ends, stuck on a commit, Ping returns
// an error wrapping ctx's; it leaves nothing waiting behind it.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.view(ctx, func(*bbolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	r := &request{fn: func(*Tx) error { return nil }, done: make(chan error, 1)}
	select {
	case db.reqs <- r:
	case <-db.closing:
		return bot.ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("commit loop did not take an act: %w", ctx.Err())
	}
	select {
	case err := <-r.done: // buffered: the loop never waits for us
		return err
	case <-ctx.Done():
		return fmt.Errorf("commit loop did not finish an act: %w", ctx.Err())
	}
}
