package bolt

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// The retention tests run on a fixed clock: every time is a date in
// 2025-2026, and the cutoff is given to Expire.
func TestExpireDeletesOnlyOldConversationsNobodyHandles(t *testing.T) {
	db, commits := openCounting(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	old, recent := now.Add(-year-24*time.Hour), now.Add(-year+24*time.Hour)
	cases := []struct {
		p     person
		state bot.State
		gone  bool
	}{
		{person{id: "cus_old_bot", at: old}, bot.StateBot, true},
		{person{id: "cus_old_closed", at: old}, bot.StateClosed, true},
		{person{id: "cus_old_queued", at: old}, bot.StateQueued, false},
		{person{id: "cus_old_agent", at: old}, bot.StateAgent, false},
		{person{id: "cus_recent", at: recent}, bot.StateBot, false},
	}
	for i := range cases {
		c := &cases[i]
		c.p.state, c.p.messages, c.p.name, c.p.email = c.state, 3, "Name "+c.p.id, c.p.id+"@example.com"
		c.p.sentence = "text of " + c.p.id
		seed(t, db, c.p)
		// seed moves Updated with the messages; put it back on the day.
		conv, _ := db.Conversation(ctx, "con_"+c.p.id)
		conv.Updated = c.p.at
		if err := db.SaveConversation(ctx, conv); err != nil {
			t.Fatal(err)
		}
	}
	// An old customer who has a recent conversation keeps both.
	seed(t, db, person{id: "cus_back", at: recent, messages: 1})
	if _, err := db.UpdateCustomer(ctx, "cus_back", func(c *bot.Customer) error { c.FirstSeen = old; return nil }); err != nil {
		t.Fatal(err)
	}

	before := commits.n.Load()
	erased, err := db.Expire(ctx, now.Add(-year))
	if err != nil {
		t.Fatal(err)
	}
	if want := (bot.Erased{Customers: 2, Conversations: 2, Messages: 14}); erased != want {
		t.Errorf("erased %+v, want %+v", erased, want)
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s conversation %s is kept: %v", c.state, c.p.id, !c.gone), func(t *testing.T) {
			_, cerr := db.Conversation(ctx, "con_"+c.p.id)
			_, uerr := db.Customer(ctx, c.p.id)
			_, eerr := db.CustomerByEmail(ctx, c.p.email)
			_, ierr := db.CustomerByIdentity(ctx, bot.Identity{Channel: bot.Web, ID: "hash-of-" + c.p.id})
			ms, _ := db.Messages(ctx, "con_"+c.p.id, 0)
			if c.gone {
				for what, err := range map[string]error{"conversation": cerr, "customer": uerr, "email": eerr, "identity": ierr} {
					if !errors.Is(err, bot.ErrNotFound) {
						t.Errorf("%s: %v, want not found", what, err)
					}
				}
				if len(ms) > 0 {
					t.Errorf("%d messages left", len(ms))
				}
				if _, err := db.Ticket(ctx, "con_"+c.p.id); !errors.Is(err, bot.ErrNotFound) {
					t.Errorf("ticket: %v", err)
				}
				return
			}
			if cerr != nil || uerr != nil || eerr != nil || ierr != nil || len(ms) != 7 {
				t.Errorf("conversation %v, customer %v, email %v, identity %v, %d messages", cerr, uerr, eerr, ierr, len(ms))
			}
		})
	}
	if _, err := db.Customer(ctx, "cus_back"); err != nil {
		t.Errorf("a customer with a recent conversation: %v", err)
	}
	tallies, err := db.Tallies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := tallies[old.Format("2006-01-02")]; got.Conversations != 2 || got.Messages != 14 || got.Handoffs != 2 || got.Ratings["4"] != 2 {
		t.Errorf("tally %+v", got)
	}
	if n := commits.n.Load() - before; n != 2 {
		t.Errorf("%d commits, want 2 (one act for the conversations, one for the customers)", n)
	}

	t.Run("a second sweep finds nothing and commits nothing", func(t *testing.T) {
		before := commits.n.Load()
		erased, err := db.Expire(ctx, now.Add(-year))
		if err != nil || erased != (bot.Erased{}) {
			t.Errorf("erased %+v, %v", erased, err)
		}
		if n := commits.n.Load() - before; n != 0 {
			t.Errorf("%d commits", n)
		}
	})
}

func TestExpireDeletesInBoundedActs(t *testing.T) {
	db, commits := openCounting(t)
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 2*ExpireBatch + 50
	err := db.Update(ctx, func(tx bot.Tx) error {
		for i := range n {
			id := fmt.Sprintf("cus_%04d", i)
			if err := tx.PutCustomer(&bot.Customer{ID: id, FirstSeen: old, LastSeen: old}); err != nil {
				return err
			}
			c := &bot.Conversation{ID: "con_" + id, CustomerID: id, Channel: bot.Web, State: bot.StateBot, Created: old, Updated: old, LastSeq: 1}
			if err := tx.PutConversation(c); err != nil {
				return err
			}
			if err := tx.PutMessage(bot.Message{ConversationID: c.ID, Seq: 1, From: bot.FromCustomer, Text: "hello", Time: old}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before, acts := commits.n.Load(), commits.acts.Load()
	erased, err := db.Expire(ctx, old.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if erased != (bot.Erased{Customers: n, Conversations: n, Messages: n}) {
		t.Errorf("erased %+v", erased)
	}
	// 250 conversations in 3 acts, then 250 customers in 3 acts.
	if got := commits.acts.Load() - acts; got != 6 {
		t.Errorf("%d acts in %d commits, want 6 acts of at most %d records", got, commits.n.Load()-before, ExpireBatch)
	}
}

func TestExpireStopsWhenCancelled(t *testing.T) {
	db := open(t, tempPath(t))
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	seed(t, db, person{id: "cus_a", at: old, messages: 1})
	cctx, cancel := contextWithCancel()
	cancel()
	if _, err := db.Expire(cctx, old.Add(48*time.Hour)); err == nil {
		t.Error("a cancelled sweep reported success")
	}
	if _, err := db.Conversation(ctx, "con_cus_a"); err != nil {
		t.Errorf("a cancelled sweep deleted: %v", err)
	}
}

func contextWithCancel() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }
