package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// bucketClosedTickets indexes closed tickets by when they closed, for the
// console's Resolved view: closed-at (Unix nanoseconds, 8 bytes BE) +
// ticket id -> conversation id. PutTicket keeps it; erasing a
// conversation removes its entries.
var bucketClosedTickets = []byte("closed_tickets")

func closedKey(t *handoff.Ticket) []byte {
	n := t.ClosedAt.UnixNano()
	if n < 0 {
		n = 0
	}
	return append(u64(uint64(n)), t.ID...)
}

// indexClosed adds t to the closed index if it is closed.
func indexClosed(tx *bbolt.Tx, t *handoff.Ticket) error {
	if t.Open() || t.ClosedAt.IsZero() {
		return nil
	}
	return tx.Bucket(bucketClosedTickets).Put(closedKey(t), []byte(t.ConversationID))
}

// ClosedTickets returns up to limit closed tickets that closed before
// before (any time when zero), the most recently closed first, reading
// only those from the index.
func (s QueueStore) ClosedTickets(ctx context.Context, before time.Time, limit int) (out []handoff.Ticket, err error) {
	if limit <= 0 {
		return nil, nil
	}
	err = s.db.view(ctx, func(tx *bbolt.Tx) error {
		tickets := tx.Bucket(bucketTickets)
		cur := tx.Bucket(bucketClosedTickets).Cursor()
		var k, v []byte
		if before.IsZero() {
			k, v = cur.Last()
		} else {
			n := before.UnixNano()
			if n < 0 {
				return nil
			}
			k, _ = cur.Seek(u64(uint64(n)))
			if k == nil {
				k, v = cur.Last()
			} else {
				k, v = cur.Prev()
			}
		}
		for ; k != nil && len(out) < limit; k, v = cur.Prev() {
			if len(k) < 8 {
				continue
			}
			var t handoff.Ticket
			raw := tickets.Get(k[8:])
			if raw == nil {
				continue // erased
			}
			if err := json.Unmarshal(raw, &t); err != nil {
				return fmt.Errorf("closed ticket %s of %s: %w", k[8:], v, err)
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// unindexClosed removes the closed-index entry of the stored ticket id,
// if any.
func unindexClosed(tx *bbolt.Tx, ticketID []byte) error {
	raw := tx.Bucket(bucketTickets).Get(ticketID)
	if raw == nil {
		return nil
	}
	var t handoff.Ticket
	if err := json.Unmarshal(raw, &t); err != nil {
		return fmt.Errorf("decode ticket %s: %w", ticketID, err)
	}
	if t.Open() || t.ClosedAt.IsZero() {
		return nil
	}
	return tx.Bucket(bucketClosedTickets).Delete(closedKey(&t))
}

// indexInbox is migration 6: it creates the closed-ticket index from the
// stored tickets and fills each conversation's preview (Conversation.Last)
// from the end of its log, as bot.NoteMessage keeps it from now on.
func indexInbox(tx *bbolt.Tx) error {
	closed, err := tx.CreateBucketIfNotExists(bucketClosedTickets)
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketTickets).ForEach(func(k, v []byte) error {
		var t handoff.Ticket
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode ticket %s: %w", k, err)
		}
		if t.Open() || t.ClosedAt.IsZero() {
			return nil
		}
		return closed.Put(closedKey(&t), []byte(t.ConversationID))
	})
	if err != nil {
		return err
	}
	all := tx.Bucket(bucketMessages)
	return rewriteConversations(tx, func(c *bot.Conversation) (bool, error) {
		msgs := all.Bucket([]byte(c.ID))
		if msgs == nil || c.Last != nil {
			return false, nil
		}
		cur := msgs.Cursor()
		for mk, mv := cur.Last(); mk != nil; mk, mv = cur.Prev() {
			var m bot.Message
			if err := json.Unmarshal(mv, &m); err != nil {
				return false, fmt.Errorf("decode a message of %s: %w", c.ID, err)
			}
			probe := bot.Conversation{}
			bot.NoteMessage(&probe, m)
			if probe.Last != nil {
				c.Last = probe.Last
				return true, nil
			}
		}
		return false, nil
	})
}
