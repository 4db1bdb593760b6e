package handoff

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// Presence is whether an agent is at the console and taking work.
type Presence string

// Presences. Only online agents are given work; away agents keep their
// conversations but get no new ones.
const (
	PresenceOffline Presence = "offline"
	PresenceOnline  Presence = "online"
	PresenceAway    Presence = "away"
)

// Heartbeat records that the agent's console is alive and whether the
// agent is online or away; PresenceOffline signs the agent off at once.
// Without a heartbeat for Options.PresenceTimeout an agent counts as
// offline. An agent who comes online is given waiting tickets at once
// (unless assignment is manual). Disabled agents cannot beat
// (ErrDisabled).
func (q *Queue) Heartbeat(ctx context.Context, agentID string, p Presence) error {
	if p != PresenceOnline && p != PresenceAway && p != PresenceOffline {
		return fmt.Errorf("heartbeat of %s: %w: presence %q", agentID, ErrInvalid, p)
	}
	if _, err := usableAgent(ctx, q.store, agentID); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	q.beat.Lock()
	now := q.now()
	before, err := q.opts.Presence.Beat(ctx, agentID, p, now, q.opts.PresenceTimeout)
	if err != nil {
		q.beat.Unlock()
		return fmt.Errorf("heartbeat of %s: %w", agentID, err)
	}
	if before != p {
		q.publish(Event{Kind: EventPresence, Agent: agentID, Presence: p, At: now})
	}
	q.beat.Unlock()
	if p != PresenceOnline && before == PresenceOnline {
		// Offers the agent never looked at go back to the queue.
		if err := q.withdrawOffers(ctx, agentID); err != nil {
			return fmt.Errorf("heartbeat of %s: %w", agentID, err)
		}
	}
	if p == PresenceOnline && before != PresenceOnline || p != PresenceOnline && before == PresenceOnline {
		if err := q.dispatch(ctx); err != nil {
			return fmt.Errorf("heartbeat of %s: %w", agentID, err)
		}
	}
	return nil
}

// withdrawOffers puts the tickets offered to the agent and not yet
// accepted back into the waiting queue (see withdraw).
func (q *Queue) withdrawOffers(ctx context.Context, agentID string) error {
	_, err := q.withdraw(ctx, func(agent string) bool { return agent == agentID })
	return err
}

// withdrawStaleOffers puts back the offers of every agent who is not
// online now: one whose console went silent, or one offered work before
// a restart (presence in memory). It returns how many it put back.
func (q *Queue) withdrawStaleOffers(ctx context.Context) (int, error) {
	online, err := q.online(ctx, q.now())
	if err != nil {
		return 0, fmt.Errorf("withdraw offers: %w", err)
	}
	return q.withdraw(ctx, func(agent string) bool { _, ok := online[agent]; return !ok })
}

// withdraw puts the offered, unaccepted tickets of the agents gone says
// are gone back into the waiting queue, keeping their place (QueuedAt),
// each in one act; an EventWithdrawn follows each. The customer sees no
// change: an offered conversation waits in the queue as far as they know.
func (q *Queue) withdraw(ctx context.Context, gone func(agentID string) bool) (int, error) {
	open, err := q.store.OpenTickets(ctx)
	if err != nil {
		return 0, fmt.Errorf("withdraw offers: %w", err)
	}
	now, n := q.now(), 0
	for _, o := range open {
		if !o.Offered || !gone(o.Agent) {
			continue
		}
		agentID := o.Agent
		_, changed, err := q.change(ctx, o.ConversationID, func(_ *bot.Act, _ TicketTx, t *Ticket) ([]Event, error) {
			if t.ID != o.ID || t.Agent != agentID || !t.Offered || t.Status != StatusAssigned {
				return nil, errNoChange
			}
			t.Agent, t.Status, t.AssignedAt, t.Offered = "", StatusQueued, time.Time{}, false
			ev := *t
			return []Event{{Kind: EventWithdrawn, Ticket: &ev, Agent: agentID, At: now}}, nil
		})
		if err != nil {
			return n, fmt.Errorf("withdraw offer of %s: %w", o.ConversationID, err)
		}
		if changed {
			n++
			q.opts.Log.Info("offer withdrawn", "conversation", o.ConversationID, "agent", agentID)
		}
	}
	return n, nil
}

// presenceWait bounds a read of presence by the methods that take no
// context.
const presenceWait = 5 * time.Second

// present returns the agents not offline at now; on an error, which it
// logs, nobody.
func (q *Queue) present(now time.Time) map[string]AgentPresence {
	ctx, cancel := context.WithTimeout(context.Background(), presenceWait)
	defer cancel()
	ps, err := q.opts.Presence.Present(ctx, now, q.opts.PresenceTimeout)
	if err != nil {
		q.opts.Log.Error("read presence", "err", err)
	}
	return ps
}

// Presence returns the agent's presence now.
func (q *Queue) Presence(agentID string) Presence {
	if p, ok := q.present(q.now())[agentID]; ok {
		return p.Status
	}
	return PresenceOffline
}

