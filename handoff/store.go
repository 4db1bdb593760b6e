package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// Store is the durable state of the hand-off: agents, their sessions and
// tickets. Implementations must be safe for concurrent use, and every
// write must be on disk when the method returns nil. store/bolt
// implements it.
type Store interface {
	AgentStore
	SessionStore
	TicketStore
	// TicketsIn returns the queue's records inside tx, a transaction of
	// the same store's (bot.Store.Update).
	TicketsIn(tx bot.Tx) TicketTx
}

// AgentStore keeps agent accounts.
type AgentStore interface {
	// Agent returns the agent with the id, or ErrNotFound.
	Agent(ctx context.Context, id string) (*Agent, error)
	// AgentByEmail returns the agent with the email, compared without
	// case, or ErrNotFound.
	AgentByEmail(ctx context.Context, email string) (*Agent, error)
	// Agents returns every agent, disabled ones too, in a stable order.
	Agents(ctx context.Context) ([]Agent, error)
	// SaveAgent creates or replaces a (a.ID must be set), keeping emails
	// unique: an email that belongs to another agent is refused with
	// ErrEmailTaken.
	SaveAgent(ctx context.Context, a *Agent) error
}

// SessionStore keeps agents' login sessions, keyed by the SHA-256 hash of
// the session token; the token itself is never stored.
type SessionStore interface {
	// SaveSession stores s under s.TokenHash.
	SaveSession(ctx context.Context, s Session) error
	// Session returns the session stored under tokenHash, or ErrNotFound.
	Session(ctx context.Context, tokenHash []byte) (*Session, error)
	// DeleteSessions deletes every session for which match returns true
	// and returns how many it deleted. match runs inside a write
	// transaction and must not call the store.
	DeleteSessions(ctx context.Context, match func(Session) bool) (int, error)
}

// TicketStore keeps tickets. A conversation has at most one open ticket
// (queued or assigned) and any number of closed ones.
type TicketStore interface {
	// Ticket returns the conversation's open ticket or, when none is
	// open, its most recent closed one; ErrNotFound if it never had one.
	Ticket(ctx context.Context, conversationID string) (*Ticket, error)
	// OpenTickets returns every open ticket, in no particular order.
	OpenTickets(ctx context.Context) ([]Ticket, error)
	// ClosedTickets returns up to limit closed tickets that closed before
	// before (at any time when zero), the most recently closed first,
	// from an index: it reads no other ticket.
	ClosedTickets(ctx context.Context, before time.Time, limit int) ([]Ticket, error)
	// UpdateTicket is a compare-and-set on the conversation's open ticket.
	// In one write transaction it loads the open ticket (or, when there is
	// none, a zero Ticket with only ConversationID set), calls fn, and
	// stores what fn left unless fn returned an error, which UpdateTicket
	// then returns unchanged. fn creates a ticket by setting the zero
	// ticket's ID; it must not change an existing ticket's ID or
	// conversation. A ticket fn leaves closed stops being the open one.
	// fn runs once, must not call the store, and may run while other
	// readers see the old ticket. When UpdateTicket returns nil, the
	// ticket is on disk.
	UpdateTicket(ctx context.Context, conversationID string, fn func(*Ticket) error) (Ticket, error)
}

// TicketTx is the queue's records inside an act's transaction (see
// bot.Act): the queue changes a ticket and its conversation's owner in one
// act through it.
type TicketTx interface {
	// OpenTicket returns the conversation's open ticket, or ErrNotFound.
	OpenTicket(conversationID string) (*Ticket, error)
	// OpenTickets returns every open ticket, in no particular order.
	OpenTickets() ([]Ticket, error)
	// PutTicket stores t. A ticket not stored before joins its
	// conversation's history; a conversation has one open ticket at most,
	// and a ticket that is closed stops being the open one.
	PutTicket(t *Ticket) error
	// Agent returns the agent with the id, or ErrNotFound.
	Agent(id string) (*Agent, error)
}

// UpdateTicketIn is the compare-and-set every store's UpdateTicket does
// inside its transaction: fn changes the conversation's open ticket (a
// new one, with only ConversationID set, when there is none), may not
// move it to another conversation or change its id, and the result is
// stored.
func UpdateTicketIn(tx TicketTx, conversationID string, fn func(*Ticket) error) (Ticket, error) {
	var t Ticket
	cur, err := tx.OpenTicket(conversationID)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		t = Ticket{ConversationID: conversationID}
	case err != nil:
		return t, err
	default:
		t = *cur
	}
	oldID := t.ID
	if err := fn(&t); err != nil {
		return t, err
	}
	switch {
	case t.ConversationID != conversationID:
		return t, fmt.Errorf("update ticket of %s: ticket moved to conversation %s", conversationID, t.ConversationID)
	case oldID != "" && t.ID != oldID:
		return t, fmt.Errorf("update ticket of %s: id changed from %s to %s", conversationID, oldID, t.ID)
	}
	return t, tx.PutTicket(&t)
}
