package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// Dump is the whole file read on one snapshot, record by record, for
// copying a shop to another store ("frontdesk migrate"): the records as
// stored, with the indexes and the Telegram state that the store's other
// methods look up but do not list. It is valid only inside the function
// given to DB.Dump.
type Dump struct{ tx *bbolt.Tx }

// Dump runs fn on one read transaction of the file: everything fn reads
// is one consistent moment. fn must not wait for an act of db (see View).
func (db *DB) Dump(ctx context.Context, fn func(*Dump) error) error {
	return db.view(ctx, func(tx *bbolt.Tx) error { return fn(&Dump{tx: tx}) })
}

// eachJSON decodes every value of the bucket into a T and calls fn, in
// key order.
func eachJSON[T any](b *bbolt.Bucket, what string, fn func(*T) error) error {
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var rec T
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode %s %q: %w", what, k, err)
		}
		return fn(&rec)
	})
}

// Customers calls fn for every customer, in id order.
func (d *Dump) Customers(fn func(*bot.Customer) error) error {
	return eachJSON(d.tx.Bucket(bucketCustomers), "customer", fn)
}

// Identities calls fn for every entry of the channel identity index: the
// identity and the customer it finds.
func (d *Dump) Identities(fn func(id bot.Identity, customerID string) error) error {
	return d.tx.Bucket(bucketIdentities).ForEach(func(k, v []byte) error {
		ch, id, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return fmt.Errorf("corrupt identity key %q", k)
		}
		return fn(bot.Identity{Channel: bot.Channel(ch), ID: string(id)}, string(v))
	})
}

// Emails calls fn for every entry of the email index: the lower-cased
// address and the customer it finds (not always the newest to give it:
// a verified customer keeps theirs).
func (d *Dump) Emails(fn func(email, customerID string) error) error {
	return d.tx.Bucket(bucketEmails).ForEach(func(k, v []byte) error { return fn(string(k), string(v)) })
}

// Conversations calls fn for every conversation, in id order.
func (d *Dump) Conversations(fn func(*bot.Conversation) error) error {
	return eachJSON(d.tx.Bucket(bucketConversations), "conversation", fn)
}

// Messages calls fn for every message of the conversation, in seq order.
func (d *Dump) Messages(conversationID string, fn func(*bot.Message) error) error {
	return eachJSON(d.tx.Bucket(bucketMessages).Bucket([]byte(conversationID)), "message of "+conversationID, fn)
}

// Agents calls fn for every agent, with its password hash, in id order.
func (d *Dump) Agents(fn func(*handoff.Agent) error) error {
	return eachJSON(d.tx.Bucket(bucketAgents), "agent", func(r *agentRecord) error {
		r.Agent.PasswordHash = r.PasswordHash
		return fn(&r.Agent)
	})
}

// Sessions calls fn for every agent session.
func (d *Dump) Sessions(fn func(*handoff.Session) error) error {
	return eachJSON(d.tx.Bucket(bucketSessions), "session", fn)
}

// Tickets calls fn for every ticket: each conversation's in the order
// they were first stored (its history, which decides which ticket is its
// most recent), then any ticket missing from the history.
func (d *Dump) Tickets(fn func(*handoff.Ticket) error) error {
	tickets := d.tx.Bucket(bucketTickets)
	seen := map[string]bool{}
	err := d.tx.Bucket(bucketTicketHistory).ForEach(func(k, id []byte) error {
		if seen[string(id)] {
			return nil
		}
		var t handoff.Ticket
		switch err := getJSON(tickets, string(id), &t); {
		case errors.Is(err, bot.ErrNotFound):
			return nil // erased; the history entry outlived it
		case err != nil:
			return fmt.Errorf("ticket %s: %w", id, err)
		}
		seen[string(id)] = true
		return fn(&t)
	})
	if err != nil {
		return err
	}
	return eachJSON(tickets, "ticket", func(t *handoff.Ticket) error {
		if seen[t.ID] {
			return nil
		}
		return fn(t)
	})
}

