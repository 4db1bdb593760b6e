package handoff

import (
	"context"
	"fmt"
	"maps"
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

// presence is an agent's last heartbeat. It lives in memory only: after a
// restart every agent is offline until its console beats again.
type presence struct {
	status   Presence
	lastBeat time.Time
	since    time.Time // when status last changed
}

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
	q.mu.Lock()
	now := q.now()
	before := q.presenceAt(agentID, now)
	cur := q.presence[agentID]
	if cur == nil {
		cur = &presence{}
		q.presence[agentID] = cur
	}
	cur.status, cur.lastBeat = p, now
	if before != p {
		cur.since = now
		q.events.Publish("", Event{Kind: EventPresence, Agent: agentID, Presence: p, At: now})
	}
	if p == PresenceOffline {
		delete(q.presence, agentID)
	}
	q.mu.Unlock()
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
// a restart (presence lives in memory). It returns how many it put back.
func (q *Queue) withdrawStaleOffers(ctx context.Context) (int, error) {
	online := q.online(q.now())
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

// Presence returns the agent's presence now.
func (q *Queue) Presence(agentID string) Presence {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.presenceAt(agentID, q.now())
}

// Presences returns the presence of every agent who is not offline.
func (q *Queue) Presences() map[string]Presence {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	out := map[string]Presence{}
	for id := range maps.Keys(q.presence) {
		if p := q.presenceAt(id, now); p != PresenceOffline {
			out[id] = p
		}
	}
	return out
}

// CheckPresence signs off agents whose console stopped beating, as of
// now, publishing an EventPresence for each. Run calls it periodically;
// presence is correct without it, only the events would be missing.
func (q *Queue) CheckPresence(now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for id, p := range q.presence {
		if q.presenceAt(id, now) == PresenceOffline {
			delete(q.presence, id)
			if p.status != PresenceOffline {
				q.events.Publish("", Event{Kind: EventPresence, Agent: id, Presence: PresenceOffline, At: now})
			}
		}
	}
}

// presenceAt is the agent's presence at now. q.mu must be held.
func (q *Queue) presenceAt(agentID string, now time.Time) Presence {
	p := q.presence[agentID]
	if p == nil || now.Sub(p.lastBeat) > q.opts.PresenceTimeout {
		return PresenceOffline
	}
	return p.status
}
