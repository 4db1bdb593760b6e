package metrics

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// Subscription delivers conversation events until it is closed, or until
// the subscriber fell behind (Lagged), as bot.Subscription does.
type Subscription interface {
	C() <-chan bot.Event
	Lagged() bool
	Close()
}

// Bus is where conversation events come from; conversationID "" means
// every conversation.
type Bus interface {
	Subscribe(conversationID string, buffer int) Subscription
}

// BusFunc adapts a function to Bus, so that a bus whose Subscribe returns
// a concrete type can be passed:
//
//	metrics.BusFunc(func(id string, n int) metrics.Subscription { return bus.Subscribe(id, n) })
type BusFunc func(conversationID string, buffer int) Subscription

// Subscribe calls f.
func (f BusFunc) Subscribe(conversationID string, buffer int) Subscription {
	return f(conversationID, buffer)
}

// QueueSubscription delivers agent queue events, as handoff.Subscription
// does.
type QueueSubscription interface {
	C() <-chan handoff.Event
	Lagged() bool
	Close()
}

// QueueEvents is where agent queue events come from.
type QueueEvents interface {
	Subscribe(buffer int) QueueSubscription
}

// QueueEventsFunc adapts a function to QueueEvents.
type QueueEventsFunc func(buffer int) QueueSubscription

// Subscribe calls f.
func (f QueueEventsFunc) Subscribe(buffer int) QueueSubscription { return f(buffer) }

// Conversations looks up a conversation; Metrics needs its channel and
// owner the first time it sees the conversation's events.
type Conversations interface {
	Conversation(ctx context.Context, id string) (*bot.Conversation, error)
}

// Queue is what the scrape asks of the agent queue: the open tickets and
// the agents' presence (handoff.Queue has both).
type Queue interface {
	Tickets(ctx context.Context, f handoff.Filter) ([]handoff.Ticket, error)
	Presences() map[string]handoff.Presence
}

// Sources are what Metrics follows and asks. Every field is optional:
// what is not given is not measured.
type Sources struct {
	// Events are the conversation events: messages by channel and sender,
	// decisions, hand-offs, feedback, survey ratings, turn latency.
	Events Bus
	// Conversations give a conversation's channel and owner.
	Conversations Conversations
	// Queue is asked at each scrape for the queue's length and oldest
	// wait, conversations by owner and agents by presence.
	Queue Queue
	// QueueEvents give queue waits and queue events by kind.
	QueueEvents QueueEvents
}

// Limits of the follower.
const (
	// eventBuffer is how many events may wait for the follower before it
	// is dropped (it then subscribes again; what it missed is not
	// counted).
	eventBuffer = 4096
	// maxTurn: a bot reply later than this after the customer's message
	// is not a turn of its own (a welcome back, a survey) and is not
	// timed.
	maxTurn = time.Minute
	// idleAfter: a conversation without events for this long is forgotten
	// (and no longer counted as active with the bot).
	idleAfter = 30 * time.Minute
	// maxConversations bounds the conversations remembered at once.
	maxConversations = 20000
	// lookupTimeout bounds a conversation lookup in the store.
	lookupTimeout = 5 * time.Second
)

// conversation is what Metrics remembers of a conversation while it is
// active: its labels and the customer message waiting for a reply.
type conversation struct {
	channel string
	state   bot.State
	seen    time.Time // last event
	asked   time.Time // a customer message the bot has not answered yet; zero if none
}

// Follow starts following src: it subscribes before it returns, so that
// every event published afterwards is counted, and follows on a goroutine
// that stops when ctx ends or Close is called. The queue's scrape-time
// gauges are served at once. Call it at most once.
func (m *Metrics) Follow(ctx context.Context, src Sources) {
	ctx, cancel := context.WithCancel(ctx)
	m.mu.Lock()
	m.queue = src.Queue
	m.cancel = cancel
	m.mu.Unlock()
	f := &follower{m: m, src: src}
	f.subscribe()
	f.subscribeQueue()
	if f.events == nil && f.queue == nil {
		return
	}
	m.wg.Go(func() { f.run(ctx) })
}

// follower is the goroutine that follows the sources, with its
// subscriptions.
type follower struct {
	m      *Metrics
	src    Sources
	events Subscription
	queue  QueueSubscription
	evC    <-chan bot.Event
	queueC <-chan handoff.Event
}

func (f *follower) subscribe() {
	if f.src.Events != nil {
		f.events = f.src.Events.Subscribe("", eventBuffer)
		f.evC = f.events.C()
	}
}

func (f *follower) subscribeQueue() {
	if f.src.QueueEvents != nil {
		f.queue = f.src.QueueEvents.Subscribe(eventBuffer)
		f.queueC = f.queue.C()
	}
}

func (f *follower) run(ctx context.Context) {
	m := f.m
	defer func() {
		if f.events != nil {
			f.events.Close()
		}
		if f.queue != nil {
			f.queue.Close()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-f.evC:
			if !ok {
				m.opts.Log.Warn("metrics fell behind the conversation events; some were not counted")
				m.forgetTurns()
				f.subscribe()
				continue
			}
			m.conversationEvent(ctx, f.src.Conversations, e)
		case e, ok := <-f.queueC:
			if !ok {
				m.opts.Log.Warn("metrics fell behind the queue events; some were not counted")
				f.subscribeQueue()
				continue
			}
			m.queueEvent(e)
		}
	}
}

