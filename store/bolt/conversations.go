package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

func byCustomerKey(customerID, conversationID string) []byte {
	return []byte(customerID + "\x00" + conversationID)
}

// Conversation returns the conversation with the id, or bot.ErrNotFound.
func (db *DB) Conversation(ctx context.Context, id string) (*bot.Conversation, error) {
	var c bot.Conversation
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		return getJSON(tx.Bucket(bucketConversations), id, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Conversations lists a customer's conversations, newest first.
func (db *DB) Conversations(ctx context.Context, customerID string) ([]bot.Conversation, error) {
	var out []bot.Conversation
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		convs := tx.Bucket(bucketConversations)
		prefix := []byte(customerID + "\x00")
		cur := tx.Bucket(bucketByCustomer).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			var c bot.Conversation
			if err := getJSON(convs, string(k[len(prefix):]), &c); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, err
}

// SaveConversation creates or replaces c. It never lowers LastSeq, which
// only Append moves: a caller holding an older copy cannot hide messages.
// When it returns nil, c is on disk.
func (db *DB) SaveConversation(ctx context.Context, c *bot.Conversation) error {
	if c.ID == "" || c.CustomerID == "" {
		return errors.New("save conversation: no id or customer")
	}
	return db.update(ctx, func(tx *bbolt.Tx) error {
		convs := tx.Bucket(bucketConversations)
		var old bot.Conversation
		switch err := getJSON(convs, c.ID, &old); {
		case errors.Is(err, bot.ErrNotFound):
			if err := tx.Bucket(bucketByCustomer).Put(byCustomerKey(c.CustomerID, c.ID), nil); err != nil {
				return err
			}
		case err != nil:
			return err
		case old.CustomerID != c.CustomerID:
			return fmt.Errorf("save conversation %s: it belongs to customer %s, not %s", c.ID, old.CustomerID, c.CustomerID)
		}
		c.LastSeq = max(c.LastSeq, old.LastSeq)
		return putJSON(convs, c.ID, c)
	})
}

// Append stores m as the next message of its conversation, setting m.Seq
// and moving the conversation's LastSeq and Updated with it. If m.ClientID
// is set and a message with that ClientID is already stored in the
// conversation, Append stores nothing and returns the stored message with
// dup = true. When Append returns nil, the message is on disk (fsync'd)
// and will be delivered after a crash.
func (db *DB) Append(ctx context.Context, m bot.Message) (bot.Message, bool, error) {
	dup := false
	err := db.update(ctx, func(tx *bbolt.Tx) error {
		convs := tx.Bucket(bucketConversations)
		var c bot.Conversation
		if err := getJSON(convs, m.ConversationID, &c); err != nil {
			return fmt.Errorf("conversation %s: %w", m.ConversationID, err)
		}
		msgs, err := tx.Bucket(bucketMessages).CreateBucketIfNotExists([]byte(c.ID))
		if err != nil {
			return err
		}
		if m.ClientID != "" {
			cids, err := tx.Bucket(bucketClientIDs).CreateBucketIfNotExists([]byte(c.ID))
			if err != nil {
				return err
			}
			if seq := cids.Get([]byte(m.ClientID)); seq != nil {
				dup = true
				data := msgs.Get(seq)
				if data == nil {
					return fmt.Errorf("conversation %s: client id %q points at a missing message", c.ID, m.ClientID)
				}
				return json.Unmarshal(data, &m)
			}
			defer func() {
				if err == nil {
					err = cids.Put([]byte(m.ClientID), u64(uint64(m.Seq)))
				}
			}()
		}
		m.Seq = c.LastSeq + 1
		if err = putJSON(msgs, string(u64(uint64(m.Seq))), m); err != nil {
			return err
		}
		c.LastSeq = m.Seq
		if m.Time.After(c.Updated) {
			c.Updated = m.Time
		}
		err = putJSON(convs, c.ID, c)
		return err
	})
	if err != nil {
		return bot.Message{}, false, err
	}
	return m, dup, nil
}

// Messages returns the messages of a conversation with Seq > after, in
// order. An unknown conversation has no messages.
func (db *DB) Messages(ctx context.Context, conversationID string, after int64) ([]bot.Message, error) {
	var out []bot.Message
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		msgs := tx.Bucket(bucketMessages).Bucket([]byte(conversationID))
		if msgs == nil {
			return nil
		}
		cur := msgs.Cursor()
		for k, v := cur.Seek(u64(uint64(max(after, 0) + 1))); k != nil; k, v = cur.Next() {
			var m bot.Message
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode message %d of %s: %w", binary.BigEndian.Uint64(k), conversationID, err)
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}
