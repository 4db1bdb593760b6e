package handoff_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/bolt"
)

func ExampleParseHours() {
	h, err := handoff.ParseHours("mon-fri 09:00-17:00; sat 10:00-14:00", "2026-12-25,2026-12-26", "Europe/Berlin")
	if err != nil {
		log.Fatal(err)
	}
	christmasEve := time.Date(2026, 12, 24, 18, 0, 0, 0, h.Location())
	fmt.Println("open:", h.Open(christmasEve))
	fmt.Println("back:", h.NextOpen(christmasEve).Format("Mon 2 Jan 15:04 MST"))
	// Output:
	// open: false
	// back: Mon 28 Dec 09:00 CET
}

func ExampleQueue() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "frontdesk")
	defer os.RemoveAll(dir)
	db, err := bolt.Open(filepath.Join(dir, "frontdesk.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// An agent, online in the console.
	agents := handoff.NewAgents(db, handoff.AgentsOptions{})
	ann, err := agents.Add(ctx, handoff.NewAgent{Name: "Ann", Email: "ann@example.com", Role: handoff.RoleAgent, Teams: []string{"payments"}, Password: "correct horse"})
	if err != nil {
		log.Fatal(err)
	}
	// The bot engine is the Owner: a ticket and its conversation's owner
	// change in one act.
	engine := bot.NewEngine(nil, db, bot.NewBus(), bot.Options{})
	queue := handoff.NewQueue(db, engine, handoff.Options{Teams: map[string]string{"billing": "payments"}})
	engine.SetHandoff(queue)
	if err := queue.Heartbeat(ctx, ann.ID, handoff.PresenceOnline); err != nil {
		log.Fatal(err)
	}
	events := queue.Subscribe(16)
	defer events.Close()

	// The bot hands a conversation about billing off.
	cust := bot.Customer{ID: "cus_1"}
	conv := bot.Conversation{ID: "con_1", CustomerID: cust.ID, State: bot.StateQueued, HandoffReason: "requested"}
	if err := db.SaveConversation(ctx, &conv); err != nil {
		log.Fatal(err)
	}
	if _, err := queue.EnqueueWith(ctx, conv, cust, handoff.EnqueueOptions{Tags: []string{"billing"}}); err != nil {
		log.Fatal(err)
	}
	for range 2 {
		e := <-events.C()
		fmt.Println(e.Kind, e.Ticket.ConversationID, e.Ticket.Team, e.Agent == ann.ID)
	}
	// Output:
	// queued con_1 payments false
	// assigned con_1 payments true
}
