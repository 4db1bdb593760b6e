package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// The hand-off buckets. Keys are ids unless said otherwise.
var (
	bucketAgents        = []byte("agents")         // agent id -> JSON agentRecord
	bucketAgentEmails   = []byte("agent_emails")   // lower-cased email -> agent id
	bucketSessions      = []byte("agent_sessions") // SHA-256 of the session token -> JSON handoff.Session
	bucketTickets       = []byte("tickets")        // ticket id -> JSON handoff.Ticket
	bucketOpenTickets   = []byte("open_tickets")   // conversation id -> id of its open ticket
	bucketTicketHistory = []byte("ticket_history") // conversation id "\x00" seq (8 bytes BE) -> ticket id
)

// QueueStore serves the agent queue: agents, their sessions, tickets.
type QueueStore struct{ db *DB }

var _ handoff.Store = (*DB)(nil)

// agentRecord is an agent as stored: handoff.Agent keeps its password
// hash out of JSON so that it never reaches a client by accident, so the
// record carries it alongside.
type agentRecord struct {
	handoff.Agent
	PasswordHash string `json:"password_hash"`
}

func getAgent(b *bbolt.Bucket, id string) (*handoff.Agent, error) {
	var r agentRecord
	if err := getJSON(b, id, &r); err != nil {
		return nil, err
	}
	r.Agent.PasswordHash = r.PasswordHash
	return &r.Agent, nil
}

// Agent returns the agent with the id, or bot.ErrNotFound.
func (s QueueStore) Agent(ctx context.Context, id string) (*handoff.Agent, error) {
	var a *handoff.Agent
	err := s.db.view(ctx, func(tx *bbolt.Tx) (err error) {
		a, err = getAgent(tx.Bucket(bucketAgents), id)
		return err
	})
	return a, err
}

// AgentByEmail returns the agent with the email, compared without case,
// or bot.ErrNotFound.
func (s QueueStore) AgentByEmail(ctx context.Context, email string) (*handoff.Agent, error) {
	var a *handoff.Agent
	err := s.db.view(ctx, func(tx *bbolt.Tx) (err error) {
		id := tx.Bucket(bucketAgentEmails).Get(emailKey(email))
		if id == nil {
			return bot.ErrNotFound
		}
		a, err = getAgent(tx.Bucket(bucketAgents), string(id))
		return err
	})
	return a, err
}

// Agents returns every agent, ordered by name then id.
func (s QueueStore) Agents(ctx context.Context) ([]handoff.Agent, error) {
	var out []handoff.Agent
	err := s.db.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketAgents).ForEach(func(k, v []byte) error {
			var r agentRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode agent %q: %w", k, err)
			}
			r.Agent.PasswordHash = r.PasswordHash
			out = append(out, r.Agent)
			return nil
		})
	})
	handoff.SortAgents(out)
	return out, err
}

// SaveAgent creates or replaces a and keeps the email index in step. An
// email that belongs to another agent is refused with
// handoff.ErrEmailTaken. When SaveAgent returns nil, a is on disk.
func (s QueueStore) SaveAgent(ctx context.Context, a *handoff.Agent) error {
	if err := a.CheckSave(); err != nil {
		return err
	}
	return s.db.update(ctx, func(tx *bbolt.Tx) error {
		agents, emails := tx.Bucket(bucketAgents), tx.Bucket(bucketAgentEmails)
		if owner := emails.Get(emailKey(a.Email)); owner != nil && string(owner) != a.ID {
			return fmt.Errorf("save agent %s: %w", a.ID, handoff.ErrEmailTaken)
		}
		switch old, err := getAgent(agents, a.ID); {
		case errors.Is(err, bot.ErrNotFound):
		case err != nil:
			return err
		case !bytes.Equal(emailKey(old.Email), emailKey(a.Email)):
			if err := emails.Delete(emailKey(old.Email)); err != nil {
				return err
			}
		}
		if err := emails.Put(emailKey(a.Email), []byte(a.ID)); err != nil {
			return err
		}
		return putJSON(agents, a.ID, agentRecord{Agent: *a, PasswordHash: a.PasswordHash})
	})
}

// SaveSession stores s under s.TokenHash. When it returns nil, s is on
// disk.
func (s QueueStore) SaveSession(ctx context.Context, sess handoff.Session) error {
	if len(sess.TokenHash) == 0 || sess.AgentID == "" {
		return errors.New("save session: no token hash or agent")
	}
	return s.db.update(ctx, func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketSessions), string(sess.TokenHash), sess)
	})
}

