package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frontdesk/frontdesk/bot"
)

// querier is a transaction or the pool.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Tx is one transaction as the core sees it: it implements bot.Tx, and
// handoff.TicketTx for the queue's records. A Tx from View is read-only.
type Tx struct {
	ctx   context.Context
	q     querier
	write bool
	hooks []func()
	// appended: the first and last seq appended per conversation, in
	// order, announced at commit.
	appended map[string][2]int64
	order    []string
	// events: the act's other events (bot.Announcer), announced at
	// commit behind its messages.
	events []string
}

var _ bot.Announcer = (*Tx)(nil)

// Announce implements bot.Announcer: e is announced with the commit, so
// every node delivers the acts' events in the order the acts committed.
// An event too big for a notification is dropped (a Bus may lose
// events, never a message).
func (tx *Tx) Announce(e bot.Event) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if len(data)+2 <= maxPayload {
		tx.events = append(tx.events, "e "+string(data))
	}
	return nil
}

var _ bot.Tx = (*Tx)(nil)

// errReadOnly is returned by a Put of a read-only transaction.
var errReadOnly = errors.New("write in a read-only transaction")

// OnCommit implements bot.Tx.
func (tx *Tx) OnCommit(f func()) { tx.hooks = append(tx.hooks, f) }

func (tx *Tx) writable() error {
	if !tx.write {
		return errReadOnly
	}
	return nil
}

// lock is the row-lock clause of a read in a write transaction: an act
// that reads a record to change it holds it, so a concurrent act on it
// waits rather than computing on what is about to change.
func (tx *Tx) lock() string {
	if tx.write {
		return " FOR UPDATE"
	}
	return ""
}

