package handoff

import (
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// EventKind says what happened in the queue.
type EventKind string

// Event kinds.
const (
	EventQueued      EventKind = "queued"      // a ticket entered the waiting queue
	EventAssigned    EventKind = "assigned"    // an agent got a ticket, by routing (an offer) or claim
	EventAccepted    EventKind = "accepted"    // an agent accepted a ticket routing offered it
	EventWithdrawn   EventKind = "withdrawn"   // an offer went back to the queue: its agent left before accepting
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

// Subscription receives queue events until it is closed. Its C delivers
// the events in the order they happened; it is closed by Close, or when
// the subscriber fell behind (Lagged): a lagging subscriber has missed
// events and should reload the queue (Queue.Tickets) and subscribe again.
type Subscription = bot.Sub[Event]

// Relay carries the queue's events between the nodes that share one
// store, so that every node's subscribers see every node's changes. A
// Queue without one (one node) publishes to its own subscribers only.
// store/postgres implements it with LISTEN/NOTIFY.
type Relay interface {
	// Announce sends e to every node's subscribers, this node's included,
	// once tx, the transaction of the act that made e, commits; never if
	// it does not.
	Announce(tx bot.Tx, e Event) error
	// Publish sends e, which no act made (presence, SLA breaches), to
	// every node's subscribers, this node's included, ordered before
	// the events of any act this node commits after Publish returns.
	Publish(e Event)
	// Subscribe returns a subscription to the events of every node. A
	// relay that may have missed events (its connection was lost) drops
	// its subscribers as lagged, so that they reload the queue.
	Subscribe(buffer int) *Subscription
}
