// Package records holds what both stores (store/bolt, store/postgres)
// hand out alike about a customer's data rights and deleted data: the
// export of everything kept about a customer, and the anonymous tally a
// deleted day leaves. Their JSON is the contract; both stores build it
// here, so that it cannot drift apart.
package records

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

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

// Collect builds the export of people[0], with people[1:] the earlier
// records linked into it, stamped now: each person's conversations as
// convs reads them (newest first in the export), each with its messages
// and tickets as contents reads them, and its rating if it has one.
// The store calls it inside one read transaction.
func Collect(people []bot.Customer, convs func(customerID string) ([]bot.Conversation, error),
	contents func(convID string) ([]bot.Message, []handoff.Ticket, error)) (*Export, error) {
	e := &Export{Format: ExportFormat, ExportedAt: time.Now().UTC(),
		Customer: people[0], LinkedCustomers: append([]bot.Customer{}, people[1:]...),
		Conversations: []ExportConversation{}, Ratings: []ExportRating{}}
	for _, p := range people {
		cs, err := convs(p.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			ms, ts, err := contents(c.ID)
			if err != nil {
				return nil, err
			}
			e.Conversations = append(e.Conversations, ExportConversation{Conversation: c,
				Messages: nonNil(ms), Tickets: nonNil(ts)})
			if c.Rating > 0 {
				e.Ratings = append(e.Ratings, ExportRating{ConversationID: c.ID, Rating: c.Rating, Comment: c.RatingComment})
			}
		}
	}
	slices.SortStableFunc(e.Conversations, func(a, b ExportConversation) int { return b.Created.Compare(a.Created) })
	return e, nil
}

// Write writes the export of the customer with the id as indented JSON
// to w; read is the store's CustomerExport. It writes nothing when read
// fails (bot.ErrNotFound for an unknown id).
func Write(w io.Writer, id string, read func() (*Export, error)) error {
	e, err := read()
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

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Tally is what is left of the conversations of one day that were
// deleted: counts, with no customer, text or id.
type Tally struct {
	Conversations int `json:"conversations"`
	Messages      int `json:"messages"`
	// Handoffs counts the tickets the conversations had.
	Handoffs int `json:"handoffs"`
	// Ratings counts survey ratings by score, "1" to "5".
	Ratings map[string]int `json:"ratings,omitempty"`
}
