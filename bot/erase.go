package bot

import (
	"errors"
	"time"
)

// Erased counts what a deletion removed for good: the retention sweep
// (conversations nobody touched for a long time) or a customer's
// erasure (the right to be forgotten).
type Erased struct {
	Customers     int `json:"customers"`
	Conversations int `json:"conversations"`
	Messages      int `json:"messages"`
}

// Add adds o's counts to e.
func (e *Erased) Add(o Erased) {
	e.Customers += o.Customers
	e.Conversations += o.Conversations
	e.Messages += o.Messages
}

// ErrInHandoff is returned when a customer cannot be erased because one
// of their conversations is with people (waiting in the queue or with an
// agent): an agent resolves it or returns it to the bot first.
var ErrInHandoff = errors.New("a conversation of the customer is with people (queued or with an agent)")

// Erasable reports whether a conversation may be deleted: only the bot
// has it (StateBot) or it is closed. A conversation waiting for a person
// or with one is never deleted under the people handling it.
func Erasable(c *Conversation) bool {
	return c.State == StateBot || c.State == StateClosed
}

// Expired reports whether the retention sweep deletes the conversation:
// it is erasable and has not changed since before.
func Expired(c *Conversation, before time.Time) bool {
	return Erasable(c) && c.Updated.Before(before)
}
