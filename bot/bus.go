package bot

// EventKind says what happened in a conversation.
type EventKind string

// Event kinds.
const (
	EventMessage EventKind = "message" // a message was appended (and stored)
	EventState   EventKind = "state"   // the conversation changed owner
	EventTyping  EventKind = "typing"  // someone is typing (not stored)
	// EventDraft: part of a bot answer still being written (not stored;
	// the message that completes it follows, with Message.Draft set).
	EventDraft EventKind = "draft"
	EventRead  EventKind = "read" // the customer or the people have seen messages up to Seq
)

// Event is published on the Bus after what it reports is stored.
type Event struct {
	Kind           EventKind `json:"kind"`
	ConversationID string    `json:"conversation_id"`
	// Channel is the conversation's channel (set on message and state
	// events), so a channel's adapter can skip the others' events.
	Channel Channel  `json:"channel,omitempty"`
	Message *Message `json:"message,omitempty"`
	State   State    `json:"state,omitempty"`
	// From is who is typing, for EventTyping, or who read, for
	// EventRead.
	From Sender `json:"from,omitempty"`
	// Agent is the owning agent's display name for EventState to
	// StateAgent, or the typing agent's.
	Agent string `json:"agent,omitempty"`
	// Draft is the answer so far, for EventDraft.
	Draft *Draft `json:"draft,omitempty"`
	// Seq is how far From has read, for EventRead.
	Seq int64 `json:"seq,omitempty"`
}

// Bus carries conversation events from the acts that cause them to the
// adapters that deliver them. The Engine publishes an act's events only
// once the act is durable, in commit order; a subscriber that falls behind
// is dropped and catches up from the store, which holds every message, so
// a bus may lose events but never a message. LocalBus is the in-process
// bus; a bus across machines implements the same.
type Bus interface {
	// Publish delivers e to the subscribers of its conversation and to
	// those of all conversations, without blocking.
	Publish(e Event)
	// Subscribe returns a subscription to the events of the conversation,
	// or of every conversation when conversationID is "". buffer bounds
	// how many events may wait for the subscriber before it is dropped.
	Subscribe(conversationID string, buffer int) Subscription
}

// Subscription receives events from a Bus.
type Subscription interface {
	// C delivers the events; it is closed by Close or when the subscriber
	// lagged.
	C() <-chan Event
	// Lagged reports whether events were dropped because the buffer was
	// full.
	Lagged() bool
	// Close ends the subscription. It is safe to call more than once.
	Close()
}

// LocalBus fans conversation events out to subscribers in this process.
// Publish never blocks: a subscriber whose buffer is full is dropped (its
// channel closed and Lagged set). The zero value is not usable; call
// NewBus.
type LocalBus struct {
	feed Feed[Event]
}

var _ Bus = (*LocalBus)(nil)

// NewBus returns an empty in-process bus.
func NewBus() *LocalBus { return &LocalBus{} }

// Subscribe implements Bus.
func (b *LocalBus) Subscribe(conversationID string, buffer int) Subscription {
	return b.feed.Subscribe(conversationID, buffer)
}

// Publish implements Bus.
func (b *LocalBus) Publish(e Event) { b.feed.Publish(e.ConversationID, e) }
