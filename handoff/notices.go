package handoff

import (
	"context"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// Noticer posts a system message to a customer's conversation. The bot
// engine implements it.
type Noticer interface {
	Notice(ctx context.Context, conversationID, text string) (bot.Message, error)
}

// Notices keeps waiting customers told where they stand: their place in
// the queue and the expected wait when they join it and whenever they move
// up, and outside business hours (or when nobody is online) when people
// are back and that their messages are kept. It follows the queue's
// events; Run owns its goroutine.
type Notices struct {
	q    *Queue
	out  Noticer
	told map[string]int // conversation -> position last told
}

// NewNotices returns Notices for the queue, posting through out.
func NewNotices(q *Queue, out Noticer) *Notices {
	return &Notices{q: q, out: out, told: map[string]int{}}
}

// Run follows the queue until ctx is done. If it falls behind the queue's
// events it subscribes again and recomputes every position, so a lag
// costs an update, never a wrong one.
func (n *Notices) Run(ctx context.Context) {
	for ctx.Err() == nil {
		sub := n.q.Subscribe(256)
		n.follow(ctx, sub)
		sub.Close()
	}
}

func (n *Notices) follow(ctx context.Context, sub *Subscription) {
	n.update(ctx, "")
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.C():
			if !ok {
				return
			}
			switch e.Kind {
			case EventQueued:
				n.update(ctx, e.Ticket.ConversationID)
			case EventAssigned, EventResolved, EventReturned, EventTransferred, EventEscalated, EventSLABreach:
				n.update(ctx, "")
			}
		}
	}
}

// update tells each waiting customer whose position changed (and the one
// who just joined) where they stand.
func (n *Notices) update(ctx context.Context, joined string) {
	places, err := n.q.Places(ctx)
	if err != nil {
		n.q.opts.Log.Error("queue notices", "err", err)
		return
	}
	online := n.anyoneOnline()
	for id, p := range places {
		if p.Position == 0 {
			continue // with an agent
		}
		last, known := n.told[id]
		first := !known || id == joined
		if !first && (p.Position >= last || !p.Open || !online) {
			// Only moving up is news, and only while people are there
			// to move the queue.
			continue
		}
		n.told[id] = p.Position
		if _, err := n.out.Notice(ctx, id, n.text(p, first, online)); err != nil {
			n.q.opts.Log.Error("queue notice", "conversation", id, "err", err)
		}
	}
	for c := range n.told {
		if p, ok := places[c]; !ok || p.Position == 0 {
			delete(n.told, c)
		}
	}
}

// text says a place in words. first is the notice on joining the queue.
func (n *Notices) text(p Place, first, online bool) string {
	if !p.Open {
		return fmt.Sprintf("Our team is away right now; we're back %s. Leave your question here, and your email address if you'd like a reply by email: nothing gets lost, and a person will pick it up as soon as we're back.",
			when(p.OpensAt.In(n.q.opts.Hours.Location()), n.q.now().In(n.q.opts.Hours.Location())))
	}
	if !online {
		return "Nobody from our team is online at this moment. Your conversation is in the queue and a person will reply here as soon as someone is available; you can leave your details and email address in the meantime."
	}
	wait := roundWait(p.Wait)
	if first {
		return fmt.Sprintf("You're number %d in the queue. Expected wait: %s.", p.Position, wait)
	}
	if p.Position == 1 {
		return fmt.Sprintf("You're next in the queue. Expected wait: %s.", wait)
	}
	return fmt.Sprintf("You're now number %d in the queue. Expected wait: %s.", p.Position, wait)
}

func (n *Notices) anyoneOnline() bool {
	for _, p := range n.q.Presences() {
		if p == PresenceOnline {
			return true
		}
	}
	return false
}

// roundWait says a wait in whole minutes.
func roundWait(d time.Duration) string {
	m := int((d + 30*time.Second) / time.Minute)
	switch {
	case m <= 1:
		return "about a minute"
	case m < 60:
		return fmt.Sprintf("about %d minutes", m)
	}
	return fmt.Sprintf("about %d hours", (m+30)/60)
}

// when says a time relative to now: "today at 09:00", "tomorrow at
// 09:00" or "on Monday at 09:00".
func when(t, now time.Time) string {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	day := time.Date(y1, m1, d1, 0, 0, 0, 0, time.UTC).Sub(time.Date(y2, m2, d2, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour)
	clock := t.Format("15:04")
	zone := t.Format("MST")
	switch {
	case day <= 0:
		return fmt.Sprintf("today at %s %s", clock, zone)
	case day == 1:
		return fmt.Sprintf("tomorrow at %s %s", clock, zone)
	case day < 7:
		return fmt.Sprintf("on %s at %s %s", t.Weekday(), clock, zone)
	}
	return fmt.Sprintf("on %s at %s %s", t.Format("Monday 2 January"), clock, zone)
}
