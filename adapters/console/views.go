package console

import (
	"context"
	"slices"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// ---- JSON views ------------------------------------------------------------
//
// The API's shapes are a contract (docs/agent-api.md): they are declared
// here, apart from the domain types, so that a change in bot or handoff
// does not silently change what outside tools receive.

type agentView struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Email    string       `json:"email"`
	Role     handoff.Role `json:"role"`
	Teams    []string     `json:"teams"`
	MaxChats int          `json:"max_chats"`
}

func viewAgent(a *handoff.Agent) agentView {
	return agentView{ID: a.ID, Name: a.Name, Email: a.Email, Role: a.Role, Teams: nonNil(a.Teams), MaxChats: a.Capacity()}
}

type agentStatus struct {
	agentView
	Presence handoff.Presence `json:"presence"`
	// Load is how many open conversations the agent owns.
	Load     int  `json:"load"`
	Disabled bool `json:"disabled"`
}

type customerView struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	Email              string            `json:"email"`
	Segment            string            `json:"segment"`
	Tags               []string          `json:"tags"`
	Attrs              map[string]string `json:"attrs"`
	Topics             []bot.Topic       `json:"topics"`
	DedicatedAgent     string            `json:"dedicated_agent"`
	DedicatedAgentName string            `json:"dedicated_agent_name,omitempty"`
	Channels           []bot.Channel     `json:"channels"`
	Visits             int               `json:"visits"`
	FirstSeen          time.Time         `json:"first_seen"`
	LastSeen           time.Time         `json:"last_seen"`
}

func viewCustomer(c *bot.Customer, names names) *customerView {
	if c == nil {
		return nil
	}
	v := &customerView{
		ID: c.ID, Name: c.Name, Email: c.Email, Segment: c.Segment, Tags: nonNil(c.Tags),
		Attrs: c.Attrs, Topics: nonNil(c.Topics), DedicatedAgent: c.DedicatedAgent,
		DedicatedAgentName: names[c.DedicatedAgent], Channels: []bot.Channel{},
		Visits: c.Visits, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen,
	}
	if v.Attrs == nil {
		v.Attrs = map[string]string{}
	}
	// The identities' ids are secrets (a hashed visitor token) or private
	// (a Telegram user id): only their channels are shown.
	for _, id := range c.Identities {
		if !slices.Contains(v.Channels, id.Channel) {
			v.Channels = append(v.Channels, id.Channel)
		}
	}
	return v
}

type ticketView struct {
	ConversationID string         `json:"conversation_id"`
	TicketID       string         `json:"ticket_id"`
	Reason         string         `json:"reason"`
	Priority       int            `json:"priority"`
	QueuedAt       time.Time      `json:"queued_at"`
	Created        time.Time      `json:"created"`
	AssignedAt     time.Time      `json:"assigned_at,omitzero"`
	FirstReplyAt   time.Time      `json:"first_reply_at,omitzero"`
	ClosedAt       time.Time      `json:"closed_at,omitzero"`
	Customer       *customerView  `json:"customer"`
	Channel        bot.Channel    `json:"channel,omitempty"`
	Team           string         `json:"team"`
	Tier           int            `json:"tier"`
	Status         handoff.Status `json:"status"`
	Agent          string         `json:"agent"`
	AgentName      string         `json:"agent_name,omitempty"`
	// WaitingSeconds is how long the ticket has waited in the queue: until
	// now while it waits, until it was assigned afterwards.
	WaitingSeconds int64 `json:"waiting_seconds"`
	SLABreached    bool  `json:"sla_breached"`
	Escalated      bool  `json:"escalated"`
	// CanClaim says whether the requesting agent may claim it now (or,
	// for a conversation offered to the agent, accept it).
	CanClaim bool `json:"can_claim"`
	// Offered: routing reserved the conversation for Agent, who has not
	// opened it yet; its customer still waits (see handoff.Ticket).
	Offered bool `json:"offered,omitempty"`
	// State is the conversation's owner now; LastSeq its newest message;
	// LastMessage the newest message said between the customer and the
	// bot or an agent, for the list's preview and time.
	State       bot.State        `json:"state,omitempty"`
	LastSeq     int64            `json:"last_seq"`
	LastMessage *bot.LastMessage `json:"last_message,omitempty"`
}

