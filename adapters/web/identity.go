package web

import (
	"context"
	"errors"
	"strings"

	"github.com/frontdesk/frontdesk/bot"
)

// Identities merge a visitor into the customer a shop vouched for.
type Identities interface {
	Identify(ctx context.Context, visitor bot.Identity, v bot.Verified) (*bot.Customer, error)
}

// identityFrame is who the shop's page says the visitor is
// (Frontdesk.identify in the widget). UserHash is the hex HMAC-SHA256 of
// UserID with the installation's identity secret, computed by the shop's
// server: only with it is the identity believed.
type identityFrame struct {
	UserID     string            `json:"user_id"`
	Email      string            `json:"email"`
	Name       string            `json:"name"`
	Attributes map[string]string `json:"attributes"`
	UserHash   string            `json:"user_hash"`
}

// identify handles hello's identity before the session opens. A correctly
// signed identity merges the visitor token into the shop's customer (so
// Open then finds that customer and their conversation). Anything else
// is an anonymous visitor: an error frame says why the identity was not
// believed, and its name may fill in the name of a visitor not yet
// named; its email is used only when no secret is set (a shop that signs
// identities wants no unsigned email to count).
func (c *conn) identify(ctx context.Context, f *inFrame, token string) {
	id := f.Identity
	secret := c.s.opts.IdentitySecret
	userID := strings.TrimSpace(id.UserID)
	if len(secret) > 0 && bot.VerifyUserHash(secret, userID, id.UserHash) {
		_, err := c.s.engine.Identify(ctx, visitorIdentity(token), bot.Verified{
			ExternalID: userID, Name: truncate(id.Name, 200), Email: truncate(id.Email, 200), Attributes: id.Attributes,
		})
		switch {
		case err == nil:
			return
		case bot.ErrorCode(err) == bot.CodeInvalid:
			c.enqueue(errorFrame{Type: "error", Code: codeIdentity, Message: "identity refused: " + bot.ErrorMessage(err)})
		case errors.Is(err, context.Canceled):
		default:
			c.s.opts.Log.Error("identify web visitor", "err", err)
			c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "could not recognise your account; chatting anonymously"})
		}
		return
	}
	if len(secret) > 0 {
		c.s.opts.Log.Info("web visitor's identity not verified; chatting anonymously", "signed", id.UserHash != "")
		c.enqueue(errorFrame{Type: "error", Code: codeIdentity, Message: "the identity's user_hash does not match; chatting anonymously"})
	}
	if f.Name == "" {
		f.Name = truncate(id.Name, 200)
	}
	if f.Email == "" && len(secret) == 0 {
		f.Email = truncate(id.Email, 200)
	}
}
