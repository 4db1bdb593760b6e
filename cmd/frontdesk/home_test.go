package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/kbtest"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// TestTheWidgetHomeIsMeasured builds the first screen from a real store:
// the usual reply time is the median of the tickets' first replies, the
// topics follow what customers asked about, and the team lists who is
// online first.
func TestTheWidgetHomeIsMeasured(t *testing.T) {
	ctx := context.Background()
	k := kbtest.Shop(t)
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	// Three answered hand-offs: 2, 4 and 30 minutes to the first reply.
	for i, took := range []time.Duration{2 * time.Minute, 4 * time.Minute, 30 * time.Minute} {
		conv := "con_" + string(rune('a'+i))
		_, err := db.UpdateTicket(ctx, conv, func(tk *handoff.Ticket) error {
			tk.ID, tk.CustomerID, tk.Status = bot.NewID("tkt_"), "cus_x", handoff.StatusResolved
			tk.Created, tk.QueuedAt, tk.FirstReplyAt, tk.ClosedAt = now, now, now.Add(took), now.Add(time.Hour)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Two customers asked about returns.
	last := k.Articles()[len(k.Articles())-1]
	for _, id := range []string{"cus_1", "cus_2"} {
		if err := db.SaveCustomer(ctx, &bot.Customer{ID: id, Topics: []bot.Topic{{ArticleID: last.ID, Title: last.Title, At: now}}}); err != nil {
			t.Fatal(err)
		}
	}
	agents := handoff.NewAgents(db, handoff.AgentsOptions{PasswordCost: bcrypt.MinCost})
	for _, n := range []string{"Ana Berg", "Maria Lopez"} {
		if _, err := agents.Add(ctx, handoff.NewAgent{Name: n, Email: n[:3] + "@example.com", Role: handoff.RoleAgent, Password: "a long password"}); err != nil {
			t.Fatal(err)
		}
	}
	queue := handoff.NewQueue(db, nil, handoff.Options{})
	list, _ := agents.List(ctx)
	for _, a := range list {
		if a.Name == "Maria Lopez" {
			queue.Heartbeat(ctx, a.ID, handoff.PresenceOnline)
		}
	}
	h := &widgetHome{kb: k, db: db, agents: agents, queue: queue, now: func() time.Time { return now }}
	home, err := h.Home(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if home.ReplySeconds != 240 || home.ReplyText != "We usually reply in about 4 minutes" {
		t.Errorf("reply %d s %q, want the median 240 s", home.ReplySeconds, home.ReplyText)
	}
	if len(home.Topics) != homeTopics || home.Topics[0].ID != last.ID {
		t.Errorf("topics %+v, want %d starting with %s", home.Topics, homeTopics, last.ID)
	}
	if len(home.Team) != 2 || home.Team[0].Name != "Maria" || home.Team[0].Initials != "ML" || !home.Team[0].Online || home.Team[1].Online {
		t.Errorf("team %+v, want Maria (online) first", home.Team)
	}
}