// TelegramOffset returns the stored next getUpdates offset, 0 if none.
func (d *Dump) TelegramOffset() int64 {
	if b := d.tg(tgState); b != nil {
		if v := b.Get([]byte("offset")); len(v) == 8 {
			return int64(binary.BigEndian.Uint64(v))
		}
	}
	return 0
}

func (d *Dump) tg(name []byte) *bbolt.Bucket {
	if b := d.tx.Bucket(bucketTelegram); b != nil {
		return b.Bucket(name)
	}
	return nil
}

// eachKey calls fn with every key of the Telegram bucket name as an
// integer, in order.
func (d *Dump) eachKey(name []byte, fn func(n int64) error) error {
	b := d.tg(name)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, _ []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("corrupt telegram %s key %x", name, k)
		}
		return fn(int64(binary.BigEndian.Uint64(k)))
	})
}

// TelegramUpdates calls fn for every recently handled update id (the
// dedupe window), in order.
func (d *Dump) TelegramUpdates(fn func(updateID int64) error) error {
	return d.eachKey(tgUpdates, fn)
}

// TelegramBlocked calls fn for every chat that blocked the bot.
func (d *Dump) TelegramBlocked(fn func(chatID int64) error) error {
	return d.eachKey(tgBlocked, fn)
}

// TelegramChats calls fn for every conversation delivered to a Telegram
// chat, with the chat and its cursor (the last seq queued for it).
func (d *Dump) TelegramChats(fn func(conversationID string, chatID, cursor int64) error) error {
	b := d.tg(tgChats)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if len(v) != 16 {
			return fmt.Errorf("corrupt telegram chat %q", k)
		}
		return fn(string(k), int64(binary.BigEndian.Uint64(v[:8])), int64(binary.BigEndian.Uint64(v[8:])))
	})
}

// TelegramOutbox calls fn for every queued outbound Telegram request,
// oldest first, with its id.
func (d *Dump) TelegramOutbox(fn func(id uint64, data []byte) error) error {
	b := d.tg(tgOutbox)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("corrupt telegram outbox key %x", k)
		}
		return fn(binary.BigEndian.Uint64(k), v)
	})
}

// Part is a part of the file that Dump does not read record by record,
// and how many records it holds.
type Part struct {
	Name    string // for people: "customer API keys"
	Records int
}

// exported are the buckets Dump reads, and those that only index them
// (a store rebuilds those from the records), or hold the file's own
// bookkeeping.
var exported = map[string]bool{
	"meta": true, "customers": true, "identities": true, "emails": true,
	"conversations": true, "by_customer": true, "messages": true, "client_ids": true,
	"agents": true, "agent_emails": true, "agent_sessions": true,
	"tickets": true, "open_tickets": true, "ticket_history": true, "closed_tickets": true,
	"telegram": true,
	// Rollup bookkeeping: each conversation's contribution and the
	// conversations changed since, recomputed from the transcripts.
	"stats_convs": true, "stats_dirty": true,
}

// partNames names the buckets Dump leaves out, for people.
var partNames = map[string]string{
	"links":      "channel link codes and offered channels",
	"api_keys":   "customer API keys",
	"outbox":     "webhook events waiting for delivery",
	"followups":  "scheduled follow-ups",
	"stats_days": "insights daily rollups, in days",
	"tallies":    "tallies of deleted conversations, in days",
}

// Others lists the parts of the file that Dump does not read, with
// their record counts, empty ones left out: what a copy made through
// Dump leaves behind. A bucket this code does not know is listed by its
// name, so that nothing is left behind unsaid.
func (d *Dump) Others() []Part {
	var out []Part
	d.tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
		if exported[string(name)] {
			return nil
		}
		n := b.Stats().KeyN
		if n == 0 {
			return nil
		}
		label := partNames[string(name)]
		if label == "" {
			label = fmt.Sprintf("bucket %q", name)
		}
		out = append(out, Part{Name: label, Records: n})
		return nil
	})
	return out
}
