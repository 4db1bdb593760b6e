package bolt

import (
	"bytes"
	"context"
	"sort"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

func byCustomerKey(customerID, conversationID string) []byte {
	return []byte(customerID + "\x00" + conversationID)
}

// ConversationStore serves conversations and their message logs.
type ConversationStore struct{ db *DB }

// Conversation returns the conversation with the id, or bot.ErrNotFound.
func (s ConversationStore) Conversation(ctx context.Context, id string) (c *bot.Conversation, err error) {
	err = s.db.View(ctx, func(tx bot.Tx) error { c, err = tx.Conversation(id); return err })
	return c, err
}

// Conversations lists a customer's conversations, newest first.
func (s ConversationStore) Conversations(ctx context.Context, customerID string) (out []bot.Conversation, err error) {
	err = s.db.View(ctx, func(tx bot.Tx) error { out, err = tx.Conversations(customerID); return err })
	return out, err
}

func conversationsOf(tx *bbolt.Tx, customerID string) ([]bot.Conversation, error) {
	var out []bot.Conversation
	convs := tx.Bucket(bucketConversations)
	prefix := []byte(customerID + "\x00")
	cur := tx.Bucket(bucketByCustomer).Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		var c bot.Conversation
		if err := getJSON(convs, string(k[len(prefix):]), &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// SaveConversation creates or replaces c, in one act. It never lowers
// LastSeq, which only appending moves: a caller holding an older copy
// cannot hide messages. When it returns nil, c is on disk.
func (s ConversationStore) SaveConversation(ctx context.Context, c *bot.Conversation) error {
	return s.db.Update(ctx, func(tx bot.Tx) error {
		return bot.SaveIn(tx, c)
	})
}

// Append stores m as the next message of its conversation, in one act,
// setting m.Seq and moving the conversation's LastSeq and Updated with it.
// If m.ClientID is set and a message with that ClientID is already stored
// in the conversation, Append stores nothing and returns the stored
// message with dup = true. When Append returns nil, the message is on
// disk (fsync'd) and will be delivered after a crash.
func (s ConversationStore) Append(ctx context.Context, m bot.Message) (bot.Message, bool, error) {
	var (
		out bot.Message
		dup bool
	)
	err := s.db.Update(ctx, func(tx bot.Tx) error {
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
	err = s.db.View(ctx, func(tx bot.Tx) error { out, err = tx.Messages(conversationID, after, 0); return err })
	return out, err
}
