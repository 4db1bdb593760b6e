package storetest

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
var (
	expireNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	year      = 365 * 24 * time.Hour
)

func expire(t *testing.T, s Records, _ func() []byte) {
	old, recent := expireNow.Add(-year-24*time.Hour), expireNow.Add(-year+24*time.Hour)
	cases := []struct {
		p     Person
		state bot.State
		gone  bool
	}{
		{Person{ID: "cus_old_bot", At: old}, bot.StateBot, true},
		{Person{ID: "cus_old_closed", At: old}, bot.StateClosed, true},
		{Person{ID: "cus_old_queued", At: old}, bot.StateQueued, false},
		{Person{ID: "cus_old_agent", At: old}, bot.StateAgent, false},
		{Person{ID: "cus_recent", At: recent}, bot.StateBot, false},
	}
	for i := range cases {
		c := &cases[i]
		c.p.State, c.p.Messages, c.p.Name, c.p.Email = c.state, 3, "Name "+c.p.ID, c.p.ID+"@example.com"
		c.p.Sentence = "text of " + c.p.ID
		SeedPerson(t, s, c.p)
		// seed moves Updated with the messages; put it back on the day.
		conv, err := s.Conversation(ctx, "con_"+c.p.ID)
		if err != nil {
			t.Fatal(err)
		}
		conv.Updated = c.p.At
		if err := s.SaveConversation(ctx, conv); err != nil {
			t.Fatal(err)
		}
	}
	// An old customer who has a recent conversation keeps both; one with
	// no conversation at all, seen long ago, goes.
	SeedPerson(t, s, Person{ID: "cus_back", At: recent, Messages: 1})
	if _, err := s.UpdateCustomer(ctx, "cus_back", func(c *bot.Customer) error { c.FirstSeen = old; return nil }); err != nil {
		t.Fatal(err)
	}
	for id, seen := range map[string]time.Time{"cus_idle_old": old, "cus_idle_recent": recent} {
		if err := s.SaveCustomer(ctx, &bot.Customer{ID: id, Email: id + "@example.com", FirstSeen: seen, LastSeen: seen}); err != nil {
			t.Fatal(err)
		}
	}

	erased, err := s.Expire(ctx, expireNow.Add(-year))
	if err != nil {
		t.Fatal(err)
	}
	if want := (bot.Erased{Customers: 3, Conversations: 2, Messages: 14}); erased != want {
		t.Errorf("erased %+v, want %+v", erased, want)
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s conversation %s is kept: %v", c.state, c.p.ID, !c.gone), func(t *testing.T) {
			_, cerr := s.Conversation(ctx, "con_"+c.p.ID)
			_, uerr := s.Customer(ctx, c.p.ID)
			_, eerr := s.CustomerByEmail(ctx, c.p.Email)
			_, ierr := s.CustomerByIdentity(ctx, bot.Identity{Channel: bot.Web, ID: "hash-of-" + c.p.ID})
			ms, _ := s.Messages(ctx, "con_"+c.p.ID, 0)
			if c.gone {
				for what, err := range map[string]error{"conversation": cerr, "customer": uerr, "email": eerr, "identity": ierr} {
					if !errors.Is(err, bot.ErrNotFound) {
						t.Errorf("%s: %v, want not found", what, err)
					}
				}
				if len(ms) > 0 {
					t.Errorf("%d messages left", len(ms))
				}
				if _, err := s.Ticket(ctx, "con_"+c.p.ID); !errors.Is(err, bot.ErrNotFound) {
					t.Errorf("ticket: %v", err)
				}
				return
			}
			if cerr != nil || uerr != nil || eerr != nil || ierr != nil || len(ms) != 7 {
				t.Errorf("conversation %v, customer %v, email %v, identity %v, %d messages", cerr, uerr, eerr, ierr, len(ms))
			}
			if _, err := s.Ticket(ctx, "con_"+c.p.ID); err != nil {
				t.Errorf("ticket: %v", err)
			}
		})
	}
	if _, err := s.Customer(ctx, "cus_back"); err != nil {
		t.Errorf("a customer with a recent conversation: %v", err)
	}
	if _, err := s.Customer(ctx, "cus_idle_old"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("an old customer without conversations: %v, want deleted", err)
	}
	if _, err := s.CustomerByEmail(ctx, "cus_idle_recent@example.com"); err != nil {
		t.Errorf("a recent customer without conversations: %v, want kept", err)
	}
	if got := tallies(t, s)[old.Format("2006-01-02")]; got.Conversations != 2 || got.Messages != 14 || got.Handoffs != 2 || got.Ratings["4"] != 2 {
		t.Errorf("tally %+v", got)
	}
	t.Run("a second sweep finds nothing", func(t *testing.T) {
		erased, err := s.Expire(ctx, expireNow.Add(-year))
		if err != nil || erased != (bot.Erased{}) {
			t.Errorf("erased %+v, %v", erased, err)
		}
	})
	t.Run("a done context stops the sweep", func(t *testing.T) {
		done, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Expire(done, expireNow); !errors.Is(err, context.Canceled) {
			t.Errorf("expire with a cancelled context: %v", err)
		}
		if _, err := s.Conversation(ctx, "con_cus_recent"); err != nil {
			t.Errorf("a cancelled sweep deleted: %v", err)
		}
	})
}

// expireMany deletes more conversations and customers than one act
// takes (bolt.ExpireBatch, postgres.ExpireBatch: 100), keeping the one
// in the middle that a Person has.
func expireMany(t *testing.T, s Records, _ func() []byte) {
	const n = 250
	old := expireNow.Add(-2 * year)
	for i := range n {
		id := fmt.Sprintf("%03d", i)
		if err := s.SaveCustomer(ctx, &bot.Customer{ID: "cus_" + id, FirstSeen: old, LastSeen: old}); err != nil {
			t.Fatal(err)
		}
		state := bot.StateClosed
		if i == n/2 {
			state = bot.StateAgent
		}
		c := &bot.Conversation{ID: "con_" + id, CustomerID: "cus_" + id, Channel: bot.Web, State: state, Created: old, Updated: old, LastSeq: 0}
		if err := s.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	erased, err := s.Expire(ctx, expireNow.Add(-year))
	if err != nil {
		t.Fatal(err)
	}
	if want := (bot.Erased{Customers: n - 1, Conversations: n - 1}); erased != want {
		t.Errorf("erased %+v, want %+v", erased, want)
	}
	cs, err := s.ListCustomers(ctx, 0)
	if err != nil || len(cs) != 1 || cs[0].ID != fmt.Sprintf("cus_%03d", n/2) {
		t.Errorf("customers left: %+v, %v; want only the one an agent has", cs, err)
	}
	if got := tallies(t, s)[old.Format("2006-01-02")]; got.Conversations != n-1 {
		t.Errorf("tally %+v, want %d conversations", got, n-1)
	}
}
