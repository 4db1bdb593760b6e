package bot_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

func TestEveryCoreErrorCarriesItsCode(t *testing.T) {
	cases := []struct {
		err  error
		code bot.Code
	}{
		{bot.ErrNotFound, bot.CodeNotFound},
		{bot.ErrEmpty, bot.CodeInvalid},
		{bot.ErrNotOwner, bot.CodeForbidden},
		{bot.ErrClosed, bot.CodeUnavailable},
		{bot.ErrIdentityTaken, bot.CodeConflict},
		{bot.ErrLinkUnknown, bot.CodeNotFound},
		{handoff.ErrAlreadyClaimed, bot.CodeConflict},
		{handoff.ErrForbidden, bot.CodeForbidden},
		{handoff.ErrBadCredentials, bot.CodeUnauthorized},
		{handoff.ErrRateLimited, bot.CodeRateLimited},
		{handoff.ErrInvalid, bot.CodeInvalid},
		{errors.New("disk on fire"), bot.CodeInternal},
	}
	for _, c := range cases {
		wrapped := fmt.Errorf("claim con_1: %w", c.err)
		if got := bot.ErrorCode(wrapped); got != c.code {
			t.Errorf("%v: code %q, want %q", c.err, got, c.code)
		}
		if !errors.Is(wrapped, c.err) {
			t.Errorf("%v is not found through the wrapping", c.err)
		}
	}
	if bot.ErrorCode(nil) != "" {
		t.Error("nil has a code")
	}
	if m := bot.ErrorMessage(fmt.Errorf("open: %w", errors.New("secret path /var/x"))); m == "" || m == "secret path /var/x" {
		t.Errorf("an internal error's message reaches people: %q", m)
	}
	if handoff.ErrNotOwner != bot.ErrNotOwner {
		t.Error("two different ErrNotOwner")
	}
}
