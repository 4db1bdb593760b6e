package handoff

import (
	"context"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// Target is where a transfer sends a conversation: to one agent, or back
// to the queue for a team. Exactly one field is set.
type Target struct {
	Agent string
	Team  string
}

// Transfer moves the conversation to another agent, who must be online
// (ErrUnavailable), or to a team's queue, where it is routed to that
// team's agents only. by must be allowed to act on the ticket
// (ErrForbidden; see CanActOn); only supervisors and admins may receive a
// second-tier ticket. An agent who cannot act on the ticket gets
// ErrForbidden before anything else is checked. When Transfer returns nil, the change is stored and
// the conversation has its new owner.
func (q *Queue) Transfer(ctx context.Context, conversationID, by string, to Target) (Ticket, error) {
	if (to.Agent == "") == (to.Team == "") {
		return Ticket{}, fmt.Errorf("transfer %s: %w: name an agent or a team", conversationID, ErrInvalid)
	}
	var target *Agent
	if to.Agent != "" {
		var err error
		if target, err = usableAgent(ctx, q.store, to.Agent); err != nil {
			return Ticket{}, fmt.Errorf("transfer %s: %w: %w", conversationID, ErrUnavailable, err)
		}
	}
	return q.act(ctx, "transfer", conversationID, by, func(_ *Agent, t *Ticket, now time.Time) error {
		switch {
		case target != nil && t.Agent == target.ID:
			return errNoChange
		case target != nil && t.Tier > 1 && !CanSupervise(target):
			return ErrForbidden
		case target != nil && q.presenceAt(target.ID, now) != PresenceOnline:
			return fmt.Errorf("%w: %s is %s", ErrUnavailable, target.ID, q.presenceAt(target.ID, now))
		case target != nil:
			t.Agent, t.Status, t.AssignedAt = target.ID, StatusAssigned, now
		default:
			t.Team, t.TeamOnly, t.DedicatedAgent = to.Team, true, ""
			t.Agent, t.Status, t.QueuedAt, t.AssignedAt = "", StatusQueued, now, time.Time{}
		}
		return nil
	}, func(t Ticket, now time.Time) (bot.State, Event) {
		if target != nil {
			q.lastAssigned[target.ID] = now
			return bot.StateAgent, Event{Kind: EventTransferred, Ticket: &t, Agent: to.Agent, At: now}
		}
		return bot.StateQueued, Event{Kind: EventTransferred, Ticket: &t, At: now}
	})
}

// Escalate sends the conversation to the second tier: its priority goes
// up by one, it leaves its agent and waits for a supervisor or admin, and
// an EventEscalated alerts supervisors. Escalating a second-tier ticket
// changes nothing. When Escalate returns nil, the change is stored.
func (q *Queue) Escalate(ctx context.Context, conversationID, by string) (Ticket, error) {
	return q.act(ctx, "escalate", conversationID, by, func(_ *Agent, t *Ticket, now time.Time) error {
		if t.Tier > 1 {
			return errNoChange
		}
		t.Tier, t.Escalated, t.Priority, t.TeamOnly = 2, true, t.Priority+1, false
		t.Agent, t.Status, t.QueuedAt, t.AssignedAt = "", StatusQueued, now, time.Time{}
		return nil
	}, func(t Ticket, now time.Time) (bot.State, Event) {
		return bot.StateQueued, Event{Kind: EventEscalated, Ticket: &t, Agent: by, At: now}
	})
}

// Resolve closes the ticket as done and gives the conversation back to
// the bot. The caller then asks the customer for a rating. When Resolve
// returns nil, the ticket is stored as resolved and the bot owns the
// conversation.
func (q *Queue) Resolve(ctx context.Context, conversationID, by string) (Ticket, error) {
	return q.close(ctx, conversationID, by, StatusResolved)
}

// ReturnToBot hands the conversation back to the bot without resolving
// it (the ticket is closed as returned), for a customer who needs no
// person after all.
func (q *Queue) ReturnToBot(ctx context.Context, conversationID, by string) (Ticket, error) {
	return q.close(ctx, conversationID, by, StatusReturned)
}

func (q *Queue) close(ctx context.Context, conversationID, by string, status Status) (Ticket, error) {
	verb, kind := "resolve", EventResolved
	if status == StatusReturned {
		verb, kind = "return to bot", EventReturned
	}
	return q.act(ctx, verb, conversationID, by, func(_ *Agent, t *Ticket, now time.Time) error {
		t.Status, t.ClosedAt = status, now
		if status == StatusResolved {
			t.ResolvedAt = now
		}
		return nil
	}, func(t Ticket, now time.Time) (bot.State, Event) {
		return bot.StateBot, Event{Kind: kind, Ticket: &t, Agent: by, At: now}
	})
}

// act is one agent's action on a conversation's open ticket, the shape
// Transfer, Escalate, Resolve and ReturnToBot share. Under the queue's
// lock it applies change to the ticket as one compare-and-set, after the
// common checks (the ticket exists: ErrNotFound; the agent may act on it:
// ErrForbidden). If change altered the ticket, then gives the
// conversation's new owner state and the event to publish: the owner is
// set, the event published, and the waiting tickets dispatched. A change
// that returns errNoChange returns the ticket as it is.
func (q *Queue) act(ctx context.Context, verb, conversationID, by string,
	change func(actor *Agent, t *Ticket, now time.Time) error,
	then func(t Ticket, now time.Time) (bot.State, Event)) (Ticket, error) {
	actor, err := usableAgent(ctx, q.store, by)
	if err != nil {
		return Ticket{}, fmt.Errorf("%s %s: %w", verb, conversationID, err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	t, changed, err := q.update(ctx, conversationID, func(t *Ticket) error {
		switch {
		case t.ID == "":
			return ErrNotFound
		case !CanActOn(actor, t):
			return ErrForbidden
		}
		return change(actor, t, now)
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("%s %s: %w", verb, conversationID, err)
	}
	if !changed {
		return t, nil
	}
	state, ev := then(t, now)
	owner := ""
	if state == bot.StateAgent {
		owner = t.Agent
	}
	if err := q.owner.SetOwner(ctx, conversationID, state, owner); err != nil {
		return t, fmt.Errorf("%s %s: set owner: %w", verb, conversationID, err)
	}
	q.opts.Log.Info("ticket "+string(ev.Kind), "conversation", conversationID, "agent", by, "status", t.Status, "owner", t.Agent, "team", t.Team)
	q.events.Publish("", ev)
	return t, q.dispatch(ctx)
}

// RecordAgentReply notes that the owning agent replied, setting the
// ticket's FirstReplyAt the first time. It fails with ErrNotOwner for any
// agent but the owner: the console calls it before storing an agent's
// message, which makes it also the check that only the owner speaks.
func (q *Queue) RecordAgentReply(ctx context.Context, conversationID, agentID string) (Ticket, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	t, _, err := q.update(ctx, conversationID, func(t *Ticket) error {
		switch {
		case t.ID == "":
			return ErrNotFound
		case t.Agent != agentID:
			return ErrNotOwner
		case !t.FirstReplyAt.IsZero():
			return errNoChange
		}
		t.FirstReplyAt = now
		return nil
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("record reply in %s: %w", conversationID, err)
	}
	return t, nil
}
