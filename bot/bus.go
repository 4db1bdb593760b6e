package bot

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
	feed Feed[Event]
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{} }

// Subscription receives the events of one conversation, or of all.
type Subscription = Sub[Event]

// Subscribe returns a subscription to the events of the conversation, or
// of every conversation when conversationID is "". buffer bounds how many
// events may wait for the subscriber before it is dropped.
func (b *Bus) Subscribe(conversationID string, buffer int) *Subscription {
	return b.feed.Subscribe(conversationID, buffer)
}

// Publish delivers e to the subscribers of its conversation and to those
// of all conversations.
func (b *Bus) Publish(e Event) { b.feed.Publish(e.ConversationID, e) }