// conversationEvent counts one conversation event. Only the follow
// goroutine calls it.
func (m *Metrics) conversationEvent(ctx context.Context, convs Conversations, e bot.Event) {
	if e.Kind == bot.EventDraft {
		return // an answer being written: counted when it is stored
	}
	now := m.opts.Now()
	m.mu.Lock()
	c := m.convs[e.ConversationID]
	m.mu.Unlock()
	if c == nil {
		// Looked up outside the lock: a scrape never waits on the store.
		c = lookup(ctx, convs, e.ConversationID)
		m.mu.Lock()
		m.remember(e.ConversationID, c, now)
		m.mu.Unlock()
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	c.seen = now
	switch e.Kind {
	case bot.EventState:
		c.state = e.State
		m.states.WithLabelValues(label(string(e.State))).Inc()
		if !botOwns(c.state) {
			c.asked = time.Time{}
		}
	case bot.EventMessage:
		msg := e.Message
		if msg == nil {
			return
		}
		m.messages.WithLabelValues(c.channel, sender(msg.From)).Inc()
		switch msg.From {
		case bot.FromCustomer:
			c.asked = time.Time{}
			if botOwns(c.state) {
				// The bot will answer (in other states it stays silent and
				// ignores buttons): a turn starts, and a button's answer
				// counts.
				c.asked = now
				m.payload(msg.Payload)
			}
		case bot.FromBot:
			if d := msg.Decision; d != nil {
				m.decisions.WithLabelValues(label(string(d.Kind))).Inc()
				if d.Kind == "handoff" {
					m.handoffs.WithLabelValues(label(d.Reason)).Inc()
				}
			}
			welcome := msg.Decision != nil && msg.Decision.Reason == "welcome_back"
			if !c.asked.IsZero() && !welcome {
				if d := now.Sub(c.asked); d >= 0 && d <= maxTurn {
					m.ObserveTurn(d)
				}
			}
			c.asked = time.Time{}
		default:
			// An agent or the system spoke: whatever the customer said is
			// not the bot's turn any more.
			c.asked = time.Time{}
		}
	}
}

// botOwns reports whether the bot answers in the state; "" is a
// conversation whose owner could not be looked up.
func botOwns(s bot.State) bool {
	return s != bot.StateQueued && s != bot.StateAgent
}

// payload counts the answers to the bot's questions that come as quick
// replies: "Was this helpful?" and the satisfaction survey.
func (m *Metrics) payload(p string) {
	const survey = "survey:"
	switch {
	case p == bot.PayloadHelpfulYes:
		m.feedback.WithLabelValues("yes").Inc()
	case p == bot.PayloadHelpfulNo:
		m.feedback.WithLabelValues("no").Inc()
	case strings.HasPrefix(p, survey) && len(p) == len(survey)+1 && p[len(survey)] >= '1' && p[len(survey)] <= '5':
		m.survey.WithLabelValues(p[len(survey):]).Inc()
	}
}

// lookup returns a new record of the conversation with its channel and
// owner from the store; both "unknown" if it cannot be read.
func lookup(ctx context.Context, convs Conversations, id string) *conversation {
	c := &conversation{channel: "unknown"}
	if convs == nil {
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	if conv, err := convs.Conversation(ctx, id); err == nil {
		c.channel = channel(conv.Channel)
		c.state = conv.State
	}
	return c
}

// remember adds c, first forgetting idle conversations (at most once a
// minute) and, past maxConversations, the least recently seen tenth.
// m.mu must be held.
func (m *Metrics) remember(id string, c *conversation, now time.Time) {
	if now.Sub(m.lastPrune) >= time.Minute {
		m.lastPrune = now
		for k, v := range m.convs {
			if now.Sub(v.seen) > idleAfter {
				delete(m.convs, k)
			}
		}
	}
	if len(m.convs) >= maxConversations {
		cut := oldest(m.convs, maxConversations/10)
		for k, v := range m.convs {
			if !v.seen.After(cut) {
				delete(m.convs, k)
			}
		}
	}
	c.seen = now
	m.convs[id] = c
}

// oldest returns a time such that about n of the conversations were seen
// at or before it: the n-th smallest last-seen time.
func oldest(convs map[string]*conversation, n int) time.Time {
	times := make([]time.Time, 0, len(convs))
	for _, c := range convs {
		times = append(times, c.seen)
	}
	// A partial selection would do; this runs once per maxConversations/10
	// new conversations, so a sort is cheap enough.
	slices.SortFunc(times, time.Time.Compare)
	return times[min(n, len(times))-1]
}

// forgetTurns drops the turns being timed: after missed events their
// ends are unknown.
func (m *Metrics) forgetTurns() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.convs {
		c.asked = time.Time{}
	}
}

// activeWithBot counts the remembered conversations that the bot owns and
// that had an event within idleAfter. m.mu must be held.
func (m *Metrics) activeWithBot(now time.Time) int {
	n := 0
	for _, c := range m.convs {
		if c.state == bot.StateBot && now.Sub(c.seen) <= idleAfter {
			n++
		}
	}
	return n
}

// queueEvent counts one queue event and, for an assignment, the wait.
func (m *Metrics) queueEvent(e handoff.Event) {
	m.queueEvents.WithLabelValues(label(string(e.Kind))).Inc()
	if e.Kind == handoff.EventAssigned && e.Ticket != nil && !e.Ticket.QueuedAt.IsZero() && !e.Ticket.AssignedAt.IsZero() {
		m.queueWait.Observe(e.Ticket.AssignedAt.Sub(e.Ticket.QueuedAt).Seconds())
	}
}

// channel is the label of a conversation's channel.
func channel(c bot.Channel) string {
	switch c {
	case bot.Web, bot.Telegram:
		return string(c)
	}
	return "other"
}

// sender is the label of a message's sender.
func sender(s bot.Sender) string {
	switch s {
	case bot.FromCustomer, bot.FromBot, bot.FromAgent, bot.FromSystem:
		return string(s)
	}
	return "other"
}
