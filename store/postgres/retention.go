package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/bot"
)

// ExpireBatch is how many conversations, or customers, one act of Expire
// deletes at most.
const ExpireBatch = 100

// expireScan bounds how many records one read of Expire looks at.
const expireScan = 2000

// Expire deletes for good the conversations that only the bot has (with
// the bot, or closed, and no open ticket) and that have not changed since
// before, with their messages, attachments, tickets and Telegram
// delivery state; then the customers last seen before it who are left
// without any conversation, with their identity and email index entries
// and link codes. Deleted conversations are counted in the per-day
// tallies (see records.Tally). It returns what it deleted.
//
// Deleting goes in acts of at most ExpireBatch records, each its own
// transaction, so other acts get in between; the candidates are found in
// short reads outside them, and each act checks its records again, so a
// conversation that a customer writes to meanwhile (on any node) is
// kept. Two nodes sweeping at once delete each record once. When ctx is
// done Expire stops with its error; what it deleted so far stays deleted.
func (db *DB) Expire(ctx context.Context, before time.Time) (bot.Erased, error) {
	var total bot.Erased
	// Conversations: the state and the last change are all a candidate
	// needs, so only they are read.
	err := db.sweep(ctx, &total,
		`SELECT id, jsonb_build_object('state', data->'state', 'updated', data->'updated') FROM conversations
		WHERE id > $1 ORDER BY id LIMIT $2`, nil,
		func(raw []byte) (bool, error) {
			var c bot.Conversation
			if err := json.Unmarshal(raw, &c); err != nil {
				return false, err
			}
			return bot.Expired(&c, before), nil
		},
		func(tx *Tx, ids []string, e *bot.Erased) error {
			var doomed []bot.Conversation
			for _, id := range ids {
				c, err := tx.Conversation(id)
				if errors.Is(err, bot.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if !bot.Expired(c, before) {
					continue
				}
				if busy, err := tx.withPeople(c); err != nil || busy {
					if err != nil {
						return err
					}
					continue
				}
				doomed = append(doomed, *c)
			}
			_, err := tx.eraseConversations(doomed, e)
			return err
		})
	if err != nil {
		return total, fmt.Errorf("expire conversations: %w", err)
	}
	cut := nanos(before)
	err = db.sweep(ctx, &total,
		`SELECT id, NULL::bytea FROM customers c
		WHERE id > $1 AND last_seen < $3 AND NOT EXISTS (SELECT 1 FROM conversations WHERE customer_id = c.id)
		ORDER BY id LIMIT $2`, []any{cut},
		func([]byte) (bool, error) { return true, nil },
		func(tx *Tx, ids []string, e *bot.Erased) error {
			var doomed []bot.Customer
			for _, id := range ids {
				c, err := tx.Customer(id)
				if errors.Is(err, bot.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				has, err := tx.hasConversations(id)
				if err != nil {
					return err
				}
				if c.LastSeen.Before(before) && !has {
					doomed = append(doomed, *c)
				}
			}
			return tx.eraseCustomers(doomed, e)
		})
	if err != nil {
		return total, fmt.Errorf("expire customers: %w", err)
	}
	return total, nil
}

// sweep pages through the rows query selects ($1 the last id seen, $2
// the page size, then args; it returns the id and what candidate reads),
// picks the ids candidate accepts, and hands them to erase in acts of at
// most ExpireBatch ids. erase checks each id again inside the act and
// deletes it if it still qualifies.
func (db *DB) sweep(ctx context.Context, total *bot.Erased, query string, args []any,
	candidate func(raw []byte) (bool, error),
	erase func(tx *Tx, ids []string, e *bot.Erased) error,
) error {
	after := ""
	for {
		var ids []string
		n := 0
		err := db.read(ctx, func(tx *Tx) error {
			rows, err := tx.q.Query(ctx, query, append([]any{after, expireScan}, args...)...)
			if err != nil {
				return err
			}
			var id string
			var raw []byte
			_, err = pgx.ForEachRow(rows, []any{&id, &raw}, func() error {
				n++
				after = id
				ok, err := candidate(raw)
				if err != nil {
					return fmt.Errorf("decode %s: %w", id, err)
				}
				if ok {
					ids = append(ids, id)
				}
				return nil
			})
			return err
		})
		if err != nil {
			return err
		}
		for len(ids) > 0 {
			k := min(len(ids), ExpireBatch)
			var e bot.Erased
			err := db.update(ctx, func(tx *Tx) error {
				e = bot.Erased{} // an act may run more than once
				return erase(tx, ids[:k], &e)
			})
			if err != nil {
				return err
			}
			total.Add(e)
			ids = ids[k:]
		}
		if n < expireScan {
			return nil
		}
	}
}
