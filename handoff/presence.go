package handoff

import (
	"context"
	"fmt"
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
