package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// Tx is one transaction as the core sees it: it implements bot.Tx, and
// handoff.TicketTx for the queue's records. A Tx from View is read-only.
type Tx struct {
	btx *bbolt.Tx
	m   *memos
	// dirty: the act has written something (see DB.commit).
	dirty bool
	hooks []func()
}

var _ bot.Tx = (*Tx)(nil)

// memos returns the DB's memos, or fresh ones for a Tx made without them
// (a test's, or a migration's): correct, only without the memo's saving.
func (tx *Tx) memos() *memos {
	if tx.m == nil {
		tx.m = newMemos()
	}
	return tx.m
}

// written marks the act as having written, before it writes.
func (tx *Tx) written() error {
	if !tx.btx.Writable() {
		return bbolt.ErrTxNotWritable
	}
	tx.dirty = true
	return nil
}

// OnCommit implements bot.Tx.
func (tx *Tx) OnCommit(f func()) { tx.hooks = append(tx.hooks, f) }

// Customer implements bot.Tx.
func (tx *Tx) Customer(id string) (*bot.Customer, error) {
	return tx.memos().customers.get(tx.btx.Bucket(bucketCustomers), id)
}

// CustomerByIdentity implements bot.Tx.
func (tx *Tx) CustomerByIdentity(id bot.Identity) (*bot.Customer, error) {
	return tx.customerBy(bucketIdentities, identityKey(id))
}

// CustomerByEmail returns the customer with the email address (compared
// without case), or bot.ErrNotFound.
func (tx *Tx) CustomerByEmail(email string) (*bot.Customer, error) {
	return tx.customerBy(bucketEmails, emailKey(email))
}

func (tx *Tx) customerBy(index, key []byte) (*bot.Customer, error) {
	id := tx.btx.Bucket(index).Get(key)
	if id == nil {
		return nil, bot.ErrNotFound
	}
	return tx.Customer(string(id))
}

// PutCustomer implements bot.Tx.
func (tx *Tx) PutCustomer(c *bot.Customer) error {
	if c.ID == "" {
		return errors.New("save customer: no id")
	}
	if err := tx.written(); err != nil {
		return err
	}
	return saveCustomer(tx.btx, tx.memos(), c)
}

// Conversation implements bot.Tx.
func (tx *Tx) Conversation(id string) (*bot.Conversation, error) {
	return tx.memos().conversations.get(tx.btx.Bucket(bucketConversations), id)
}

// Conversations implements bot.Tx.
func (tx *Tx) Conversations(customerID string) ([]bot.Conversation, error) {
	return conversationsOf(tx.btx, customerID)
}

// PutConversation implements bot.Tx.
func (tx *Tx) PutConversation(c *bot.Conversation) error {
	if c.ID == "" || c.CustomerID == "" {
		return errors.New("save conversation: no id or customer")
	}
	if err := tx.written(); err != nil {
		return err
	}
	convs := tx.btx.Bucket(bucketConversations)
	switch old, err := tx.memos().conversations.get(convs, c.ID); {
	case errors.Is(err, bot.ErrNotFound):
		if err := tx.btx.Bucket(bucketByCustomer).Put(byCustomerKey(c.CustomerID, c.ID), nil); err != nil {
			return err
		}
	case err != nil:
		return err
	case old.CustomerID != c.CustomerID:
		return fmt.Errorf("save conversation %s: it belongs to customer %s, not %s", c.ID, old.CustomerID, c.CustomerID)
	}
	if err := markStatsDirty(tx.btx, c.ID); err != nil {
		return err
	}
	if err := indexFollowup(tx.btx, c); err != nil {
		return err
	}
	return tx.memos().conversations.put(convs, c.ID, c)
}

