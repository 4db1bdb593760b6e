package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// ExpireBatch is how many conversations, or customers, one act of Expire
// deletes at most.
const ExpireBatch = 100

// expireScan bounds how many records one read transaction of Expire
// looks at.
const expireScan = 2000

// Expire deletes for good the conversations that only the bot has (with
// the bot, or closed, and no open ticket) and that have not changed since
// before, with their messages, client ids, tickets and Telegram delivery
// state; then the customers last seen before it who are left without any
// conversation, with their identity and email index entries and link
// codes. Deleted conversations are counted in the per-day tallies (see
// Tally). It returns what it deleted.
//
// Deleting goes in acts of at most ExpireBatch records, each committed
// through the commit loop on its own, so other acts get in between; the
// candidates are found in short read transactions outside the loop, and
// each act checks its records again, so a conversation that a customer
// writes to meanwhile is kept. When ctx is done Expire stops with its
// error; what it deleted so far stays deleted.
func (db *DB) Expire(ctx context.Context, before time.Time) (bot.Erased, error) {
	var total bot.Erased
	defer db.memos.reset()
	err := db.sweep(ctx, bucketConversations, &total,
		func(v []byte) (bool, error) {
			var c bot.Conversation
			if err := json.Unmarshal(v, &c); err != nil {
				return false, err
			}
			return bot.Expired(&c, before), nil
		},
		func(tx *bbolt.Tx, id string, e *bot.Erased) (bool, error) {
			var c bot.Conversation
			if err := getJSON(tx.Bucket(bucketConversations), id, &c); err != nil {
				return false, ignoreNotFound(err)
			}
			if !bot.Expired(&c, before) || withPeople(tx, &c) {
				return false, nil
			}
			_, err := eraseConversation(tx, &c, e)
			return true, err
		})
	if err != nil {
		return total, fmt.Errorf("expire conversations: %w", err)
	}
	err = db.sweep(ctx, bucketCustomers, &total,
		func(v []byte) (bool, error) {
			var c bot.Customer
			if err := json.Unmarshal(v, &c); err != nil {
				return false, err
			}
			return c.LastSeen.Before(before), nil
		},
		func(tx *bbolt.Tx, id string, e *bot.Erased) (bool, error) {
			var c bot.Customer
			if err := getJSON(tx.Bucket(bucketCustomers), id, &c); err != nil {
				return false, ignoreNotFound(err)
			}
			if !c.LastSeen.Before(before) || hasConversations(tx, id) {
				return false, nil
			}
			return true, eraseCustomer(tx, &c, e)
		})
	if err != nil {
		return total, fmt.Errorf("expire customers: %w", err)
	}
	return total, nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, bot.ErrNotFound) {
		return nil
	}
	return err
}

// sweep walks bucket in read transactions of at most expireScan records,
// picks the keys whose values candidate accepts, and hands them to erase
// in acts of at most ExpireBatch keys. erase checks a key again inside
// the act, deletes it if it still qualifies, and reports whether it
// wrote.
func (db *DB) sweep(ctx context.Context, bucket []byte, total *bot.Erased,
	candidate func(v []byte) (bool, error),
	erase func(tx *bbolt.Tx, key string, e *bot.Erased) (bool, error),
) error {
	var after []byte
	for {
		var keys []string
		done := true
		err := db.view(ctx, func(tx *bbolt.Tx) error {
			cur := tx.Bucket(bucket).Cursor()
			k, v := cur.First()
			if after != nil {
				if k, v = cur.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = cur.Next()
				}
			}
			for n := 0; k != nil; k, v = cur.Next() {
				if n == expireScan {
					done = false
					return nil
				}
				n++
				after = bytes.Clone(k)
				ok, err := candidate(v)
				if err != nil {
					return fmt.Errorf("decode %s %q: %w", bucket, k, err)
				}
				if ok {
					keys = append(keys, string(k))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for len(keys) > 0 {
			n := min(len(keys), ExpireBatch)
			var e bot.Erased
			err := db.act(ctx, func(tx *Tx) error {
				e = bot.Erased{} // an act may run more than once
				wrote := false
				for _, k := range keys[:n] {
					tx.dirty = true // erase may write: mark the act before it does
					w, err := erase(tx.btx, k, &e)
					if err != nil {
						return err
					}
					wrote = wrote || w
				}
				tx.dirty = wrote // nothing qualified any more: no commit
				return nil
			})
			if err != nil {
				return err
			}
			total.Add(e)
			keys = keys[n:]
		}
		if done {
			return nil
		}
	}
}