// viewTicket describes t to agent a, with its customer and channel.
func (s *Server) viewTicket(ctx context.Context, t *handoff.Ticket, a *handoff.Agent, names names, now time.Time) *ticketView {
	if t == nil {
		return nil
	}
	v := &ticketView{
		ConversationID: t.ConversationID, TicketID: t.ID, Reason: t.Reason, Priority: t.Priority,
		QueuedAt: t.QueuedAt, Created: t.Created, AssignedAt: t.AssignedAt, FirstReplyAt: t.FirstReplyAt,
		ClosedAt: t.ClosedAt, Team: t.Team, Tier: t.Tier, Status: t.Status, Agent: t.Agent,
		AgentName: names[t.Agent], SLABreached: t.SLABreached, Escalated: t.Escalated,
		CanClaim: t.Waiting() && handoff.CanActOn(a, t) || t.Offered && t.Agent == a.ID,
		Offered:  t.Offered,
	}
	switch {
	case t.Waiting():
		v.WaitingSeconds = int64(now.Sub(t.QueuedAt) / time.Second)
	case !t.AssignedAt.IsZero():
		v.WaitingSeconds = int64(t.AssignedAt.Sub(t.QueuedAt) / time.Second)
	}
	v.WaitingSeconds = max(v.WaitingSeconds, 0)
	st := s.engine
	if c, err := st.Customer(ctx, t.CustomerID); err == nil {
		v.Customer = viewCustomer(c, names)
	} else {
		v.Customer = &customerView{ID: t.CustomerID, Tags: []string{}, Attrs: map[string]string{}, Topics: []bot.Topic{}, Channels: []bot.Channel{}}
	}
	if c, err := st.Conversation(ctx, t.ConversationID); err == nil {
		v.Channel, v.State, v.LastSeq, v.LastMessage = c.Channel, c.State, c.LastSeq, c.Last
	}
	return v
}

type messageView struct {
	Seq          int64            `json:"seq"`
	From         bot.Sender       `json:"from"`
	Text         string           `json:"text"`
	Time         time.Time        `json:"time"`
	Agent        string           `json:"agent"`
	AgentName    string           `json:"agent_name"`
	Internal     bool             `json:"internal"`
	Decision     *bot.Decision    `json:"decision"`
	QuickReplies []bot.QuickReply `json:"quick_replies,omitempty"`
	// Payload is the quick reply a customer chose.
	Payload string `json:"payload,omitempty"`
}

func viewMessage(m *bot.Message) messageView {
	return messageView{Seq: m.Seq, From: m.From, Text: m.Text, Time: m.Time, Agent: m.Agent, AgentName: m.AgentName,
		Internal: m.Internal, Decision: m.Decision, QuickReplies: m.QuickReplies, Payload: m.Payload}
}

func viewMessages(ms []bot.Message) []messageView {
	out := make([]messageView, len(ms))
	for i := range ms {
		out[i] = viewMessage(&ms[i])
	}
	return out
}

type conversationView struct {
	*bot.Conversation
	AgentName string `json:"agent_name,omitempty"`
}

type pastConversation struct {
	ID            string        `json:"id"`
	Channel       bot.Channel   `json:"channel"`
	State         bot.State     `json:"state"`
	Created       time.Time     `json:"created"`
	Updated       time.Time     `json:"updated"`
	MessageCount  int64         `json:"message_count"`
	HandoffReason string        `json:"handoff_reason,omitempty"`
	Rating        int           `json:"rating,omitempty"`
	LastMessages  []messageView `json:"last_messages"`
}

type suggestionView struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Confidence float64  `json:"confidence"`
	Body       string   `json:"body"`
	Tags       []string `json:"tags"`
}

// names maps agent ids to display names.
type names map[string]string

// names returns every agent's name, for views of several tickets.
func (s *Server) names(ctx context.Context) names {
	list, err := s.agents.List(ctx)
	if err != nil {
		s.opts.Log.Error("list agents", "err", err)
		return names{}
	}
	n := make(names, len(list))
	for _, a := range list {
		n[a.ID] = a.Name
	}
	return n
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
