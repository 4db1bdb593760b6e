package bolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// memoSize bounds how many records of a kind a memo keeps.
const memoSize = 4096

// memo keeps the decoded form of recently read or written records of one
// kind, each with the bytes it was decoded from. A customer turn reads
// its conversation and customer for the snapshot, again in its act, and
// the customer once more to move its indexes; JSON decoding was a quarter
// of the server's CPU at a peak. A record is taken from the memo only
// when its stored bytes equal the memo's, so a write the memo did not see
// (or a rolled-back one it did) costs a decode, never a stale read.
// Callers get their own copy, to change as they like.
type memo[T any] struct {
	name  string
	clone func(*T) *T

	mu sync.Mutex
	m  map[string]memoEntry[T]
}

type memoEntry[T any] struct {
	raw []byte
	v   *T
}

// get decodes the record at key in b, or returns bot.ErrNotFound.
func (c *memo[T]) get(b *bbolt.Bucket, key string) (*T, error) {
	raw := b.Get([]byte(key))
	if raw == nil {
		return nil, bot.ErrNotFound
	}
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, raw) {
		return c.clone(e.v), nil
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("decode %s %q: %w", c.name, key, err)
	}
	// bbolt's bytes live as long as the transaction: keep a copy.
	c.keep(key, bytes.Clone(raw), c.clone(v))
	return v, nil
}

// put encodes v and stores it at key in b.
func (c *memo[T]) put(b *bbolt.Bucket, key string, v *T) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %q: %w", c.name, key, err)
	}
	if err := b.Put([]byte(key), raw); err != nil {
		return err
	}
	c.keep(key, raw, c.clone(v))
	return nil
}

func (c *memo[T]) keep(key string, raw []byte, v *T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]memoEntry[T])
	}
	if _, ok := c.m[key]; !ok && len(c.m) >= memoSize {
		for k := range c.m { // one entry, as the map's order has it
			delete(c.m, k)
			break
		}
	}
	c.m[key] = memoEntry[T]{raw: raw, v: v}
}

// reset forgets every record, as after erasing some: what was erased does
// not stay in memory.
func (c *memo[T]) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// memos are a DB's memos of the records every turn reads.
type memos struct {
	customers     memo[bot.Customer]
	conversations memo[bot.Conversation]
}

func newMemos() *memos {
	return &memos{
		customers:     memo[bot.Customer]{name: "customer", clone: cloneCustomer},
		conversations: memo[bot.Conversation]{name: "conversation", clone: cloneConversation},
	}
}

func (m *memos) reset() {
	m.customers.reset()
	m.conversations.reset()
}

// cloneCustomer copies c and everything it refers to.
func cloneCustomer(c *bot.Customer) *bot.Customer {
	d := *c
	d.Tags = slices.Clone(c.Tags)
	d.Attrs = maps.Clone(c.Attrs)
	d.Identities = slices.Clone(c.Identities)
	d.Topics = slices.Clone(c.Topics)
	return &d
}

// cloneConversation copies c and everything it refers to.
func cloneConversation(c *bot.Conversation) *bot.Conversation {
	d := *c
	d.Questions = slices.Clone(c.Questions)
	if c.Last != nil {
		last := *c.Last
		d.Last = &last
	}
	return &d
}