// getJSON decodes the one column of the one row sql selects into v, or
// returns bot.ErrNotFound.
func (tx *Tx) getJSON(v any, what, sql string, args ...any) error {
	var raw []byte
	err := tx.q.QueryRow(tx.ctx, sql, args...).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return bot.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

// listJSON decodes the first column of each row sql selects.
func listJSON[T any](tx *Tx, what, sql string, args ...any) ([]T, error) {
	rows, err := tx.q.Query(tx.ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	var out []T
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decode %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// keyedJSON reads rows of (key, JSON document) by the query, each
// document decoded as a T, by key; what names them in errors.
func keyedJSON[T any](tx *Tx, what, sql string, args ...any) (map[string]T, error) {
	rows, err := tx.q.Query(tx.ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	out := map[string]T{}
	for rows.Next() {
		var k string
		var raw []byte
		if err := rows.Scan(&k, &raw); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", what, k, err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// nanos is t as Unix nanoseconds for ordering, clamped to int64 (the zero
// time sorts first).
func nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Customer implements bot.Tx.
func (tx *Tx) Customer(id string) (*bot.Customer, error) {
	var c bot.Customer
	if err := tx.getJSON(&c, "customer", "SELECT data FROM customers WHERE id = $1"+tx.lock(), id); err != nil {
		return nil, err
	}
	return &c, nil
}

// CustomerByIdentity implements bot.Tx.
func (tx *Tx) CustomerByIdentity(id bot.Identity) (*bot.Customer, error) {
	var c bot.Customer
	err := tx.getJSON(&c, "customer", `SELECT c.data FROM customer_identities i JOIN customers c ON c.id = i.customer_id
		WHERE i.channel = $1 AND i.external_id = $2`, string(id.Channel), id.ID)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CustomerByEmail returns the customer with the email address (compared
// without case), or bot.ErrNotFound.
func (tx *Tx) CustomerByEmail(email string) (*bot.Customer, error) {
	var c bot.Customer
	err := tx.getJSON(&c, "customer", `SELECT c.data FROM customer_emails e JOIN customers c ON c.id = e.customer_id
		WHERE e.email = $1`, emailKey(email))
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// PutCustomer implements bot.Tx: it stores c and moves its identity and
// email indexes (identities c no longer has are released; the newest
// customer to give an email address is found by it).
func (tx *Tx) PutCustomer(c *bot.Customer) error {
	if c.ID == "" {
		return errors.New("save customer: no id")
	}
	if err := tx.writable(); err != nil {
		return err
	}
	var chans, ids []string
	for _, id := range c.Identities {
		chans, ids = append(chans, string(id.Channel)), append(ids, id.ID)
	}
	var taken string
	err := tx.q.QueryRow(tx.ctx, `SELECT channel FROM customer_identities
		WHERE (channel, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND customer_id <> $3 LIMIT 1`,
		chans, ids, c.ID).Scan(&taken)
	switch {
	case err == nil:
		return fmt.Errorf("save customer %s: %s identity: %w", c.ID, taken, bot.ErrIdentityTaken)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("save customer %s: %w", c.ID, err)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode customer %s: %w", c.ID, err)
	}
	b := &pgx.Batch{}
	b.Queue("DELETE FROM customer_identities WHERE customer_id = $1", c.ID)
	b.Queue(`INSERT INTO customer_identities (channel, external_id, customer_id)
		SELECT DISTINCT ch, id, $3 FROM unnest($1::text[], $2::text[]) AS n(ch, id)`, chans, ids, c.ID)
	b.Queue("DELETE FROM customer_emails WHERE customer_id = $1 AND email <> $2", c.ID, emailKey(c.Email))
	if c.Email != "" {
		b.Queue(`INSERT INTO customer_emails (email, customer_id) VALUES ($1, $2)
			ON CONFLICT (email) DO UPDATE SET customer_id = EXCLUDED.customer_id`, emailKey(c.Email), c.ID)
	}
	b.Queue(`INSERT INTO customers (id, last_seen, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET last_seen = EXCLUDED.last_seen, data = EXCLUDED.data`, c.ID, nanos(c.LastSeen), data)
	if err := tx.q.(batcher).SendBatch(tx.ctx, b).Close(); err != nil {
		return fmt.Errorf("save customer %s: %w", c.ID, err)
	}
	return nil
}

// batcher is a transaction (a write Tx's querier).
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Conversation implements bot.Tx.
func (tx *Tx) Conversation(id string) (*bot.Conversation, error) {
	var c bot.Conversation
	if err := tx.getJSON(&c, "conversation", "SELECT data FROM conversations WHERE id = $1"+tx.lock(), id); err != nil {
		return nil, err
	}
	return &c, nil
}

// Conversations implements bot.Tx: newest first, as created (ties in id
// order, as store/bolt has them).
func (tx *Tx) Conversations(customerID string) ([]bot.Conversation, error) {
	return listJSON[bot.Conversation](tx, "conversations",
		`SELECT data FROM conversations WHERE customer_id = $1 ORDER BY created DESC, id COLLATE "C"`, customerID)
}

// PutConversation implements bot.Tx. A conversation never changes
// customer.
func (tx *Tx) PutConversation(c *bot.Conversation) error {
	if c.ID == "" || c.CustomerID == "" {
		return errors.New("save conversation: no id or customer")
	}
	if err := tx.writable(); err != nil {
		return err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode conversation %s: %w", c.ID, err)
	}
	var owner string
	err = tx.q.QueryRow(tx.ctx, `INSERT INTO conversations AS c (id, customer_id, channel, created, updated, data) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET channel = EXCLUDED.channel, created = EXCLUDED.created, updated = EXCLUDED.updated, data = EXCLUDED.data
		WHERE c.customer_id = EXCLUDED.customer_id
		RETURNING customer_id`, c.ID, c.CustomerID, string(c.Channel), nanos(c.Created), nanos(c.Updated), data).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := tx.q.QueryRow(tx.ctx, "SELECT customer_id FROM conversations WHERE id = $1", c.ID).Scan(&owner); err != nil {
			return fmt.Errorf("save conversation %s: %w", c.ID, err)
		}
		return fmt.Errorf("save conversation %s: it belongs to customer %s, not %s", c.ID, owner, c.CustomerID)
	}
	if err != nil {
		return fmt.Errorf("save conversation %s: %w", c.ID, err)
	}
	return tx.indexConversation(c)
}

// Messages implements bot.Tx.
func (tx *Tx) Messages(conversationID string, after int64, limit int) ([]bot.Message, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	return listJSON[bot.Message](tx, "messages of "+conversationID,
		"SELECT data FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", conversationID, max(after, 0), lim)
}

// MessageByClientID implements bot.Tx.
func (tx *Tx) MessageByClientID(conversationID, clientID string) (*bot.Message, error) {
	var m bot.Message
	err := tx.getJSON(&m, "message of "+conversationID,
		"SELECT data FROM messages WHERE conversation_id = $1 AND client_id = $2", conversationID, clientID)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// PutMessage implements bot.Tx. A seq already taken is refused: the log
// is append-only. A client id already stored in the conversation fails
// the act as a race, so it runs again and finds the stored message.
func (tx *Tx) PutMessage(m bot.Message) error {
	if m.ConversationID == "" || m.Seq <= 0 {
		return fmt.Errorf("save message: no conversation or seq")
	}
	if err := tx.writable(); err != nil {
		return err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	var clientID *string
	if m.ClientID != "" {
		clientID = &m.ClientID
	}
	tag, err := tx.q.Exec(tx.ctx, `INSERT INTO messages (conversation_id, seq, client_id, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (conversation_id, seq) DO NOTHING`, m.ConversationID, m.Seq, clientID, data)
	if err != nil {
		return fmt.Errorf("save message %d of %s: %w", m.Seq, m.ConversationID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("save message: %s already has message %d", m.ConversationID, m.Seq)
	}
	if tx.appended == nil {
		tx.appended = map[string][2]int64{}
	}
	s, ok := tx.appended[m.ConversationID]
	if !ok {
		s[0] = m.Seq
		tx.order = append(tx.order, m.ConversationID)
	}
	s[0], s[1] = min(s[0], m.Seq), max(s[1], m.Seq)
	tx.appended[m.ConversationID] = s
	return nil
}
