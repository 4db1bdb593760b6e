package handoff

import (
	"cmp"
	"time"
)

// Status is where a ticket is in its life.
type Status string

// Ticket statuses. Queued and assigned tickets are open; resolved and
// returned ones are closed and kept for the record.
const (
	StatusQueued   Status = "queued"   // waiting for an agent
	StatusAssigned Status = "assigned" // one agent owns the conversation
	StatusResolved Status = "resolved" // closed by an agent as done
	StatusReturned Status = "returned" // handed back to the bot unresolved
)

// Ticket is one hand-off of a conversation to people: why, how urgent,
// who has it, and when each step happened. A conversation has at most one
// open ticket; handing it off again while one is open updates that one.
type Ticket struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversation_id"`
	CustomerID     string `json:"customer_id"`
	// Reason is why the bot handed off: "requested", "low_confidence",
	// "frustration", "article" or "negative_feedback".
	Reason string `json:"reason"`
	// Priority orders the waiting queue, higher first (see the bot
	// package's Priority constants); SLA breaches and escalation raise it.
	Priority int `json:"priority"`
	// Team the ticket is routed to first, from the topic's article tags.
	Team string `json:"team,omitempty"`
	// TeamOnly keeps routing within Team: set when an agent transferred
	// the ticket to that team explicitly.
	TeamOnly bool `json:"team_only,omitempty"`
	// DedicatedAgent is the customer's dedicated agent at hand-off time.
	DedicatedAgent string `json:"dedicated_agent,omitempty"`
	// Agent is the id of the agent who owns the conversation, or "".
	Agent  string `json:"agent,omitempty"`
	Status Status `json:"status"`
	// Offered marks an assigned ticket that routing reserved for Agent
	// but the agent has not yet accepted (opened or answered): the
	// conversation still waits in the queue as the customer sees it, and
	// nobody is said to have joined (see OwnerOf and Queue.Claim).
	Offered bool `json:"offered,omitempty"`
	// Tier is 1, or 2 once escalated to supervisors.
	Tier      int  `json:"tier"`
	Escalated bool `json:"escalated,omitempty"`
	// SLABreached is set, once, when the ticket waited past its SLA.
	SLABreached bool `json:"sla_breached,omitempty"`

	// Created is when the bot handed off. QueuedAt is when the ticket last
	// entered the waiting queue: at hand-off, and again after a transfer
	// to a team or an escalation; waiting time and SLAs count from it.
	Created      time.Time `json:"created"`
	QueuedAt     time.Time `json:"queued_at"`
	AssignedAt   time.Time `json:"assigned_at,omitzero"`
	FirstReplyAt time.Time `json:"first_reply_at,omitzero"`
	ResolvedAt   time.Time `json:"resolved_at,omitzero"`
	// ClosedAt is when the ticket was resolved or returned to the bot.
	ClosedAt time.Time `json:"closed_at,omitzero"`
}

// Open reports whether the ticket is queued or assigned.
func (t *Ticket) Open() bool {
	return t.Status == StatusQueued || t.Status == StatusAssigned
}

// Waiting reports whether the ticket waits in the queue for an agent.
func (t *Ticket) Waiting() bool { return t.Status == StatusQueued }

// queueOrder orders tickets as the waiting queue serves them: higher
// priority first, then longer waiting, then older hand-off, then id.
func queueOrder(a, b Ticket) int {
	if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
		return c
	}
	if c := a.QueuedAt.Compare(b.QueuedAt); c != 0 {
		return c
	}
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Filter selects open tickets for the console. Zero fields match all.
type Filter struct {
	Status Status // StatusQueued or StatusAssigned
	Agent  string
	Team   string
	Tier   int
}

func (f Filter) match(t *Ticket) bool {
	return (f.Status == "" || t.Status == f.Status) &&
		(f.Agent == "" || t.Agent == f.Agent) &&
		(f.Team == "" || t.Team == f.Team) &&
		(f.Tier == 0 || t.Tier == f.Tier)
}
