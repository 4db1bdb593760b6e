package handoff

import (
	"sync"
	"time"
)

// EventKind says what happened in the queue.
type EventKind string

// Event kinds.
const (
	EventQueued      EventKind = "queued"      // a ticket entered the waiting queue
	EventAssigned    EventKind = "assigned"    // an agent got a ticket, by routing or claim
	EventTransferred EventKind = "transferred" // a ticket moved to another agent or team
	EventEscalated   EventKind = "escalated"   // a ticket went to tier 2: alert supervisors
	EventResolved    EventKind = "resolved"    // an agent resolved a ticket: send the survey
	EventReturned    EventKind = "returned"    // a ticket went back to the bot unresolved
	EventSLABreach   EventKind = "sla_breach"  // a ticket waited past its SLA: alert supervisors
	EventPresence    EventKind = "presence"    // an agent came online, went away or offline
)

// Event is published to subscribers after the change it reports is
// stored. Subscribers must not modify Ticket, which they share.
type Event struct {
	Kind EventKind `json:"kind"`
	// Ticket as stored after the change; nil for EventPresence.
	Ticket *Ticket `json:"ticket,omitempty"`
	// Agent is the agent the event is about: the assignee, the transfer
	// target, the escalating or resolving agent, the agent whose presence
	// changed.
	Agent    string    `json:"agent,omitempty"`
	Presence Presence  `json:"presence,omitempty"`
	At       time.Time `json:"at"`
}

// Subscription receives queue events until it is closed.
type Subscription struct {
	n      *notifier
	c      chan Event
	mu     sync.Mutex
	closed bool
	lagged bool
}

// C delivers the events in the order they happened. It is closed by Close,
// or when the subscriber fell behind (see Lagged).
func (s *Subscription) C() <-chan Event { return s.c }

// Lagged reports whether the subscription was dropped because its buffer
// was full. A lagging subscriber has missed events and should reload the
// queue (Queue.Tickets) and subscribe again.
func (s *Subscription) Lagged() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lagged
}

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.n.mu.Lock()
	delete(s.n.subs, s)
	s.n.mu.Unlock()
	s.shut(false)
}

func (s *Subscription) shut(lagged bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed, s.lagged = true, lagged
		close(s.c)
	}
}

// notifier fans events out without ever blocking the publisher: a
// subscriber whose buffer is full is dropped.
type notifier struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

func (n *notifier) subscribe(buffer int) *Subscription {
	s := &Subscription{n: n, c: make(chan Event, max(buffer, 1))}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.subs == nil {
		n.subs = map[*Subscription]struct{}{}
	}
	n.subs[s] = struct{}{}
	return s
}

func (n *notifier) publish(e Event) {
	n.mu.Lock()
	var lagging []*Subscription
	for s := range n.subs {
		select {
		case s.c <- e:
		default:
			lagging = append(lagging, s)
			delete(n.subs, s)
		}
	}
	n.mu.Unlock()
	for _, s := range lagging {
		s.shut(true)
	}
}
