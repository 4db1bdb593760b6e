package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/kb"
)

func TestLinkCodes(t *testing.T) {
	ctx := context.Background()
	tg := func(id string) bot.Identity { return bot.Identity{Channel: bot.Telegram, ID: id} }

	t.Run("a code links the identity to its customer once", func(t *testing.T) {
		r := newRig(t, kb.Thresholds{})
		web := r.start("visitor")
		code, err := r.engine.CreateLinkCode(ctx, web.Customer.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(code) < 22 {
			t.Errorf("code %q is shorter than 128 bits in base64url", code)
		}
		c, err := r.engine.RedeemLinkCode(ctx, code, tg("1"))
		if err != nil || c.ID != web.Customer.ID {
			t.Fatalf("redeem: %v, %v", c, err)
		}
		if got, err := r.db.CustomerByIdentity(ctx, tg("1")); err != nil || got.ID != web.Customer.ID {
			t.Fatalf("telegram identity belongs to %v (%v), want %s", got, err, web.Customer.ID)
		}
		if _, err := r.engine.RedeemLinkCode(ctx, code, tg("2")); !errors.Is(err, bot.ErrLinkUnknown) {
			t.Errorf("reused code: err %v, want ErrLinkUnknown", err)
		}
		if _, err := r.db.CustomerByIdentity(ctx, tg("2")); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("a reused code linked someone: %v", err)
		}
	})

	t.Run("an expired or unknown code links nothing", func(t *testing.T) {
		r := newRig(t, kb.Thresholds{})
		web := r.start("visitor")
		code, err := r.engine.CreateLinkCode(ctx, web.Customer.ID)
		if err != nil {
			t.Fatal(err)
		}
		r.clock.Add(bot.LinkCodeTTL + time.Second)
		if _, err := r.engine.RedeemLinkCode(ctx, code, tg("1")); !errors.Is(err, bot.ErrLinkExpired) {
			t.Errorf("expired code: err %v, want ErrLinkExpired", err)
		}
		if _, err := r.engine.RedeemLinkCode(ctx, "nonsense", tg("1")); !errors.Is(err, bot.ErrLinkUnknown) {
			t.Errorf("unknown code: err %v, want ErrLinkUnknown", err)
		}
		if _, err := r.db.CustomerByIdentity(ctx, tg("1")); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("a bad code linked someone: %v", err)
		}
	})

	t.Run("an identity with history is moved and the old customer points to the new", func(t *testing.T) {
		r := newRig(t, kb.Thresholds{})
		web := r.start("visitor")
		old, err := r.engine.Start(ctx, tg("1"), bot.Profile{Name: "Ana"})
		if err != nil {
			t.Fatal(err)
		}
		code, _ := r.engine.CreateLinkCode(ctx, web.Customer.ID)
		if _, err := r.engine.RedeemLinkCode(ctx, code, tg("1")); err != nil {
			t.Fatal(err)
		}
		was, _ := r.db.Customer(ctx, old.Customer.ID)
		now, _ := r.db.Customer(ctx, web.Customer.ID)
		if was.Attrs[bot.AttrMergedInto] != web.Customer.ID || now.Attrs[bot.AttrLinkedFrom] != old.Customer.ID || len(was.Identities) != 0 {
			t.Errorf("old customer %+v, linked customer %+v: want merged_into and linked_from recorded", was, now)
		}
		if convs, _ := r.db.Conversations(ctx, old.Customer.ID); len(convs) != 1 {
			t.Errorf("the old customer's conversations were lost: %v", convs)
		}
	})

	t.Run("channels are offered only once configured", func(t *testing.T) {
		r := newRig(t, kb.Thresholds{})
		web := r.start("visitor")
		if _, err := r.engine.ChannelLink(ctx, web.Customer.ID, bot.Telegram); !errors.Is(err, bot.ErrChannelUnavailable) {
			t.Errorf("unconfigured channel: err %v", err)
		}
		if err := r.engine.OfferChannel(ctx, bot.Telegram, "https://t.me/shop_bot?start="); err != nil {
			t.Fatal(err)
		}
		chs, _ := r.engine.LinkChannels(ctx)
		url, err := r.engine.ChannelLink(ctx, web.Customer.ID, bot.Telegram)
		if len(chs) != 1 || chs[0] != bot.Telegram || err != nil || len(url) < len("https://t.me/shop_bot?start=")+22 {
			t.Errorf("channels %v, link %q, %v", chs, url, err)
		}
	})
}