// Presences returns the presence of every agent who is not offline.
func (q *Queue) Presences() map[string]Presence {
	out := map[string]Presence{}
	for id, p := range q.present(q.now()) {
		out[id] = p.Status
	}
	return out
}

// CheckPresence signs off agents whose console stopped beating, as of
// now, publishing an EventPresence for each (once across nodes sharing
// the presence). Run calls it periodically; presence is correct without
// it, only the events would be missing.
func (q *Queue) CheckPresence(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), presenceWait)
	defer cancel()
	q.beat.Lock()
	defer q.beat.Unlock()
	gone, err := q.opts.Presence.Expire(ctx, now, q.opts.PresenceTimeout)
	if err != nil {
		q.opts.Log.Error("expire presence", "err", err)
	}
	for _, id := range gone {
		q.publish(Event{Kind: EventPresence, Agent: id, Presence: PresenceOffline, At: now})
	}
}

// AgentPresence is an agent's presence as kept between heartbeats.
type AgentPresence struct {
	Status   Presence
	LastBeat time.Time
	// Since is when Status last changed.
	Since time.Time
	// LastAssigned is when the agent was last given a ticket from the
	// waiting queue (zero if not since coming online).
	LastAssigned time.Time
}

// PresenceStore keeps agents' presence for the queue: in memory on one
// node (the default), in the shared database when several nodes route
// (store/postgres), so that routing on any node sees the agents online
// on every node. Implementations must be safe for concurrent use.
type PresenceStore interface {
	// Beat records, as of now, the agent's heartbeat with status p
	// (PresenceOffline forgets the agent) and returns the agent's
	// presence just before it, an agent silent for longer than timeout
	// being offline.
	Beat(ctx context.Context, agentID string, p Presence, now time.Time, timeout time.Duration) (before Presence, err error)
	// Present returns the agents who are not offline at now, by id.
	Present(ctx context.Context, now time.Time, timeout time.Duration) (map[string]AgentPresence, error)
	// PresentIn is Present read inside tx, the transaction of an act
	// (routing a new ticket in its hand-off's act), so that the act
	// needs no second connection to the store.
	PresentIn(tx bot.Tx, now time.Time, timeout time.Duration) (map[string]AgentPresence, error)
	// Expire forgets the agents silent for longer than timeout at now and
	// returns those of them that were not offline, each once across the
	// nodes sharing the store.
	Expire(ctx context.Context, now time.Time, timeout time.Duration) ([]string, error)
	// Assigned records that the agent was given a ticket at.
	Assigned(ctx context.Context, agentID string, at time.Time) error
}

// MemoryPresence is a PresenceStore in this process's memory: after a
// restart every agent is offline until its console beats again. The zero
// value is ready to use.
type MemoryPresence struct {
	mu           sync.Mutex
	presence     map[string]*AgentPresence
	lastAssigned map[string]time.Time
}

var _ PresenceStore = (*MemoryPresence)(nil)

// at is the agent's presence at now. m.mu must be held.
func (m *MemoryPresence) at(agentID string, now time.Time, timeout time.Duration) Presence {
	p := m.presence[agentID]
	if p == nil || now.Sub(p.LastBeat) > timeout {
		return PresenceOffline
	}
	return p.Status
}

// Beat implements PresenceStore.
func (m *MemoryPresence) Beat(_ context.Context, agentID string, p Presence, now time.Time, timeout time.Duration) (Presence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.presence == nil {
		m.presence = map[string]*AgentPresence{}
	}
	before := m.at(agentID, now, timeout)
	cur := m.presence[agentID]
	if cur == nil {
		cur = &AgentPresence{}
		m.presence[agentID] = cur
	}
	cur.Status, cur.LastBeat = p, now
	if before != p {
		cur.Since = now
	}
	if p == PresenceOffline {
		delete(m.presence, agentID)
	}
	return before, nil
}

// Present implements PresenceStore.
func (m *MemoryPresence) Present(_ context.Context, now time.Time, timeout time.Duration) (map[string]AgentPresence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]AgentPresence{}
	for id, p := range m.presence {
		if m.at(id, now, timeout) != PresenceOffline {
			ap := *p
			ap.LastAssigned = m.lastAssigned[id]
			out[id] = ap
		}
	}
	return out, nil
}

// PresentIn implements PresenceStore: memory is outside any transaction.
func (m *MemoryPresence) PresentIn(_ bot.Tx, now time.Time, timeout time.Duration) (map[string]AgentPresence, error) {
	return m.Present(context.Background(), now, timeout)
}

// Expire implements PresenceStore.
func (m *MemoryPresence) Expire(_ context.Context, now time.Time, timeout time.Duration) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var gone []string
	for id, p := range m.presence {
		if m.at(id, now, timeout) == PresenceOffline {
			delete(m.presence, id)
			if p.Status != PresenceOffline {
				gone = append(gone, id)
			}
		}
	}
	return gone, nil
}

// Assigned implements PresenceStore.
func (m *MemoryPresence) Assigned(_ context.Context, agentID string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastAssigned == nil {
		m.lastAssigned = map[string]time.Time{}
	}
	m.lastAssigned[agentID] = at
	return nil
}
