package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/records"
)

// Deletion for good: the retention sweep (retention.go) and a customer's
// erasure (rights.go) remove conversations and customers with everything
// kept about them. What survives is anonymous: per-day tallies of what
// was deleted, so that counts of conversations, messages, hand-offs and
// ratings over time stay right.

// bucketTallies: day (UTC, "2006-01-02", the day a deleted conversation
// started) -> JSON records.Tally.
var bucketTallies = []byte("tallies")

// Tallies returns the tallies of deleted conversations by day.
func (db *DB) Tallies(ctx context.Context) (map[string]records.Tally, error) {
	out := map[string]records.Tally{}
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketTallies).ForEach(func(k, v []byte) error {
			var t records.Tally
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("decode tally %s: %w", k, err)
			}
			out[string(k)] = t
			return nil
		})
	})
	return out, err
}

// eraseConversation deletes conversation c in tx with its messages, client
// ids, tickets and their history and its Telegram delivery state, and
// counts it in its day's tally. It does not check that c may be deleted.
// It returns the Telegram chat the conversation was delivered to (0 for
// none).
func eraseConversation(tx *bbolt.Tx, c *bot.Conversation, erased *bot.Erased) (chat int64, err error) {
	id := []byte(c.ID)
	tally := records.Tally{Conversations: 1, Messages: int(c.LastSeq)}
	if c.Rating >= 1 && c.Rating <= 5 {
		tally.Ratings = map[string]int{strconv.Itoa(c.Rating): 1}
	}
	if err := tx.Bucket(bucketMessages).DeleteBucket(id); err != nil && !errors.Is(err, bbolt.ErrBucketNotFound) {
		return 0, fmt.Errorf("delete the messages of %s: %w", c.ID, err)
	}
	// Tickets: the history lists every ticket the conversation had.
	hist, tickets := tx.Bucket(bucketTicketHistory), tx.Bucket(bucketTickets)
	prefix := historyPrefix(c.ID)
	var doomed [][]byte
	cur := hist.Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		doomed = append(doomed, bytes.Clone(k))
		if err := unindexClosed(tx, v); err != nil {
			return 0, err
		}
		if err := tickets.Delete(v); err != nil {
			return 0, err
		}
		tally.Handoffs++
	}
	for _, k := range doomed {
		if err := hist.Delete(k); err != nil {
			return 0, err
		}
	}
	if err := tx.Bucket(bucketOpenTickets).Delete(id); err != nil {
		return 0, err
	}
	if chats := tx.Bucket(bucketTelegram).Bucket(tgChats); chats != nil {
		if v := chats.Get(id); len(v) == 16 {
			chat = int64(binary.BigEndian.Uint64(v[:8]))
		}
		if err := chats.Delete(id); err != nil {
			return 0, err
		}
	}
	if err := tx.Bucket(bucketByCustomer).Delete(byCustomerKey(c.CustomerID, c.ID)); err != nil {
		return 0, err
	}
	if err := forgetInsights(tx, id); err != nil {
		return 0, err
	}
	if err := tx.Bucket(bucketConversations).Delete(id); err != nil {
		return 0, err
	}
	if err := addTally(tx, c.Created.UTC().Format("2006-01-02"), tally); err != nil {
		return 0, err
	}
	erased.Conversations++
	erased.Messages += int(c.LastSeq)
	return chat, nil
}

func addTally(tx *bbolt.Tx, day string, add records.Tally) error {
	b := tx.Bucket(bucketTallies)
	var t records.Tally
	if err := getJSON(b, day, &t); err != nil && !errors.Is(err, bot.ErrNotFound) {
		return err
	}
	t.Conversations += add.Conversations
	t.Messages += add.Messages
	t.Handoffs += add.Handoffs
	for k, n := range add.Ratings {
		if t.Ratings == nil {
			t.Ratings = map[string]int{}
		}
		t.Ratings[k] += n
	}
	return putJSON(b, day, t)
}

// eraseCustomer deletes customer c in tx with its identity and email
// index entries and the link codes made for it. Its conversations must
// be gone already.
func eraseCustomer(tx *bbolt.Tx, c *bot.Customer, erased *bot.Erased) error {
	ids, emails := tx.Bucket(bucketIdentities), tx.Bucket(bucketEmails)
	for _, id := range c.Identities {
		if k := identityKey(id); bytes.Equal(ids.Get(k), []byte(c.ID)) {
			if err := ids.Delete(k); err != nil {
				return err
			}
		}
	}
	if c.Email != "" {
		if k := emailKey(c.Email); bytes.Equal(emails.Get(k), []byte(c.ID)) {
			if err := emails.Delete(k); err != nil {
				return err
			}
		}
	}
	links := tx.Bucket(bucketLinks)
	var codes [][]byte
	cur := links.Cursor()
	for k, v := cur.Seek([]byte(linkCodePrefix)); k != nil && bytes.HasPrefix(k, []byte(linkCodePrefix)); k, v = cur.Next() {
		var lc bot.LinkCode
		if json.Unmarshal(v, &lc) == nil && lc.CustomerID == c.ID {
			codes = append(codes, bytes.Clone(k))
		}
	}
	for _, k := range codes {
		if err := links.Delete(k); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketCustomers).Delete([]byte(c.ID)); err != nil {
		return err
	}
	erased.Customers++
	return nil
}

// hasConversations reports whether the customer has any conversation.
func hasConversations(tx *bbolt.Tx, customerID string) bool {
	prefix := []byte(customerID + "\x00")
	k, _ := tx.Bucket(bucketByCustomer).Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// withPeople reports whether a person has the conversation or it waits
// for one: its state says so, or it has an open ticket.
func withPeople(tx *bbolt.Tx, c *bot.Conversation) bool {
	return !bot.Erasable(c) || tx.Bucket(bucketOpenTickets).Get([]byte(c.ID)) != nil
}

// ticketsOf returns every ticket the conversation had, oldest first.
func ticketsOf(tx *bbolt.Tx, conversationID string) ([]handoff.Ticket, error) {
	var out []handoff.Ticket
	tickets := tx.Bucket(bucketTickets)
	prefix := historyPrefix(conversationID)
	cur := tx.Bucket(bucketTicketHistory).Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		var t handoff.Ticket
		if err := getJSON(tickets, string(v), &t); err != nil {
			return nil, fmt.Errorf("ticket %s of %s: %w", v, conversationID, err)
		}
		out = append(out, t)
	}
	return out, nil
}
