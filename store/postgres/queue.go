package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// QueueStore serves the agent queue: agents, their sessions, tickets.
type QueueStore struct{ db *DB }

var _ handoff.Store = (*DB)(nil)

// agentRecord is an agent as stored: handoff.Agent keeps its password
// hash out of JSON so that it never reaches a client by accident, so the
// record carries it alongside (as in store/bolt).
type agentRecord struct {
	handoff.Agent
	PasswordHash string `json:"password_hash"`
}

func (r *agentRecord) agent() *handoff.Agent {
	r.Agent.PasswordHash = r.PasswordHash
	return &r.Agent
}

// Agent implements handoff.TicketTx.
func (tx *Tx) Agent(id string) (*handoff.Agent, error) {
	var r agentRecord
	if err := tx.getJSON(&r, "agent", "SELECT data FROM agents WHERE id = $1", id); err != nil {
		return nil, err
	}
	return r.agent(), nil
}

// Agent returns the agent with the id, or bot.ErrNotFound.
func (s QueueStore) Agent(ctx context.Context, id string) (a *handoff.Agent, err error) {
	err = s.db.read(ctx, func(tx *Tx) error { a, err = tx.Agent(id); return err })
	return a, err
}

// AgentByEmail returns the agent with the email, compared without case,
// or bot.ErrNotFound.
func (s QueueStore) AgentByEmail(ctx context.Context, email string) (*handoff.Agent, error) {
	var r agentRecord
	err := s.db.read(ctx, func(tx *Tx) error {
		return tx.getJSON(&r, "agent", "SELECT data FROM agents WHERE email = $1", emailKey(email))
	})
	if err != nil {
		return nil, err
	}
	return r.agent(), nil
}

// Agents returns every agent, ordered by name then id.
func (s QueueStore) Agents(ctx context.Context) ([]handoff.Agent, error) {
	var recs []agentRecord
	err := s.db.read(ctx, func(tx *Tx) (err error) {
		recs, err = listJSON[agentRecord](tx, "agents", "SELECT data FROM agents")
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]handoff.Agent, len(recs))
	for i := range recs {
		out[i] = *recs[i].agent()
	}
	handoff.SortAgents(out)
	return out, nil
}

// SaveAgent creates or replaces a, keeping emails unique: an email that
// belongs to another agent is refused with handoff.ErrEmailTaken.
func (s QueueStore) SaveAgent(ctx context.Context, a *handoff.Agent) error {
	if err := a.CheckSave(); err != nil {
		return err
	}
	data, err := json.Marshal(agentRecord{Agent: *a, PasswordHash: a.PasswordHash})
	if err != nil {
		return fmt.Errorf("encode agent %s: %w", a.ID, err)
	}
	return s.db.update(ctx, func(tx *Tx) error {
		var owner string
		err := tx.q.QueryRow(tx.ctx, "SELECT id FROM agents WHERE email = $1 AND id <> $2", emailKey(a.Email), a.ID).Scan(&owner)
		switch {
		case err == nil:
			return fmt.Errorf("save agent %s: %w", a.ID, handoff.ErrEmailTaken)
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("save agent %s: %w", a.ID, err)
		}
		_, err = tx.q.Exec(tx.ctx, `INSERT INTO agents (id, email, data) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, data = EXCLUDED.data`, a.ID, emailKey(a.Email), data)
		if err != nil {
			return fmt.Errorf("save agent %s: %w", a.ID, err)
		}
		return nil
	})
}

// SaveSession stores s under s.TokenHash.
func (s QueueStore) SaveSession(ctx context.Context, sess handoff.Session) error {
	if len(sess.TokenHash) == 0 || sess.AgentID == "" {
		return errors.New("save session: no token hash or agent")
	}
	data, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	return s.db.update(ctx, func(tx *Tx) error {
		_, err := tx.q.Exec(tx.ctx, `INSERT INTO agent_sessions (token_hash, agent_id, data) VALUES ($1, $2, $3)
			ON CONFLICT (token_hash) DO UPDATE SET agent_id = EXCLUDED.agent_id, data = EXCLUDED.data`, sess.TokenHash, sess.AgentID, data)
		if err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		return nil
	})
}

