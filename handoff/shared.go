package handoff

import (
	"context"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// Relay carries the queue's events between the nodes that share one
// store, so that every node's subscribers see every node's changes. A
// Queue without one (one node) publishes to its own subscribers only.
// store/postgres implements it with LISTEN/NOTIFY.
type Relay interface {
	// Announce sends e to every node's subscribers, this node's included,
	// once tx, the transaction of the act that made e, commits; never if
	// it does not.
	Announce(tx bot.Tx, e Event) error
	// Publish sends e, which no act made (presence, SLA breaches), to
	// every node's subscribers, this node's included, ordered before
	// the events of any act this node commits after Publish returns.
	Publish(e Event)
	// Subscribe returns a subscription to the events of every node. A
	// relay that may have missed events (its connection was lost) drops
	// its subscribers as lagged, so that they reload the queue.
	Subscribe(buffer int) *Subscription
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
