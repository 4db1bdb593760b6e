package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

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
func (db *DB) Agent(ctx context.Context, id string) (*handoff.Agent, error) {
	var a *handoff.Agent
	err := db.view(ctx, func(tx *bbolt.Tx) (err error) {
		a, err = getAgent(tx.Bucket(bucketAgents), id)
		return err
	})
	return a, err
}

// AgentByEmail returns the agent with the email, compared without case,
// or bot.ErrNotFound.
func (db *DB) AgentByEmail(ctx context.Context, email string) (*handoff.Agent, error) {
	var a *handoff.Agent
	err := db.view(ctx, func(tx *bbolt.Tx) (err error) {
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
func (db *DB) Agents(ctx context.Context) ([]handoff.Agent, error) {
	var out []handoff.Agent
	err := db.view(ctx, func(tx *bbolt.Tx) error {
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
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// SaveAgent creates or replaces a and keeps the email index in step. An
// email that belongs to another agent is refused with
// handoff.ErrEmailTaken. When SaveAgent returns nil, a is on disk.
func (db *DB) SaveAgent(ctx context.Context, a *handoff.Agent) error {
	if a.ID == "" || strings.TrimSpace(a.Email) == "" {
		return errors.New("save agent: no id or email")
	}
	return db.update(ctx, func(tx *bbolt.Tx) error {
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
func (db *DB) SaveSession(ctx context.Context, s handoff.Session) error {
	if len(s.TokenHash) == 0 || s.AgentID == "" {
		return errors.New("save session: no token hash or agent")
	}
	return db.update(ctx, func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bucketSessions), string(s.TokenHash), s)
	})
}

// Session returns the session stored under tokenHash, or bot.ErrNotFound.
func (db *DB) Session(ctx context.Context, tokenHash []byte) (*handoff.Session, error) {
	var s handoff.Session
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		return getJSON(tx.Bucket(bucketSessions), string(tokenHash), &s)
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteSessions deletes the sessions match selects and returns how many.
// When it returns nil, they are gone from disk.
func (db *DB) DeleteSessions(ctx context.Context, match func(handoff.Session) bool) (int, error) {
	n := 0
	err := db.update(ctx, func(tx *bbolt.Tx) error {
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
func (db *DB) Ticket(ctx context.Context, conversationID string) (*handoff.Ticket, error) {
	var t handoff.Ticket
	err := db.view(ctx, func(tx *bbolt.Tx) error {
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
func (db *DB) OpenTickets(ctx context.Context) ([]handoff.Ticket, error) {
	var out []handoff.Ticket
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		tickets := tx.Bucket(bucketTickets)
		return tx.Bucket(bucketOpenTickets).ForEach(func(conv, id []byte) error {
			var t handoff.Ticket
			if err := getJSON(tickets, string(id), &t); err != nil {
				return fmt.Errorf("open ticket of %s: %w", conv, err)
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// UpdateTicket is a compare-and-set on the conversation's open ticket,
// done in one bbolt write transaction (see handoff.TicketStore). When it
// returns nil, the ticket is on disk.
func (db *DB) UpdateTicket(ctx context.Context, conversationID string, fn func(*handoff.Ticket) error) (handoff.Ticket, error) {
	var t handoff.Ticket
	err := db.update(ctx, func(tx *bbolt.Tx) error {
		tickets, open := tx.Bucket(bucketTickets), tx.Bucket(bucketOpenTickets)
		t = handoff.Ticket{ConversationID: conversationID}
		if id := open.Get([]byte(conversationID)); id != nil {
			if err := getJSON(tickets, string(id), &t); err != nil {
				return fmt.Errorf("open ticket of %s: %w", conversationID, err)
			}
		}
		oldID := t.ID
		if err := fn(&t); err != nil {
			return err
		}
		switch {
		case t.ID == "":
			return fmt.Errorf("update ticket of %s: no ticket id", conversationID)
		case t.ConversationID != conversationID:
			return fmt.Errorf("update ticket of %s: ticket moved to conversation %s", conversationID, t.ConversationID)
		case oldID != "" && t.ID != oldID:
			return fmt.Errorf("update ticket of %s: id changed from %s to %s", conversationID, oldID, t.ID)
		case oldID == "" && tickets.Get([]byte(t.ID)) != nil:
			return fmt.Errorf("update ticket of %s: ticket %s exists", conversationID, t.ID)
		}
		if oldID == "" {
			hist := tx.Bucket(bucketTicketHistory)
			seq, err := hist.NextSequence()
			if err != nil {
				return err
			}
			if err := hist.Put(append(historyPrefix(conversationID), u64(seq)...), []byte(t.ID)); err != nil {
				return err
			}
		}
		if t.Open() {
			if err := open.Put([]byte(conversationID), []byte(t.ID)); err != nil {
				return err
			}
		} else if err := open.Delete([]byte(conversationID)); err != nil {
			return err
		}
		return putJSON(tickets, t.ID, t)
	})
	if err != nil {
		return handoff.Ticket{}, err
	}
	return t, nil
}
