package postgres

import (
	"context"

	"github.com/frontdesk/frontdesk/bot"
)

// ConversationStore serves conversations and their message logs.
type ConversationStore struct{ db *DB }

// Conversation returns the conversation with the id, or bot.ErrNotFound.
func (s ConversationStore) Conversation(ctx context.Context, id string) (c *bot.Conversation, err error) {
	err = s.db.read(ctx, func(tx *Tx) error { c, err = tx.Conversation(id); return err })
	return c, err
}

// Conversations lists a customer's conversations, newest first.
func (s ConversationStore) Conversations(ctx context.Context, customerID string) (out []bot.Conversation, err error) {
	err = s.db.read(ctx, func(tx *Tx) error { out, err = tx.Conversations(customerID); return err })
	return out, err
}

// SaveConversation creates or replaces c, in one act. It never lowers
// LastSeq, which only appending moves: a caller holding an older copy
// cannot hide messages.
func (s ConversationStore) SaveConversation(ctx context.Context, c *bot.Conversation) error {
	return s.db.update(ctx, func(tx *Tx) error {
		return bot.SaveIn(tx, c)
	})
}

// Append stores m as the next message of its conversation, in one act,
// setting m.Seq and moving the conversation's LastSeq and Updated with it.
// If m.ClientID is set and a message with that ClientID is already stored
// in the conversation (by any node), Append stores nothing and returns
// the stored message with dup = true.
func (s ConversationStore) Append(ctx context.Context, m bot.Message) (bot.Message, bool, error) {
	var (
		out bot.Message
		dup bool
	)
	err := s.db.update(ctx, func(tx *Tx) error {
		var err error
		out, dup, err = bot.AppendIn(tx, m)
		return err
	})
	if err != nil {
		return bot.Message{}, false, err
	}
	return out, dup, nil
}

// Messages returns the messages of a conversation with Seq > after, in
// order. An unknown conversation has no messages.
func (s ConversationStore) Messages(ctx context.Context, conversationID string, after int64) (out []bot.Message, err error) {
	err = s.db.read(ctx, func(tx *Tx) error { out, err = tx.Messages(conversationID, after, 0); return err })
	return out, err
}