// Messages implements bot.Tx.
func (tx *Tx) Messages(conversationID string, after int64, limit int) ([]bot.Message, error) {
	var out []bot.Message
	err := eachMessage(tx.btx, conversationID, after, func(m *bot.Message) error {
		if out = append(out, *m); len(out) == limit {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return out, nil
}

// errEnough ends a walk early without a failure.
var errEnough = errors.New("enough")

// eachMessage calls fn with the conversation's messages after seq
// after, in seq order, until fn returns an error, which it returns.
// Client ids, which follow the messages in the log, end the walk.
func eachMessage(btx *bbolt.Tx, conversationID string, after int64, fn func(*bot.Message) error) error {
	msgs := btx.Bucket(bucketMessages).Bucket([]byte(conversationID))
	if msgs == nil {
		return nil
	}
	cur := msgs.Cursor()
	for k, v := cur.Seek(u64(uint64(max(after, 0) + 1))); isSeqKey(k); k, v = cur.Next() {
		var m bot.Message
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode message %d of %s: %w", binary.BigEndian.Uint64(k), conversationID, err)
		}
		if err := fn(&m); err != nil {
			return err
		}
	}
	return nil
}

// MessageByClientID implements bot.Tx.
func (tx *Tx) MessageByClientID(conversationID, clientID string) (*bot.Message, error) {
	msgs := tx.btx.Bucket(bucketMessages).Bucket([]byte(conversationID))
	if msgs == nil {
		return nil, bot.ErrNotFound
	}
	seq := msgs.Get(clientIDKey(clientID))
	if seq == nil {
		return nil, bot.ErrNotFound
	}
	data := msgs.Get(seq)
	if data == nil {
		return nil, fmt.Errorf("conversation %s: client id %q points at a missing message", conversationID, clientID)
	}
	var m bot.Message
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode message of %s: %w", conversationID, err)
	}
	return &m, nil
}

// EncodeMessage implements bot.MessageEncoder: the JSON PutMessage
// stores.
func (db *DB) EncodeMessage(m bot.Message) (*bot.Encoded, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &bot.Encoded{ConversationID: m.ConversationID, Seq: m.Seq, Time: m.Time, Data: data}, nil
}

// PutMessage implements bot.Tx. A seq already taken is refused: the log
// is append-only.
func (tx *Tx) PutMessage(m bot.Message) error {
	if m.ConversationID == "" || m.Seq <= 0 {
		return fmt.Errorf("save message: no conversation or seq")
	}
	if err := tx.written(); err != nil {
		return err
	}
	msgs, err := tx.btx.Bucket(bucketMessages).CreateBucketIfNotExists([]byte(m.ConversationID))
	if err != nil {
		return err
	}
	key := u64(uint64(m.Seq))
	if msgs.Get(key) != nil {
		return fmt.Errorf("save message: %s already has message %d", m.ConversationID, m.Seq)
	}
	// Messages arrive in seq order: tell bbolt to fill pages densely.
	msgs.FillPercent = 0.9
	var data []byte
	if m.Encoded.For(m) {
		data = m.Encoded.Data
	} else if data, err = json.Marshal(m); err != nil {
		return err
	}
	if err := msgs.Put(key, data); err != nil {
		return err
	}
	if m.ClientID != "" {
		if err := msgs.Put(clientIDKey(m.ClientID), key); err != nil {
			return err
		}
	}
	return nil
}

// A conversation's message log holds its messages under their seq (8
// bytes, big-endian) and, after them, the client ids its customer's
// messages came with: clientIDFlag, then the client id -> the seq. One
// bucket for both, so that a customer's message and its client id land
// on the same page: they were two buckets, and a turn wrote about two
// pages more. Seqs never reach the flag's byte, so the client ids sort
// after every message.
const clientIDFlag = 0xff

// clientIDKey is the key of a client id in its conversation's log.
func clientIDKey(id string) []byte { return append([]byte{clientIDFlag}, id...) }

// isSeqKey reports whether k, a key of a conversation's log, is a
// message's seq (not nil, not a client id).
func isSeqKey(k []byte) bool { return len(k) == 8 && k[0] != clientIDFlag }
