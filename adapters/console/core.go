package console

import (
	"context"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// Engine is what the console needs of the bot: conversations, their
// customers and events. *bot.Engine implements it.
type Engine interface {
	Conversation(ctx context.Context, id string) (*bot.Conversation, error)
	Conversations(ctx context.Context, customerID string) ([]bot.Conversation, error)
	Customer(ctx context.Context, id string) (*bot.Customer, error)
	// Transcript is every message, agents' notes included.
	Transcript(ctx context.Context, conversationID string, after int64) ([]bot.Message, error)
	UpdateCustomer(ctx context.Context, customerID string, fn func(c *bot.Customer) error) (*bot.Customer, error)
	Subscribe(conversationID string, buffer int) bot.Subscription
	Typing(conversationID string, from bot.Sender, agent string)
}

// Queue is what the console needs of the agent queue: tickets, the acts
// on them, and presence. *handoff.Queue implements it.
type Queue interface {
	Ticket(ctx context.Context, conversationID string) (*handoff.Ticket, error)
	Tickets(ctx context.Context, f handoff.Filter) ([]handoff.Ticket, error)
	// Closed lists closed tickets, the most recently closed first.
	Closed(ctx context.Context, before time.Time, limit int) ([]handoff.Ticket, error)
	Claim(ctx context.Context, conversationID, agentID string) (handoff.Ticket, error)
	Reply(ctx context.Context, am bot.AgentMessage) (bot.Message, error)
	Transfer(ctx context.Context, conversationID, by string, to handoff.Target) (handoff.Ticket, error)
	Escalate(ctx context.Context, conversationID, by string) (handoff.Ticket, error)
	Resolve(ctx context.Context, conversationID, by string) (handoff.Ticket, error)
	ReturnToBot(ctx context.Context, conversationID, by string) (handoff.Ticket, error)
	Heartbeat(ctx context.Context, agentID string, p handoff.Presence) error
	Presence(agentID string) handoff.Presence
	Presences() map[string]handoff.Presence
	Subscribe(buffer int) *handoff.Subscription
}

// Agents is what the console needs of the agent accounts and their
// sessions. *handoff.Agents implements it.
type Agents interface {
	Login(ctx context.Context, email, password, remoteAddr string) (string, *handoff.Agent, error)
	Authenticate(ctx context.Context, token string) (*handoff.Agent, *handoff.Session, error)
	Logout(ctx context.Context, token string) error
	Agent(ctx context.Context, id string) (*handoff.Agent, error)
	List(ctx context.Context) ([]handoff.Agent, error)
	Add(ctx context.Context, n handoff.NewAgent) (*handoff.Agent, error)
	Disable(ctx context.Context, id string) error
	Enable(ctx context.Context, id string) error
	SetPassword(ctx context.Context, id, password string) error
	ChangePassword(ctx context.Context, id, current, password, remoteAddr string) error
}

var (
	_ Engine = (*bot.Engine)(nil)
	_ Queue  = (*handoff.Queue)(nil)
	_ Agents = (*handoff.Agents)(nil)
)
