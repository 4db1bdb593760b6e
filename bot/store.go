package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store is the durable state the Engine needs. Implementations must be
// safe for concurrent use.
//
// Every change goes through Update: one act (a customer turn, an agent's
// act) is one transaction, durable when Update returns, and acts of
// different conversations may share one commit (group commit). The read
// methods and View see committed acts only, whole.
type Store interface {
	// CustomerByIdentity returns the customer with the identity, or
	// ErrNotFound.
	CustomerByIdentity(ctx context.Context, id Identity) (*Customer, error)
	// Customer returns the customer with the id, or ErrNotFound.
	Customer(ctx context.Context, id string) (*Customer, error)
	// Conversation returns the conversation with the id, or ErrNotFound.
	Conversation(ctx context.Context, id string) (*Conversation, error)
	// Conversations lists a customer's conversations, newest first.
	Conversations(ctx context.Context, customerID string) ([]Conversation, error)
	// Messages returns the messages of a conversation with Seq > after, in
	// order.
	Messages(ctx context.Context, conversationID string, after int64) ([]Message, error)

	// View runs fn in a read-only transaction: a consistent snapshot of
	// committed acts. The Tx's Put methods fail. fn must not wait for an
	// Update: a store may need every read transaction to end before it
	// commits (bbolt's compaction does).
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a write transaction and commits it: when Update
	// returns nil, everything fn wrote is on disk (fsync'd), and the
	// functions fn passed to Tx.OnCommit have run. If fn returns an error,
	// nothing it wrote is kept and Update returns that error.
	//
	// fn may run more than once (a shared commit that fails is retried
	// without the act that failed it), so it must have no effect outside
	// the transaction except through OnCommit, and must not call the Store.
	Update(ctx context.Context, fn func(Tx) error) error
}

// MessageEncoder is implemented by a store that can put a message in its
// stored form before the act that stores it: the act then writes the
// bytes as they are, and the encoding stays out of the commit, which
// every conversation's acts wait on. The Engine encodes a turn's messages
// while it plans the turn.
type MessageEncoder interface {
	EncodeMessage(m Message) (*Encoded, error)
}

// CommitWarmer is implemented by a store whose first commit after a
// quiet spell is slower than the next ones (a disk that flushes its
// cache slowly when it has been idle). The Engine calls WarmCommit when a
// customer message arrives, before it reads and decides: the store may
// then ready the disk while the turn is computed. It must return at once
// and must not make anything durable that would not be anyway.
type CommitWarmer interface {
	WarmCommit()
}

// Encoded is a message in a store's stored form (see MessageEncoder),
// made for the conversation, seq and time it names.
type Encoded struct {
	ConversationID string
	Seq            int64
	Time           time.Time
	Data           []byte
}

// For reports whether e was made for m's place in the log and time; the
// rest of m is the message that was encoded, as the Engine keeps it.
func (e *Encoded) For(m Message) bool {
	return e != nil && e.ConversationID == m.ConversationID && e.Seq == m.Seq && e.Time.Equal(m.Time)
}

// Tx is the store as one transaction sees it. Reads see the writes the
// transaction has made so far.
type Tx interface {
	// Customer returns the customer with the id, or ErrNotFound.
	Customer(id string) (*Customer, error)
	// CustomerByIdentity returns the customer with the identity, or
	// ErrNotFound.
	CustomerByIdentity(id Identity) (*Customer, error)
	// PutCustomer creates or replaces c (c.ID must be set) and keeps the
	// identity and email indexes in step; an identity that belongs to
	// another customer is refused with ErrIdentityTaken.
	PutCustomer(c *Customer) error

	// Conversation returns the conversation with the id, or ErrNotFound.
	Conversation(id string) (*Conversation, error)
	// Conversations lists a customer's conversations, newest first.
	Conversations(customerID string) ([]Conversation, error)
	// PutConversation creates or replaces c (c.ID and c.CustomerID must
	// be set; a conversation never changes customer).
	PutConversation(c *Conversation) error

	// Messages returns the messages of a conversation with Seq > after, in
	// order, at most limit of them when limit > 0.
	Messages(conversationID string, after int64, limit int) ([]Message, error)
	// MessageByClientID returns the customer's message stored with the
	// client id, or ErrNotFound.
	MessageByClientID(conversationID, clientID string) (*Message, error)
	// PutMessage stores m under its Seq (set by the caller, the
	// conversation's next) and indexes its ClientID. A store that encoded
	// m beforehand (m.Encoded, see MessageEncoder) may store those bytes.
	PutMessage(m Message) error

	// OnCommit registers f to run once the transaction is durable, in
	// commit order across transactions, before Update returns. f must not
	// block: it publishes events.
	OnCommit(f func())
}

// ErrIdentityTaken is returned when a customer's identity already belongs
// to another customer.
// Announcer is a Tx whose store carries an act's events with its commit,
// in commit order: a store shared by several nodes, whose events after
// commit would otherwise reach other nodes in the order of their
// notifiers rather than of their acts. An act hands it its events other
// than messages (which such a store announces from what the act
// appended) and does not publish them itself.
type Announcer interface {
	Announce(e Event) error
}

var ErrIdentityTaken = NewError(CodeConflict, "identity belongs to another customer")

// UpdateCustomer applies fn to the stored customer and stores the result
// in one act, so concurrent partial changes (the console setting a
// segment while the bot records a topic) are never lost. fn may run more
// than once and must only change c. It returns the stored customer, or
// ErrNotFound.
func UpdateCustomer(ctx context.Context, st Store, id string, fn func(c *Customer) error) (*Customer, error) {
	var out *Customer
	err := st.Update(ctx, func(tx Tx) error {
		c, err := tx.Customer(id)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		c.ID = id
		out = c
		return tx.PutCustomer(c)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SaveIn creates or replaces c inside tx: the rule every store's
// SaveConversation follows. It never lowers LastSeq, which only
// appending moves, so a caller holding an older copy cannot hide
// messages; the revision moves on from the stored one.
func SaveIn(tx Tx, c *Conversation) error {
	old, err := tx.Conversation(c.ID)
	switch {
	case err == nil:
		c.LastSeq = max(c.LastSeq, old.LastSeq)
		c.Rev = old.Rev + 1
	case !errors.Is(err, ErrNotFound):
		return err
	}
	return tx.PutConversation(c)
}

// AppendIn appends m to its conversation inside tx: the rule every
// store's Append follows. A message whose client id the conversation
// already holds is not stored again: the stored one is returned, with
// dup set. Otherwise m takes the conversation's next seq, and the
// conversation's revision, preview and recent questions follow it.
func AppendIn(tx Tx, m Message) (_ Message, dup bool, err error) {
	c, err := tx.Conversation(m.ConversationID)
	if err != nil {
		return m, false, fmt.Errorf("conversation %s: %w", m.ConversationID, err)
	}
	if m.ClientID != "" {
		switch old, err := tx.MessageByClientID(c.ID, m.ClientID); {
		case err == nil:
			return *old, true, nil
		case !errors.Is(err, ErrNotFound):
			return m, false, err
		}
	}
	m.Seq = c.LastSeq + 1
	if err := tx.PutMessage(m); err != nil {
		return m, false, err
	}
	c.LastSeq, c.Rev = m.Seq, c.Rev+1
	NoteMessage(c, m)
	if m.Time.After(c.Updated) {
		c.Updated = m.Time
	}
	return m, false, tx.PutConversation(c)
}
