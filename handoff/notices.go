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
		if _, err := n.out.Notice(ctx, id, n.text(p, first, online, n.hasEmail(ctx, id))); err != nil {
			n.q.opts.Log.Error("queue notice", "conversation", id, "err", err)
		}
	}
	for c := range n.told {
		if p, ok := places[c]; !ok || p.Position == 0 {
			delete(n.told, c)
		}
	}
}

// text says a place in words. first is the notice on joining the queue;
// hasEmail says the customer has given an email address already (in the
// pre-chat form, their profile or the conversation), so it is not asked
// for again. Frontdesk sends no email: the texts promise only what
// happens, a reply in the conversation, kept for when the customer
// comes back.
func (n *Notices) text(p Place, first, online, hasEmail bool) string {
	askEmail := ""
	if !hasEmail {
		askEmail = " If you like, leave your email address too, so our team can contact you if needed."
	}
	if !p.Open {
		return fmt.Sprintf("Our team is away right now; we're back %s. Leave your question here: a person will reply in this chat when we're back, and you'll find the reply here when you return.%s",
			when(p.OpensAt.In(n.q.opts.Hours.Location()), n.q.now().In(n.q.opts.Hours.Location())), askEmail)
	}
	if !online {
		return "Nobody from our team is online at this moment. Your conversation stays in the queue, and a person will reply in this chat as soon as someone is available; if you leave, you'll find the reply here when you return." + askEmail
	}
	wait := AboutWait(p.Wait)
	if first {
		return fmt.Sprintf("You're number %d in the queue. Expected wait: %s. A person will reply right here.", p.Position, wait)
	}
	if p.Position == 1 {
		return fmt.Sprintf("You're next in the queue. Expected wait: %s.", wait)
	}
	return fmt.Sprintf("You're now number %d in the queue. Expected wait: %s.", p.Position, wait)
}

// profiles is what Notices needs, beyond posting, to know whether a
// waiting customer has left an email address; the bot engine has it.
type profiles interface {
	Conversation(ctx context.Context, id string) (*bot.Conversation, error)
	Customer(ctx context.Context, id string) (*bot.Customer, error)
}

// hasEmail reports whether the customer of the conversation has given an
// email address. When that cannot be known it reports false: asking once
// too often is better than never.
func (n *Notices) hasEmail(ctx context.Context, conversationID string) bool {
	ps, ok := n.out.(profiles)
	if !ok {
		return false
	}
	conv, err := ps.Conversation(ctx, conversationID)
	if err != nil {
		return false
	}
	c, err := ps.Customer(ctx, conv.CustomerID)
	return err == nil && c.Email != ""
}

func (n *Notices) anyoneOnline() bool {
	for _, p := range n.q.Presences() {
		if p == PresenceOnline {
			return true
		}
	}
	return false
}

// AboutWait says a wait in words, rounded: "about a minute", "about 4
// minutes", "about an hour", "about 3 hours", "a day or more". The queue's
// notices and the widget's "we usually reply in" say waits alike.
func AboutWait(d time.Duration) string {
	m := int((d + 30*time.Second) / time.Minute)
	switch {
	case m <= 1:
		return "about a minute"
	case m < 60:
		return fmt.Sprintf("about %d minutes", m)
	case m < 90:
		return "about an hour"
	case m < 24*60:
		return fmt.Sprintf("about %d hours", (m+30)/60)
	}
	return "a day or more"
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