// Session returns the session stored under tokenHash, or bot.ErrNotFound.
func (s QueueStore) Session(ctx context.Context, tokenHash []byte) (*handoff.Session, error) {
	var sess handoff.Session
	err := s.db.view(ctx, func(tx *bbolt.Tx) error {
		return getJSON(tx.Bucket(bucketSessions), string(tokenHash), &sess)
	})
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// DeleteSessions deletes the sessions match selects and returns how many.
// When it returns nil, they are gone from disk.
func (s QueueStore) DeleteSessions(ctx context.Context, match func(handoff.Session) bool) (int, error) {
	n := 0
	err := s.db.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var doomed [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var s handoff.Session
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("decode session: %w", err)
			}
			if match(s) {
				doomed = append(doomed, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func historyPrefix(conversationID string) []byte { return []byte(conversationID + "\x00") }

// Ticket returns the conversation's open ticket or, when none is open,
// its most recent closed one, or bot.ErrNotFound.
func (s QueueStore) Ticket(ctx context.Context, conversationID string) (*handoff.Ticket, error) {
	var t handoff.Ticket
	err := s.db.view(ctx, func(tx *bbolt.Tx) error {
		tickets := tx.Bucket(bucketTickets)
		if id := tx.Bucket(bucketOpenTickets).Get([]byte(conversationID)); id != nil {
			return getJSON(tickets, string(id), &t)
		}
		// The newest history entry is the last key with the prefix: seek
		// just past the prefix ("\x01" sorts after "\x00") and step back.
		cur := tx.Bucket(bucketTicketHistory).Cursor()
		prefix := historyPrefix(conversationID)
		k, v := cur.Seek([]byte(conversationID + "\x01"))
		if k == nil {
			k, v = cur.Last()
		} else {
			k, v = cur.Prev()
		}
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return bot.ErrNotFound
		}
		return getJSON(tickets, string(v), &t)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// OpenTickets returns every queued or assigned ticket, in conversation id
// order.
func (s QueueStore) OpenTickets(ctx context.Context) (out []handoff.Ticket, err error) {
	err = s.db.view(ctx, func(tx *bbolt.Tx) error { out, err = openTickets(tx); return err })
	return out, err
}

func openTickets(tx *bbolt.Tx) ([]handoff.Ticket, error) {
	var out []handoff.Ticket
	tickets := tx.Bucket(bucketTickets)
	err := tx.Bucket(bucketOpenTickets).ForEach(func(conv, id []byte) error {
		var t handoff.Ticket
		if err := getJSON(tickets, string(id), &t); err != nil {
			return fmt.Errorf("open ticket of %s: %w", conv, err)
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// TicketsIn returns the queue's records inside an act's transaction,
// which must be one of this store's.
func (s QueueStore) TicketsIn(tx bot.Tx) handoff.TicketTx { return tx.(*Tx) }

// UpdateTicket is a compare-and-set on the conversation's open ticket,
// done in one act (see handoff.TicketStore). When it returns nil, the
// ticket is on disk.
func (s QueueStore) UpdateTicket(ctx context.Context, conversationID string, fn func(*handoff.Ticket) error) (handoff.Ticket, error) {
	var t handoff.Ticket
	err := s.db.Update(ctx, func(btx bot.Tx) error {
		tx := btx.(*Tx)
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
	id := tx.btx.Bucket(bucketOpenTickets).Get([]byte(conversationID))
	if id == nil {
		return nil, bot.ErrNotFound
	}
	var t handoff.Ticket
	if err := getJSON(tx.btx.Bucket(bucketTickets), string(id), &t); err != nil {
		return nil, fmt.Errorf("open ticket of %s: %w", conversationID, err)
	}
	return &t, nil
}

// OpenTickets implements handoff.TicketTx.
func (tx *Tx) OpenTickets() ([]handoff.Ticket, error) { return openTickets(tx.btx) }

// Agent implements handoff.TicketTx.
func (tx *Tx) Agent(id string) (*handoff.Agent, error) {
	return getAgent(tx.btx.Bucket(bucketAgents), id)
}

// PutTicket implements handoff.TicketTx: a ticket not stored before joins
// its conversation's history; the open index follows t.Open().
func (tx *Tx) PutTicket(t *handoff.Ticket) error {
	if t.ID == "" || t.ConversationID == "" {
		return fmt.Errorf("save ticket: no id or conversation")
	}
	if err := tx.written(); err != nil {
		return err
	}
	tickets, open := tx.btx.Bucket(bucketTickets), tx.btx.Bucket(bucketOpenTickets)
	if cur := open.Get([]byte(t.ConversationID)); cur != nil && string(cur) != t.ID && t.Open() {
		return fmt.Errorf("save ticket %s: conversation %s has open ticket %s", t.ID, t.ConversationID, cur)
	}
	if tickets.Get([]byte(t.ID)) == nil {
		hist := tx.btx.Bucket(bucketTicketHistory)
		seq, err := hist.NextSequence()
		if err != nil {
			return err
		}
		if err := hist.Put(append(historyPrefix(t.ConversationID), u64(seq)...), []byte(t.ID)); err != nil {
			return err
		}
	}
	if err := indexClosed(tx.btx, t); err != nil {
		return err
	}
	if t.Open() {
		if err := open.Put([]byte(t.ConversationID), []byte(t.ID)); err != nil {
			return err
		}
	} else if cur := open.Get([]byte(t.ConversationID)); cur != nil && string(cur) == t.ID {
		if err := open.Delete([]byte(t.ConversationID)); err != nil {
			return err
		}
	}
	return putJSON(tickets, t.ID, t)
}
