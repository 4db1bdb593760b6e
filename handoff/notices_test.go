package handoff_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// engineRig is the real bot engine over a real store, wired to the queue,
// with Notices running.
type engineRig struct {
	t      *testing.T
	db     *bolt.DB
	engine *bot.Engine
	queue  *handoff.Queue
}

func newEngineRig(t *testing.T, opts handoff.Options) *engineRig {
	t.Helper()
	c, err := kb.Load(os.DirFS("../kb/testdata/shop"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kb.Build(context.Background(), c, kb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := bot.NewEngine(k, db, bot.NewBus(), bot.Options{Now: opts.Now, AgentName: func(id string) string {
		if a, err := db.Agent(context.Background(), id); err == nil {
			return a.Name
		}
		return ""
	}})
	q := handoff.NewQueue(db, e, opts)
	e.SetHandoff(q)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { handoff.NewNotices(q, e).Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &engineRig{t: t, db: db, engine: e, queue: q}
}

// handOff starts a customer who asks for a person; it returns the
// conversation id.
func (r *engineRig) handOff(visitor string) string {
	r.t.Helper()
	s, err := r.engine.Start(context.Background(), bot.Identity{Channel: bot.Web, ID: visitor}, bot.Profile{})
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.engine.Handle(context.Background(), bot.Inbound{ConversationID: s.Conversation.ID, Text: "I want to talk to a person"}); err != nil {
		r.t.Fatal(err)
	}
	return s.Conversation.ID
}

// waitSystem waits until the conversation has a system message containing
// text.
func (r *engineRig) waitSystem(conv, text string) {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ms, _ := r.db.Messages(context.Background(), conv, 0)
		var sys []string
		for _, m := range ms {
			if m.From == bot.FromSystem {
				sys = append(sys, m.Text)
				if strings.Contains(m.Text, text) {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no system message %q in %s; system messages:\n%s", text, conv, strings.Join(sys, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noSystem fails if the conversation has a system message containing
// text.
func (r *engineRig) noSystem(conv, text string) {
	r.t.Helper()
	ms, err := r.db.Messages(context.Background(), conv, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, m := range ms {
		if m.From == bot.FromSystem && strings.Contains(m.Text, text) {
			r.t.Errorf("conversation %s: system message %q", conv, m.Text)
		}
	}
}

func TestWaitingCustomersAreToldTheirPlaceAndWhenTheyMoveUp(t *testing.T) {
	r := newEngineRig(t, handoff.Options{})
	ctx := context.Background()
	a := handoff.Agent{ID: "agt_ana", Name: "Ana", Email: "ana@example.com", Role: handoff.RoleAgent, MaxChats: 1}
	if err := r.db.SaveAgent(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := r.queue.Heartbeat(ctx, a.ID, handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	first := r.handOff("v1") // offered straight to Ana
	// Nobody has looked yet: the customer is not told anyone joined.
	if tk, err := r.queue.Ticket(ctx, first); err != nil || tk.Agent != a.ID || !tk.Offered {
		t.Fatalf("first ticket %+v, %v: want it offered to Ana", tk, err)
	}
	r.noSystem(first, "has joined")
	if _, err := r.queue.Claim(ctx, first, a.ID); err != nil {
		t.Fatal(err)
	}
	r.waitSystem(first, "Ana from our team has joined")
	second := r.handOff("v2")
	third := r.handOff("v3")
	r.waitSystem(second, "You're number 1 in the queue")
	r.waitSystem(third, "You're number 2 in the queue")
	if _, err := r.queue.Resolve(ctx, first, a.ID); err != nil {
		t.Fatal(err)
	}
	// Ana is offered the second; the third moves up. The second's
	// customer hears of Ana once she accepts.
	r.waitSystem(third, "You're next in the queue")
	r.noSystem(second, "has joined")
	if _, err := r.queue.Claim(ctx, second, a.ID); err != nil {
		t.Fatal(err)
	}
	r.waitSystem(second, "Ana from our team has joined")
	ms, _ := r.db.Messages(ctx, first, 0)
	for _, m := range ms {
		if strings.Contains(m.Text, "in the queue") {
			t.Errorf("the customer an agent took at once was told about the queue: %q", m.Text)
		}
	}
}

func TestOutsideBusinessHoursTheCustomerIsToldWhenPeopleAreBack(t *testing.T) {
	hours := handoff.MustParseHours("mon-fri 09:00-17:00", "", "Europe/Berlin")
	saturday := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	r := newEngineRig(t, handoff.Options{Hours: hours, Now: func() time.Time { return saturday }})
	conv := r.handOff("v1")
	r.waitSystem(conv, "we're back on Monday at 09:00 CET")
	c, err := r.db.Conversation(context.Background(), conv)
	if err != nil || c.State != bot.StateQueued {
		t.Errorf("conversation %+v, %v: want it waiting in the queue", c, err)
	}
	// An agent looking in on a Saturday is offered nothing: the customer
	// is not told that someone joined.
	ana := handoff.Agent{ID: "agt_ana", Name: "Ana", Email: "ana@example.com", Role: handoff.RoleAgent}
	if err := r.db.SaveAgent(context.Background(), &ana); err != nil {
		t.Fatal(err)
	}
	if err := r.queue.Heartbeat(context.Background(), ana.ID, handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	if tk, err := r.queue.Ticket(context.Background(), conv); err != nil || tk.Status != handoff.StatusQueued || tk.Agent != "" {
		t.Errorf("after Ana logged in on Saturday the ticket is %+v, %v: want it still waiting", tk, err)
	}
	r.noSystem(conv, "has joined")
	// A message left now is kept for the people, and the bot stays silent.
	m, err := r.engine.Handle(context.Background(), bot.Inbound{ConversationID: conv, Text: "my lamp flickers, please call me back: ana@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := r.db.Messages(context.Background(), conv, m.Seq)
	for _, a := range after {
		if a.From == bot.FromBot {
			t.Errorf("the bot replied while the conversation waits: %q", a.Text)
		}
	}
}

func TestWithNobodyOnlineTheCustomerIsToldSo(t *testing.T) {
	r := newEngineRig(t, handoff.Options{})
	conv := r.handOff("v1")
	r.waitSystem(conv, "Nobody from our team is online")
}
