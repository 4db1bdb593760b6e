package bot

import "sync"

// EventKind says what happened in a conversation.
type EventKind string

// Event kinds.
const (
	EventMessage EventKind = "message" // a message was appended (and stored)
	EventState   EventKind = "state"   // the conversation changed owner
	EventTyping  EventKind = "typing"  // someone is typing (not stored)
)

// Event is published on the Bus after what it reports is stored.
type Event struct {
	Kind           EventKind `json:"kind"`
	ConversationID string    `json:"conversation_id"`
	Message        *Message  `json:"message,omitempty"`
	State          State     `json:"state,omitempty"`
	// From is who is typing, for EventTyping.
	From Sender `json:"from,omitempty"`
	// Agent is the owning agent's display name for EventState to
	// StateAgent, or the typing agent's.
	Agent string `json:"agent,omitempty"`
}

// Bus fans conversation events out to subscribers in this process. Publish
// never blocks: a subscriber whose buffer is full is dropped (its channel
// closed and Lagged set) and must catch up from the store, which holds
// every message. The zero value is not usable; call NewBus.
type Bus struct {
	mu   sync.Mutex
	subs map[string]map[*Subscription]struct{} // by conversation; "" = all
}

// NewBus returns an empty bus.
func NewBus() *Bus {
	return &Bus{subs: map[string]map[*Subscription]struct{}{}}
}

// Subscription receives the events of one conversation, or of all.
type Subscription struct {
	bus    *Bus
	key    string
	c      chan Event
	mu     sync.Mutex
	closed bool
	lagged bool
}

// Subscribe returns a subscription to the events of the conversation, or
// of every conversation when conversationID is "". buffer bounds how many
// events may wait for the subscriber before it is dropped.
func (b *Bus) Subscribe(conversationID string, buffer int) *Subscription {
	s := &Subscription{bus: b, key: conversationID, c: make(chan Event, buffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.subs[conversationID]
	if m == nil {
		m = map[*Subscription]struct{}{}
		b.subs[conversationID] = m
	}
	m[s] = struct{}{}
	return s
}

// C delivers the events; it is closed by Close or when the subscriber
// lagged.
func (s *Subscription) C() <-chan Event { return s.c }

// Lagged reports whether events were dropped because the buffer was full.
func (s *Subscription) Lagged() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lagged
}

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	delete(s.bus.subs[s.key], s)
	if len(s.bus.subs[s.key]) == 0 {
		delete(s.bus.subs, s.key)
	}
	s.bus.mu.Unlock()
	s.shut(false)
}

func (s *Subscription) shut(lagged bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.lagged = lagged
	close(s.c)
}

// Publish delivers e to the subscribers of its conversation and to those
// of all conversations.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	var lagging []*Subscription
	for _, key := range []string{e.ConversationID, ""} {
		for s := range b.subs[key] {
			select {
			case s.c <- e:
			default:
				lagging = append(lagging, s)
				delete(b.subs[key], s)
			}
		}
	}
	b.mu.Unlock()
	for _, s := range lagging {
		s.shut(true)
	}
}