// Session returns the session stored under tokenHash, or bot.ErrNotFound.
func (s QueueStore) Session(ctx context.Context, tokenHash []byte) (*handoff.Session, error) {
	var sess handoff.Session
	err := s.db.read(ctx, func(tx *Tx) error {
		return tx.getJSON(&sess, "session", "SELECT data FROM agent_sessions WHERE token_hash = $1", tokenHash)
	})
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// DeleteSessions deletes the sessions match selects, in one act, and
// returns how many.
func (s QueueStore) DeleteSessions(ctx context.Context, match func(handoff.Session) bool) (int, error) {
	n := 0
	err := s.db.update(ctx, func(tx *Tx) error {
		all, err := listJSON[handoff.Session](tx, "sessions", "SELECT data FROM agent_sessions FOR UPDATE")
		if err != nil {
			return err
		}
		var doomed [][]byte
		for _, s := range all {
			if match(s) {
				doomed = append(doomed, s.TokenHash)
			}
		}
		n = len(doomed)
		if n == 0 {
			return nil
		}
		_, err = tx.q.Exec(tx.ctx, "DELETE FROM agent_sessions WHERE token_hash = ANY($1)", doomed)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Ticket returns the conversation's open ticket or, when none is open,
// its most recent one, or bot.ErrNotFound.
func (s QueueStore) Ticket(ctx context.Context, conversationID string) (*handoff.Ticket, error) {
	var t handoff.Ticket
	err := s.db.read(ctx, func(tx *Tx) error {
		return tx.getJSON(&t, "ticket of "+conversationID,
			"SELECT data FROM tickets WHERE conversation_id = $1 ORDER BY open DESC, history DESC LIMIT 1", conversationID)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// OpenTickets returns every queued or assigned ticket, in conversation id
// order.
func (s QueueStore) OpenTickets(ctx context.Context) (out []handoff.Ticket, err error) {
	err = s.db.read(ctx, func(tx *Tx) error { out, err = tx.OpenTickets(); return err })
	return out, err
}

// ClosedTickets returns up to limit closed tickets that closed before
// before (any time when zero), the most recently closed first.
func (s QueueStore) ClosedTickets(ctx context.Context, before time.Time, limit int) (out []handoff.Ticket, err error) {
	if limit <= 0 {
		return nil, nil
	}
	bound := int64(1<<63 - 1)
	if !before.IsZero() {
		if bound = before.UnixNano(); bound < 0 {
			return nil, nil
		}
	}
	err = s.db.read(ctx, func(tx *Tx) error {
		out, err = listJSON[handoff.Ticket](tx, "closed tickets",
			`SELECT data FROM tickets WHERE closed_at IS NOT NULL AND closed_at < $1
			ORDER BY closed_at DESC, id COLLATE "C" DESC LIMIT $2`, bound, limit)
		return err
	})
	return out, err
}

// TicketsIn returns the queue's records inside an act's transaction,
// which must be one of this store's.
func (s QueueStore) TicketsIn(tx bot.Tx) handoff.TicketTx { return tx.(*Tx) }

// UpdateTicket is a compare-and-set on the conversation's open ticket,
// done in one act (see handoff.TicketStore). fn may run again if the act
// loses a race with another node's.
func (s QueueStore) UpdateTicket(ctx context.Context, conversationID string, fn func(*handoff.Ticket) error) (handoff.Ticket, error) {
	var t handoff.Ticket
	err := s.db.update(ctx, func(tx *Tx) error {
		var err error
		t, err = handoff.UpdateTicketIn(tx, conversationID, fn)
		return err
	})
	if err != nil {
		return handoff.Ticket{}, err
	}
	return t, nil
}

// OpenTicket implements handoff.TicketTx.
func (tx *Tx) OpenTicket(conversationID string) (*handoff.Ticket, error) {
	var t handoff.Ticket
	err := tx.getJSON(&t, "open ticket of "+conversationID,
		"SELECT data FROM tickets WHERE conversation_id = $1 AND open"+tx.lock(), conversationID)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// OpenTickets implements handoff.TicketTx.
func (tx *Tx) OpenTickets() ([]handoff.Ticket, error) {
	return listJSON[handoff.Ticket](tx, "open tickets", `SELECT data FROM tickets WHERE open ORDER BY conversation_id COLLATE "C"`)
}

// PutTicket implements handoff.TicketTx: a ticket not stored before joins
// its conversation's history; a conversation has one open ticket at most.
func (tx *Tx) PutTicket(t *handoff.Ticket) error {
	if t.ID == "" || t.ConversationID == "" {
		return fmt.Errorf("save ticket: no id or conversation")
	}
	if err := tx.writable(); err != nil {
		return err
	}
	if t.Open() {
		var cur string
		err := tx.q.QueryRow(tx.ctx, "SELECT id FROM tickets WHERE conversation_id = $1 AND open AND id <> $2", t.ConversationID, t.ID).Scan(&cur)
		switch {
		case err == nil:
			return fmt.Errorf("save ticket %s: conversation %s has open ticket %s", t.ID, t.ConversationID, cur)
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("save ticket %s: %w", t.ID, err)
		}
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode ticket %s: %w", t.ID, err)
	}
	var closedAt *int64
	if !t.Open() && !t.ClosedAt.IsZero() {
		n := max(t.ClosedAt.UnixNano(), 0)
		closedAt = &n
	}
	_, err = tx.q.Exec(tx.ctx, `INSERT INTO tickets (id, conversation_id, open, closed_at, created, first_reply, data) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET open = EXCLUDED.open, closed_at = coalesce(EXCLUDED.closed_at, tickets.closed_at),
			created = EXCLUDED.created, first_reply = EXCLUDED.first_reply, data = EXCLUDED.data`,
		t.ID, t.ConversationID, t.Open(), closedAt, nanosOrNull(t.Created), nanosOrNull(t.FirstReplyAt), data)
	if err != nil {
		return fmt.Errorf("save ticket %s: %w", t.ID, err)
	}
	return nil
}
