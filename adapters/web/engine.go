package web

import (
	"context"

	"github.com/frontdesk/frontdesk/bot"
)

// Engine is what the web channel needs of the bot: conversations for its
// visitors, their events, and links to other channels. *bot.Engine
// implements it.
type Engine interface {
	Conversations
	Links
	Identities
}

// Conversations are the web visitors' sessions and turns.
type Conversations interface {
	// Open finds the visitor's customer and conversation, or reserves new
	// ones that are stored with the first message (Persist stores them
	// earlier).
	Open(ctx context.Context, id bot.Identity, p bot.Profile) (*bot.Session, error)
	Persist(ctx context.Context, s *bot.Session) error
	Handle(ctx context.Context, in bot.Inbound) (bot.Message, error)
	UpdateProfile(ctx context.Context, customerID string, p bot.Profile) (*bot.Customer, error)
	Typing(conversationID string, from bot.Sender, agent string)
	Subscribe(conversationID string, buffer int) bot.Subscription
	Conversation(ctx context.Context, id string) (*bot.Conversation, error)
	MessagePage(ctx context.Context, conversationID string, after int64, limit int) (ms []bot.Message, next int64, err error)
}

// Links continue a conversation on another channel.
type Links interface {
	LinkChannels(ctx context.Context) ([]bot.Channel, error)
	ChannelLink(ctx context.Context, customerID string, ch bot.Channel) (string, error)
	RedeemLinkCode(ctx context.Context, code string, id bot.Identity) (*bot.Customer, error)
}

var _ Engine = (*bot.Engine)(nil)
