package bolt_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

func TestClosedTicketsAreListedNewestFirstAndForgottenWithTheirConversation(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"con_a", "con_b", "con_c"} {
		cust := &bot.Customer{ID: "cus_" + id, Name: id}
		if err := db.SaveCustomer(ctx, cust); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveConversation(ctx, &bot.Conversation{ID: id, CustomerID: cust.ID, Channel: bot.Web, State: bot.StateBot, Created: t0}); err != nil {
			t.Fatal(err)
		}
		_, err := db.UpdateTicket(ctx, id, func(tk *handoff.Ticket) error {
			tk.ID, tk.CustomerID, tk.Status, tk.Tier = "tkt_"+id, cust.ID, handoff.StatusQueued, 1
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if id == "con_c" {
			continue // still open
		}
		_, err = db.UpdateTicket(ctx, id, func(tk *handoff.Ticket) error {
			tk.Status, tk.ClosedAt = handoff.StatusResolved, t0.Add(time.Duration(i)*time.Hour)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := func(ts []handoff.Ticket) (out []string) {
		for _, tk := range ts {
			out = append(out, tk.ConversationID)
		}
		return out
	}
	got, err := db.ClosedTickets(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if g := ids(got); len(g) != 2 || g[0] != "con_b" || g[1] != "con_a" {
		t.Errorf("closed tickets %v, want [con_b con_a]", g)
	}
	if got, _ := db.ClosedTickets(ctx, t0.Add(time.Hour), 10); len(got) != 1 || got[0].ConversationID != "con_a" {
		t.Errorf("closed before con_b closed: %v, want [con_a]", ids(got))
	}
	if got, _ := db.ClosedTickets(ctx, time.Time{}, 1); len(got) != 1 || got[0].ConversationID != "con_b" {
		t.Errorf("limit 1: %v, want [con_b]", ids(got))
	}
	if _, err := db.ForgetCustomer(ctx, "cus_con_b"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ClosedTickets(ctx, time.Time{}, 10); len(got) != 1 || got[0].ConversationID != "con_a" {
		t.Errorf("after forgetting con_b's customer: %v, want [con_a]", ids(got))
	}
}
