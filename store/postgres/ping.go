package postgres

import (
	"context"
	"errors"
	"fmt"
)

// Ping checks that the database serves reads and takes acts: it runs a
// read-only transaction, then an empty act (nothing is written), which
// fails on a server that cannot take writes (a standby after a
// failover). When the server does not answer before ctx ends, Ping
// returns an error wrapping ctx's; after Close, bot.ErrClosed.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.view(ctx, func(tx *Tx) error {
		var one int
		return tx.q.QueryRow(tx.ctx, "SELECT 1").Scan(&one)
	}); err != nil {
		return fmt.Errorf("read: %w", ctxErr(ctx, err))
	}
	err := db.update(ctx, func(tx *Tx) error {
		var readOnly string
		if err := tx.q.QueryRow(tx.ctx, "SELECT current_setting('transaction_read_only')").Scan(&readOnly); err != nil {
			return err
		}
		if readOnly != "off" {
			return fmt.Errorf("the server takes no writes (transaction_read_only is %s)", readOnly)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("act: %w", ctxErr(ctx, err))
	}
	return nil
}

// ctxErr is err, or ctx's error beside it when ctx ended: pgx reports a
// cancelled query as its own error, which a caller cannot tell from a
// failure of the server.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}
