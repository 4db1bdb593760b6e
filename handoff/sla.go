package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// DefaultSLA returns the default maximum waits by priority: 5 minutes for
// normal tickets, 2 for high priority (a frustrated customer), 1 for VIPs
// and above.
func DefaultSLA() map[int]time.Duration {
	return map[int]time.Duration{
		bot.PriorityNormal: 5 * time.Minute,
		bot.PriorityHigh:   2 * time.Minute,
		bot.PriorityVIP:    time.Minute,
	}
}

// SLAFor returns how long a ticket of the priority may wait under sla:
// the entry for that priority or, without one, for the highest priority
// below it. Zero means no SLA (no entry at or below, or a duration of
// zero or less).
func SLAFor(sla map[int]time.Duration, priority int) time.Duration {
	best, found := 0, false
	for p := range sla {
		if p <= priority && (!found || p > best) {
			best, found = p, true
		}
	}
	if !found || sla[best] <= 0 {
		return 0
	}
	return sla[best]
}

// CheckSLA finds tickets that, as of now, have waited in the queue (or
// offered to an agent who has not opened them) longer than their SLA,
// counting business hours only. Each is marked breached
// and bumped one priority up, once, and an EventSLABreach alerts
// supervisors. It returns the tickets it bumped. Run calls it
// periodically; tests call it with a fixed time.
func (q *Queue) CheckSLA(ctx context.Context, now time.Time) ([]Ticket, error) {
	open, err := q.store.OpenTickets(ctx)
	if err != nil {
		return nil, fmt.Errorf("check SLA: %w", err)
	}
	var bumped []Ticket
	for _, o := range open {
		limit := SLAFor(q.opts.SLA, o.Priority)
		// An offer nobody has opened still keeps its customer waiting.
		if !o.Waiting() && !o.Offered || o.SLABreached || limit == 0 || q.opts.Hours.Elapsed(o.QueuedAt, now) <= limit {
			continue
		}
		t, err := q.store.UpdateTicket(ctx, o.ConversationID, func(t *Ticket) error {
			if t.ID != o.ID || !t.Waiting() && !t.Offered || t.SLABreached {
				return errNoChange
			}
			t.SLABreached, t.Priority = true, t.Priority+1
			return nil
		})
		changed := err == nil
		if errors.Is(err, errNoChange) {
			err = nil
		}
		if err != nil {
			return bumped, fmt.Errorf("check SLA of %s: %w", o.ConversationID, err)
		}
		if changed {
			q.opts.Log.Warn("SLA breached", "conversation", t.ConversationID, "priority", t.Priority, "waiting", now.Sub(t.QueuedAt).Round(time.Second))
			q.publish(Event{Kind: EventSLABreach, Ticket: &t, At: now})
			bumped = append(bumped, t)
		}
	}
	return bumped, nil
}

// Run checks SLAs and presence every Options.CheckEvery until ctx is
// done, then returns; it hands out waiting tickets when business hours
// begin and withdraws the offers of agents whose console went silent. The caller owns the goroutine that runs it. Errors
// are logged and retried at the next check. It is RunTimers and
// RunPresence in one.
func (q *Queue) Run(ctx context.Context) { q.run(ctx, true, true) }

// RunTimers does Run's work on the queue itself (SLA escalation, offers
// withdrawn from silent agents, tickets handed out when business hours
// begin), which one node of a cluster does at a time, until ctx is done.
func (q *Queue) RunTimers(ctx context.Context) { q.run(ctx, true, false) }

// RunPresence does Run's work on the presence of the agents connected to
// this node (marking silent ones offline), which every node does, until
// ctx is done.
func (q *Queue) RunPresence(ctx context.Context) { q.run(ctx, false, true) }

func (q *Queue) run(ctx context.Context, timers, presence bool) {
	tick := time.NewTicker(q.opts.CheckEvery)
	defer tick.Stop()
	wasOpen := q.opts.Hours.Open(q.now())
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			now := q.now()
			if timers {
				if _, err := q.CheckSLA(ctx, now); err != nil && ctx.Err() == nil {
					q.opts.Log.Error("check SLA", "err", err)
				}
			}
			if presence {
				q.CheckPresence(now)
			}
			if !timers {
				continue
			}
			back, err := q.withdrawStaleOffers(ctx)
			if err != nil && ctx.Err() == nil {
				q.opts.Log.Error("withdraw offers", "err", err)
			}
			// Opening time, or an offer back in the queue: hand out what
			// waits (dispatch does nothing outside business hours).
			open := q.opts.Hours.Open(now)
			if open && (!wasOpen || back > 0) {
				if err := q.dispatch(ctx); err != nil && ctx.Err() == nil {
					q.opts.Log.Error("dispatch", "err", err)
				}
			}
			wasOpen = open
		}
	}
}
