package telegram

import (
	"context"

	"github.com/frontdesk/frontdesk/bot"
)

// Engine is what the Telegram channel needs of the bot. *bot.Engine
// implements it.
type Engine interface {
	Start(ctx context.Context, id bot.Identity, p bot.Profile) (*bot.Session, error)
	CustomerByIdentity(ctx context.Context, id bot.Identity) (*bot.Customer, error)
	Handle(ctx context.Context, in bot.Inbound) (bot.Message, error)
	// Messages are what the customer may see of a conversation.
	Messages(ctx context.Context, conversationID string, after int64) ([]bot.Message, error)
	Subscribe(conversationID string, buffer int) bot.Subscription
	OfferChannel(ctx context.Context, ch bot.Channel, prefix string) error
	CreateLinkCode(ctx context.Context, customerID string) (string, error)
	RedeemLinkCode(ctx context.Context, code string, id bot.Identity) (*bot.Customer, error)
}

var _ Engine = (*bot.Engine)(nil)
