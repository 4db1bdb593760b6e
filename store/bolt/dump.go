package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/stats"
	"github.com/frontdesk/frontdesk/store/records"
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
	return eachMessage(d.tx, conversationID, 0, fn)
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

// LinkCodes calls fn for every stored link code, with the hash it is
// kept under (the SHA-256 of the code, hex), in hash order.
func (d *Dump) LinkCodes(fn func(hash string, c bot.LinkCode) error) error {
	return d.eachLink(linkCodePrefix, func(k string, v []byte) error {
		var c bot.LinkCode
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode link code %q: %w", k, err)
		}
		return fn(k, c)
	})
}

// ChannelLinks calls fn for every channel offered for linking, with its
// link prefix.
func (d *Dump) ChannelLinks(fn func(ch bot.Channel, prefix string) error) error {
	return d.eachLink(linkChannelPrefix, func(k string, v []byte) error { return fn(bot.Channel(k), string(v)) })
}

// eachLink calls fn with every entry of the links bucket under prefix,
// the key without it.
func (d *Dump) eachLink(prefix string, fn func(k string, v []byte) error) error {
	b := d.tx.Bucket(bucketLinks)
	if b == nil {
		return nil
	}
	cur := b.Cursor()
	for k, v := cur.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = cur.Next() {
		if len(k) == len(prefix) {
			return fmt.Errorf("corrupt links key %q", k)
		}
		if err := fn(string(k[len(prefix):]), v); err != nil {
			return err
		}
	}
	return nil
}

// Followups calls fn for every entry of the follow-up index: a
// conversation whose follow-up is scheduled, and when it is due.
func (d *Dump) Followups(fn func(conversationID string, due time.Time) error) error {
	b := d.tx.Bucket(bucketFollowups)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		due, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return fmt.Errorf("corrupt follow-up of %q: %w", k, err)
		}
		return fn(string(k), due)
	})
}

// StatsDays calls fn for every day total of the dashboard's rollups, as
// stored (totals of conversations deleted since included), in day order.
func (d *Dump) StatsDays(fn func(day string, total stats.Day) error) error {
	b := d.tx.Bucket(bucketStatsDays)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var day stats.Day
		if err := json.Unmarshal(v, &day); err != nil {
			return fmt.Errorf("decode day total %q: %w", k, err)
		}
		return fn(string(k), day)
	})
}

// StatsContributions calls fn for every conversation's share of the day
// totals, as its last rollup computed it.
func (d *Dump) StatsContributions(fn func(conversationID string, days stats.Days) error) error {
	b := d.tx.Bucket(bucketStatsConvs)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var days stats.Days
		if err := json.Unmarshal(v, &days); err != nil {
			return fmt.Errorf("decode the rollup of %q: %w", k, err)
		}
		return fn(string(k), days)
	})
}

// StatsDirty calls fn for every conversation changed since its last
// rollup.
func (d *Dump) StatsDirty(fn func(conversationID string) error) error {
	b := d.tx.Bucket(bucketStatsDirty)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, _ []byte) error { return fn(string(k)) })
}

// APIKeys calls fn for every customer API key (with its secret's hash
// only), revoked ones too, in id order.
func (d *Dump) APIKeys(fn func(*bot.APIKey) error) error {
	return eachJSON(d.tx.Bucket(bucketAPIKeys), "api key", fn)
}

// WebhookOutbox calls fn for every webhook event waiting for delivery,
// oldest first, with its seq and the record as the webhook package
// encoded it.
func (d *Dump) WebhookOutbox(fn func(seq uint64, data []byte) error) error {
	b := d.tx.Bucket(bucketOutbox)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("corrupt outbox key %x", k)
		}
		return fn(binary.BigEndian.Uint64(k), v)
	})
}

// Tallies calls fn for every day's tally of deleted conversations, in
// day order.
func (d *Dump) Tallies(fn func(day string, t records.Tally) error) error {
	b := d.tx.Bucket(bucketTallies)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var t records.Tally
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode tally %q: %w", k, err)
		}
		return fn(string(k), t)
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
	"telegram": true, "links": true, "api_keys": true, "outbox": true, "followups": true,
	"stats_days": true, "stats_convs": true, "stats_dirty": true, "tallies": true,
}

// partNames names, for people, buckets that Dump leaves out. None is
// left out today; a bucket a later build adds before Dump reads it goes
// here.
var partNames = map[string]string{}

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
	// The links bucket holds two kinds of entry, by key prefix; Dump
	// reads those two.
	if b := d.tx.Bucket(bucketLinks); b != nil {
		n := 0
		b.ForEach(func(k, _ []byte) error {
			if !bytes.HasPrefix(k, []byte(linkCodePrefix)) && !bytes.HasPrefix(k, []byte(linkChannelPrefix)) {
				n++
			}
			return nil
		})
		if n > 0 {
			out = append(out, Part{Name: "links entries of an unknown kind", Records: n})
		}
	}
	return out
}
