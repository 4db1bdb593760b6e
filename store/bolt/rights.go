package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// A customer's data rights: a copy of everything kept about them
// (ExportCustomer), and erasure (ForgetCustomer).

// ExportFormat names the layout of an Export, for whoever reads it later.
const ExportFormat = "frontdesk-customer-export/1"

// Export is everything Frontdesk keeps about one customer.
type Export struct {
	Format     string    `json:"format"`
	ExportedAt time.Time `json:"exported_at"`
	// Customer is the profile with its channel identities (a web
	// identity's id is the SHA-256 of the visitor token, a Telegram one
	// the user id).
	Customer bot.Customer `json:"customer"`
	// LinkedCustomers are earlier records of the same person that were
	// linked into Customer (its bot.AttrLinkedFrom): their conversations
	// are listed below too.
	LinkedCustomers []bot.Customer `json:"linked_customers"`
	// Conversations, newest first, each with every message (agents'
	// private notes included, marked internal) and its hand-off tickets.
	Conversations []ExportConversation `json:"conversations"`
	// Ratings are the customer's answers to satisfaction surveys.
	Ratings []ExportRating `json:"ratings"`
}

// ExportConversation is a conversation with its messages and tickets.
type ExportConversation struct {
	bot.Conversation
	Messages []bot.Message    `json:"messages"`
	Tickets  []handoff.Ticket `json:"tickets"`
}

// ExportRating is one survey answer.
type ExportRating struct {
	ConversationID string `json:"conversation_id"`
	Rating         int    `json:"rating"`
	Comment        string `json:"comment,omitempty"`
}

// CustomerExport returns everything kept about the customer with the id,
// read in one transaction, or bot.ErrNotFound.
func (db *DB) CustomerExport(ctx context.Context, id string) (*Export, error) {
	out := &Export{Format: ExportFormat, ExportedAt: time.Now().UTC(),
		LinkedCustomers: []bot.Customer{}, Conversations: []ExportConversation{}, Ratings: []ExportRating{}}
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		people, err := customerAndLinked(tx, id)
		if err != nil {
			return err
		}
		out.Customer, out.LinkedCustomers = people[0], append(out.LinkedCustomers, people[1:]...)
		for _, p := range people {
			convs, err := conversationsOf(tx, p.ID)
			if err != nil {
				return err
			}
			for _, c := range convs {
				ms, err := (&Tx{btx: tx, m: db.memos}).Messages(c.ID, 0, 0)
				if err != nil {
					return err
				}
				ts, err := ticketsOf(tx, c.ID)
				if err != nil {
					return err
				}
				out.Conversations = append(out.Conversations, ExportConversation{Conversation: c,
					Messages: nonNilSlice(ms), Tickets: nonNilSlice(ts)})
				if c.Rating > 0 {
					out.Ratings = append(out.Ratings, ExportRating{ConversationID: c.ID, Rating: c.Rating, Comment: c.RatingComment})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out.Conversations, func(a, b ExportConversation) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// ExportCustomer writes CustomerExport as indented JSON to w. It writes
// nothing when it fails to read (bot.ErrNotFound for an unknown id).
func (db *DB) ExportCustomer(ctx context.Context, id string, w io.Writer) error {
	e, err := db.CustomerExport(ctx, id)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return fmt.Errorf("export customer %s: %w", id, err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// customerAndLinked returns the customer with the id followed by the earlier
// records linked into it, or bot.ErrNotFound.
func customerAndLinked(tx *bbolt.Tx, id string) ([]bot.Customer, error) {
	customers := tx.Bucket(bucketCustomers)
	var c bot.Customer
	if err := getJSON(customers, id, &c); err != nil {
		return nil, err
	}
	out := []bot.Customer{c}
	for _, old := range strings.Split(c.Attrs[bot.AttrLinkedFrom], ",") {
		var o bot.Customer
		if old = strings.TrimSpace(old); old == "" || old == id || getJSON(customers, old, &o) != nil {
			continue
		}
		if o.Attrs[bot.AttrMergedInto] == id {
			out = append(out, o)
		}
	}
	return out, nil
}

// ErrNotScrubbed is returned by ForgetCustomer when the erasure is
// committed but compacting the file failed: the erased text may remain
// in free pages of the file until it is compacted, which Open does.
var ErrNotScrubbed = errors.New("erased, but the file is not compacted yet (it will be when it is next opened)")

// ForgetCustomer erases the customer with the id for good, with the
// earlier records linked into it (see Export.LinkedCustomers): the
// profiles (name, email, attributes, topics), channel identities and
// their index entries, email index entries, link codes, every
// conversation with all its messages (customer, bot and agents' text,
// private notes, survey comments), client ids, tickets and Telegram
// delivery state and block marks. What remains is anonymous: each
// conversation is counted in the tally of the day it started (see Tally).
// It fails with bot.ErrNotFound for an unknown id, and with
// bot.ErrInHandoff, erasing nothing, while one of the conversations is
// with people.
//
// The erasure is one act. Then the file is compacted (see compact), so
// that no erased byte stays in its free pages; writers wait meanwhile.
// When ForgetCustomer returns nil, the erasure is on disk and the file
// holds none of the erased text. Telegram messages already queued for
// delivery (normally for seconds) are still sent, then removed.
func (db *DB) ForgetCustomer(ctx context.Context, id string) (bot.Erased, error) {
	var e bot.Erased
	defer db.memos.reset()
	err := db.update(ctx, func(tx *bbolt.Tx) error {
		e = bot.Erased{}
		people, err := customerAndLinked(tx, id)
		if err != nil {
			return err
		}
		var convs []bot.Conversation
		for _, p := range people {
			cs, err := conversationsOf(tx, p.ID)
			if err != nil {
				return err
			}
			for i := range cs {
				if withPeople(tx, &cs[i]) {
					return fmt.Errorf("forget customer %s: conversation %s: %w", id, cs[i].ID, bot.ErrInHandoff)
				}
			}
			convs = append(convs, cs...)
		}
		var chats []int64
		for i := range convs {
			chat, err := eraseConversation(tx, &convs[i], &e)
			if err != nil {
				return err
			}
			if chat != 0 {
				chats = append(chats, chat)
			}
		}
		for i := range people {
			for _, ident := range people[i].Identities {
				if n, err := strconv.ParseInt(ident.ID, 10, 64); err == nil && ident.Channel == bot.Telegram {
					chats = append(chats, n) // a private chat's id is the user's
				}
			}
			if err := eraseCustomer(tx, &people[i], &e); err != nil {
				return err
			}
		}
		if blocked := tx.Bucket(bucketTelegram).Bucket(tgBlocked); blocked != nil {
			for _, chat := range chats {
				if err := blocked.Delete(u64(uint64(chat))); err != nil {
					return err
				}
			}
		}
		return markScrub(tx)
	})
	if err != nil {
		return bot.Erased{}, err
	}
	// The erasure is durable: compact even if the caller has gone.
	if err := db.scrub(context.WithoutCancel(ctx)); err != nil {
		return e, fmt.Errorf("forget customer %s: %w: %v", id, ErrNotScrubbed, err)
	}
	return e, nil
}
