package bot

import "context"

// Store is the durable state the Engine needs. Implementations must be
// safe for concurrent use.
type Store interface {
	// CustomerByIdentity returns the customer with the identity, or
	// ErrNotFound.
	CustomerByIdentity(ctx context.Context, id Identity) (*Customer, error)
	// Customer returns the customer with the id, or ErrNotFound.
	Customer(ctx context.Context, id string) (*Customer, error)
	// SaveCustomer creates or replaces c (c.ID must be set) and indexes its
	// identities. When it returns nil, c is on disk.
	SaveCustomer(ctx context.Context, c *Customer) error
	// UpdateCustomer applies fn to the stored customer and stores the
	// result atomically, so concurrent partial changes are not lost; fn
	// must not call the store. It returns the stored customer, or
	// ErrNotFound.
	UpdateCustomer(ctx context.Context, id string, fn func(*Customer) error) (*Customer, error)

	// Conversation returns the conversation with the id, or ErrNotFound.
	Conversation(ctx context.Context, id string) (*Conversation, error)
	// Conversations lists a customer's conversations, newest first.
	Conversations(ctx context.Context, customerID string) ([]Conversation, error)
	// SaveConversation creates or replaces c (c.ID must be set). It never
	// lowers LastSeq, which only Append moves.
	SaveConversation(ctx context.Context, c *Conversation) error

	// Append stores m as the next message of its conversation, setting
	// m.Seq, and returns the stored message. If m.ClientID is set and a
	// message with that ClientID is already stored, Append stores nothing
	// and returns the stored one with dup = true. When Append returns nil,
	// the message is on disk (fsync'd) and survives a crash.
	Append(ctx context.Context, m Message) (stored Message, dup bool, err error)
	// Messages returns the messages of a conversation with Seq > after, in
	// order.
	Messages(ctx context.Context, conversationID string, after int64) ([]Message, error)
}
