package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/internal/tick"
)

// FollowupOptions configure the follow-up after a resolved hand-off: some
// time after a person resolved a conversation, the bot asks the customer
// "Did that solve it?", at most once a conversation, only when people
// are there to help (Open), and never a customer who asked not to be
// asked again. Channels that can reach the customer at any time
// (Telegram) get it when it is due (see SendFollowup); the web, whose
// customer may have left, asks on their next visit (see Engine.Start).
type FollowupOptions struct {
	// Delay after the resolve; 0 turns follow-ups off.
	Delay time.Duration
	// Open reports whether it is business hours (nil: always).
	Open func(time.Time) bool
}

// Where a conversation's follow-up stands (Conversation.Followup).
const (
	FollowupScheduled = "scheduled"
	FollowupSent      = "sent"
	FollowupAnswered  = "answered"
	FollowupCancelled = "cancelled" // not sent: opted out, or with people again
)

// Follow-up payloads.
const (
	payloadFollowupCheck    = "followup_check:"
	PayloadFollowupSolved   = payloadFollowupCheck + "yes"
	PayloadFollowupUnsolved = payloadFollowupCheck + "no"
	PayloadFollowupStop     = payloadFollowupCheck + "stop"
)

// scheduleFollowup schedules the conversation's follow-up, in the
// resolve's act, unless follow-ups are off or it had one already.
func (a *Act) scheduleFollowup() {
	o := a.e.opts.Followup
	if o.Delay <= 0 || a.conv.Followup != "" {
		return
	}
	a.conv.Followup = FollowupScheduled
	a.conv.FollowupAt = a.e.opts.Now().UTC().Add(o.Delay)
}

// followupDue reports whether the conversation's follow-up may be asked
// now.
func (e *Engine) followupDue(c *Conversation, cust *Customer, now time.Time) bool {
	if c.Followup != FollowupScheduled || now.Before(c.FollowupAt) || c.State != StateBot || cust.NoFollowups {
		return false
	}
	return e.opts.Followup.Open == nil || e.opts.Followup.Open(now)
}

// sayFollowup asks "Did that solve it?" in the act.
func (a *Act) sayFollowup() error {
	a.conv.Followup = FollowupSent
	_, err := a.Say(Message{From: FromBot, Text: "Hi again! Did the help you got from our team solve your question?",
		QuickReplies: []QuickReply{
			{Label: "Yes, it did", Payload: PayloadFollowupSolved},
			{Label: "No, not yet", Payload: PayloadFollowupUnsolved},
			{Label: "Don't ask me again", Payload: PayloadFollowupStop},
		},
		Decision: &Decision{Kind: DecisionFeedback, Reason: "followup"}})
	return err
}

// ErrNotDue is returned by SendFollowup for a follow-up that may not be
// asked now (not yet due, outside business hours).
var ErrNotDue = NewError(CodeConflict, "the follow-up is not due")

// SendFollowup asks the conversation's customer "Did that solve it?" now,
// in one act, if it is due: scheduled, its time come, in business hours.
// A customer who opted out, or a conversation with people again, has its
// follow-up cancelled instead. It returns ErrNotDue when it must wait.
func (e *Engine) SendFollowup(ctx context.Context, conversationID string) error {
	return e.Act(ctx, conversationID, func(a *Act) error {
		c := a.conv
		if c.Followup != FollowupScheduled {
			return ErrNotDue
		}
		cust, err := a.tx.Customer(c.CustomerID)
		if err != nil {
			return fmt.Errorf("load customer: %w", err)
		}
		if cust.NoFollowups || c.State != StateBot {
			c.Followup = FollowupCancelled
			return nil
		}
		if !e.followupDue(c, cust, e.opts.Now().UTC()) {
			return ErrNotDue
		}
		return a.sayFollowup()
	})
}

// DueFollowups lists the conversations whose follow-up is scheduled at or
// before a time; the store keeps them indexed.
type DueFollowups interface {
	DueFollowups(ctx context.Context, now time.Time) ([]string, error)
}

// SendDueFollowups sends every due follow-up on the channels that can
// reach a customer at any time (all but the web, which asks on the
// next visit) and returns how many it sent.
func (e *Engine) SendDueFollowups(ctx context.Context, st DueFollowups) (int, error) {
	ids, err := st.DueFollowups(ctx, e.opts.Now().UTC())
	if err != nil {
		return 0, fmt.Errorf("list due follow-ups: %w", err)
	}
	sent := 0
	for _, id := range ids {
		c, err := e.store.Conversation(ctx, id)
		if err != nil || c.Channel == Web {
			continue
		}
		switch err := e.SendFollowup(ctx, id); {
		case err == nil:
			if c2, err := e.store.Conversation(ctx, id); err == nil && c2.Followup == FollowupSent {
				sent++
			}
		case errors.Is(err, ErrNotDue):
		default:
			e.opts.Log.Error("send follow-up", "conversation", id, "err", err)
		}
	}
	return sent, nil
}

// RunFollowups sends due follow-ups every interval until ctx ends.
func (e *Engine) RunFollowups(ctx context.Context, st DueFollowups, interval time.Duration) {
	tick.Every(ctx, interval, func() {
		if _, err := e.SendDueFollowups(ctx, st); err != nil && ctx.Err() == nil {
			e.opts.Log.Error("follow-ups", "err", err)
		}
	})
}

// followupReply handles the customer's answer to the follow-up.
func (t *turn) followupReply(ctx context.Context, p string) error {
	t.conv.Followup = FollowupAnswered
	switch p {
	case PayloadFollowupSolved:
		t.conv.Failures = 0
		return t.reply(Message{Text: "Great, glad it's sorted! Anything else I can help with?", Decision: &Decision{Kind: DecisionFeedback, Reason: "followup_solved"}})
	case PayloadFollowupStop:
		t.changeCustomer(func(c *Customer) { c.NoFollowups = true })
		return t.reply(Message{Text: "OK, we won't ask you again. Anything else I can help with?", Decision: &Decision{Kind: DecisionFeedback, Reason: "followup_opt_out"}})
	default:
		return t.offerPerson(ctx, "followup_unsolved", "Sorry it's not solved yet. Would you like a person to look into it again?")
	}
}
