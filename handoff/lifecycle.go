package handoff

import (
	"context"
	"errors"
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
	online := false
	if to.Agent != "" {
		var err error
		if target, err = usableAgent(ctx, q.store, to.Agent); err != nil {
			return Ticket{}, fmt.Errorf("transfer %s: %w: %w", conversationID, ErrUnavailable, err)
		}
		online = q.Presence(target.ID) == PresenceOnline
	}
	return q.act(ctx, "transfer", conversationID, by, func(_ *bot.Act, _ *Agent, t *Ticket, now time.Time) (Event, error) {
		switch {
		case target != nil && t.Agent == target.ID:
			return Event{}, errNoChange
		case target != nil && t.Tier > 1 && !CanSupervise(target):
			return Event{}, ErrForbidden
		case target != nil && !online:
			return Event{}, fmt.Errorf("%w: %s is %s", ErrUnavailable, target.ID, q.Presence(target.ID))
		case target != nil:
			t.Agent, t.Status, t.AssignedAt, t.Offered = target.ID, StatusAssigned, now, false
			return Event{Kind: EventTransferred, Ticket: t, Agent: to.Agent, At: now}, nil
		}
		t.Team, t.TeamOnly, t.DedicatedAgent = to.Team, true, ""
		t.Agent, t.Status, t.QueuedAt, t.AssignedAt, t.Offered = "", StatusQueued, now, time.Time{}, false
		return Event{Kind: EventTransferred, Ticket: t, At: now}, nil
	}, func(t Ticket, now time.Time) {
		if target != nil {
			if err := q.opts.Presence.Assigned(context.Background(), target.ID, now); err != nil {
				q.opts.Log.Warn("note assignment", "agent", target.ID, "err", err)
			}
		}
	})
}

// Escalate sends the conversation to the second tier: its priority goes
// up by one, it leaves its agent and waits for a supervisor or admin, and
// an EventEscalated alerts supervisors. Escalating a second-tier ticket
// changes nothing. When Escalate returns nil, the change is stored.
func (q *Queue) Escalate(ctx context.Context, conversationID, by string) (Ticket, error) {
	return q.act(ctx, "escalate", conversationID, by, func(_ *bot.Act, _ *Agent, t *Ticket, now time.Time) (Event, error) {
		if t.Tier > 1 {
			return Event{}, errNoChange
		}
		t.Tier, t.Escalated, t.Priority, t.TeamOnly = 2, true, t.Priority+1, false
		t.Agent, t.Status, t.QueuedAt, t.AssignedAt, t.Offered = "", StatusQueued, now, time.Time{}, false
		return Event{Kind: EventEscalated, Ticket: t, Agent: by, At: now}, nil
	}, nil)
}

// Resolve closes the ticket as done, gives the conversation back to the
// bot and asks the customer for a rating, in one act. When Resolve
// returns nil, the ticket is stored as resolved, the bot owns the
// conversation and the survey is on its way.
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
	return q.act(ctx, verb, conversationID, by, func(a *bot.Act, _ *Agent, t *Ticket, now time.Time) (Event, error) {
		t.Status, t.ClosedAt = status, now
		if status == StatusResolved {
			t.ResolvedAt = now
			// The customer hears in one message that they are back with
			// the bot and is asked for a rating: the core's reaction to
			// a resolve, whoever resolved.
			if err := a.Resolved(); err != nil {
				return Event{}, err
			}
		}
		return Event{Kind: kind, Ticket: t, Agent: by, At: now}, nil
	}, nil)
}

// act is one agent's action on a conversation's open ticket, the shape
// Transfer, Escalate, Resolve and ReturnToBot share: one act (see change)
// that, after the common checks (the ticket exists: ErrNotFound; the
// agent may act on it: ErrForbidden), applies fn to the ticket, which
// returns the event to publish. Once the act is durable, after runs (if
// set) and the waiting tickets are dispatched. A change that returns
// errNoChange returns the ticket as it is.
func (q *Queue) act(ctx context.Context, verb, conversationID, by string,
	fn func(a *bot.Act, actor *Agent, t *Ticket, now time.Time) (Event, error),
	after func(t Ticket, now time.Time)) (Ticket, error) {
	actor, err := usableAgent(ctx, q.store, by)
	if err != nil {
		return Ticket{}, fmt.Errorf("%s %s: %w", verb, conversationID, err)
	}
	now := q.now()
	t, changed, err := q.change(ctx, conversationID, func(a *bot.Act, _ TicketTx, t *Ticket) ([]Event, error) {
		switch {
		case t.ID == "":
			return nil, ErrNotFound
		case !CanActOn(actor, t):
			return nil, ErrForbidden
		}
		ev, err := fn(a, actor, t, now)
		if err != nil {
			return nil, err
		}
		evt := *t
		ev.Ticket = &evt
		return []Event{ev}, nil
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("%s %s: %w", verb, conversationID, err)
	}
	if !changed {
		return t, nil
	}
	if after != nil {
		after(t, now)
	}
	q.opts.Log.Info("ticket "+verb, "conversation", conversationID, "agent", by, "status", t.Status, "owner", t.Agent, "team", t.Team)
	return t, q.dispatch(ctx)
}

// Reply stores the owning agent's reply and notes the ticket's first
// reply, in one act. Only the agent who owns the conversation may reply
// (bot.ErrNotOwner; see bot.Act.AgentSay). When Reply returns nil the
// message is on disk.
func (q *Queue) Reply(ctx context.Context, am bot.AgentMessage) (bot.Message, error) {
	if am.AgentName == "" {
		if a, err := q.store.Agent(ctx, am.AgentID); err == nil {
			am.AgentName = a.Name
		}
	}
	var m bot.Message
	err := q.owner.Act(ctx, am.ConversationID, func(a *bot.Act) error {
		var err error
		if m, err = a.AgentSay(am); err != nil || am.Internal {
			return err
		}
		tt := q.store.TicketsIn(a.Tx())
		t, err := tt.OpenTicket(am.ConversationID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || !t.FirstReplyAt.IsZero() {
			return err
		}
		t.FirstReplyAt = m.Time
		return tt.PutTicket(t)
	})
	return m, err
}

// RecordAgentReply notes that the owning agent replied, setting the
// ticket's FirstReplyAt the first time. It fails with ErrNotOwner for any
// agent but the owner. Reply does this with the message itself.
func (q *Queue) RecordAgentReply(ctx context.Context, conversationID, agentID string) (Ticket, error) {
	now := q.now()
	t, err := q.store.UpdateTicket(ctx, conversationID, func(t *Ticket) error {
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
	if errors.Is(err, errNoChange) {
		cur, err := q.store.Ticket(ctx, conversationID)
		if err != nil {
			return Ticket{}, fmt.Errorf("record reply in %s: %w", conversationID, err)
		}
		return *cur, nil
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("record reply in %s: %w", conversationID, err)
	}
	return t, nil
}
