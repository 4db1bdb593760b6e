package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/bot"
)

// Linking state: one-time link codes (link_codes, by the SHA-256 of the
// code) and the channels offered for linking (channel_links).

var _ bot.LinkStore = (*DB)(nil)

// PutLinkCode stores a link code under its hash and drops expired ones.
// When it returns nil the code is committed. The customer must be stored
// (erasing them erases their codes).
func (db *DB) PutLinkCode(ctx context.Context, hash string, c bot.LinkCode) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode link code: %w", err)
	}
	return db.update(ctx, func(tx *Tx) error {
		b := &pgx.Batch{}
		b.Queue("DELETE FROM link_codes WHERE expires < $1", nanos(c.Expires.Add(-2*bot.LinkCodeTTL)))
		b.Queue(`INSERT INTO link_codes (hash, customer_id, expires, data) VALUES ($1, $2, $3, $4)
			ON CONFLICT (hash) DO UPDATE SET customer_id = EXCLUDED.customer_id, expires = EXCLUDED.expires, data = EXCLUDED.data`,
			hash, c.CustomerID, nanos(c.Expires), data)
		if err := tx.q.(batcher).SendBatch(tx.ctx, b).Close(); err != nil {
			return fmt.Errorf("save link code: %w", err)
		}
		return nil
	})
}

// TakeLinkCode removes and returns the code with the hash, or
// bot.ErrNotFound. Of two concurrent calls for one code (on any nodes),
// one gets it.
func (db *DB) TakeLinkCode(ctx context.Context, hash string) (bot.LinkCode, error) {
	var c bot.LinkCode
	err := db.update(ctx, func(tx *Tx) error {
		return tx.getJSON(&c, "link code", "DELETE FROM link_codes WHERE hash = $1 RETURNING data", hash)
	})
	if err != nil && !errors.Is(err, bot.ErrNotFound) {
		err = fmt.Errorf("take link code: %w", err)
	}
	return c, err
}

// SetChannelLink records the link prefix of a channel; "" removes it.
func (db *DB) SetChannelLink(ctx context.Context, ch bot.Channel, prefix string) error {
	return db.update(ctx, func(tx *Tx) error {
		var err error
		if prefix == "" {
			_, err = tx.q.Exec(tx.ctx, "DELETE FROM channel_links WHERE channel = $1", string(ch))
		} else {
			_, err = tx.q.Exec(tx.ctx, `INSERT INTO channel_links (channel, prefix) VALUES ($1, $2)
				ON CONFLICT (channel) DO UPDATE SET prefix = EXCLUDED.prefix`, string(ch), prefix)
		}
		if err != nil {
			return fmt.Errorf("set channel link: %w", err)
		}
		return nil
	})
}

// ChannelLinks returns the link prefix of every channel that has one.
func (db *DB) ChannelLinks(ctx context.Context) (map[bot.Channel]string, error) {
	out := map[bot.Channel]string{}
	err := db.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, "SELECT channel, prefix FROM channel_links")
		if err != nil {
			return err
		}
		var ch, prefix string
		_, err = pgx.ForEachRow(rows, []any{&ch, &prefix}, func() error { out[bot.Channel(ch)] = prefix; return nil })
		return err
	})
	return out, err
}
