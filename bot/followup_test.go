package bot_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/testclock"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// followupRig is the engine with follow-ups two hours after a resolve,
// in business hours Monday to Friday 09:00-17:00 UTC, the real agent
// queue and a fixed clock (Tuesday 24 November 2026, 10:00 UTC).
type followupRig struct {
	t      *testing.T
	ctx    context.Context
	db     *bolt.DB
	clock  *testclock.Clock
	engine *bot.Engine
	queue  *handoff.Queue
	agent  *handoff.Agent
}

func newFollowupRig(t *testing.T) *followupRig {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &followupRig{t: t, ctx: context.Background(), db: db, clock: testclock.New(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))}
	hours := handoff.MustParseHours("mon-fri 09:00-17:00", "", "UTC")
	r.engine = bot.NewEngine(shopKB(t, kb.DefaultThresholds), db, bot.NewBus(), bot.Options{Now: r.clock.Now,
		Followup: bot.FollowupOptions{Delay: 2 * time.Hour, Open: hours.Open}})
	r.queue = handoff.NewQueue(db, r.engine, handoff.Options{ManualAssign: true, Now: r.clock.Now})
	r.engine.SetHandoff(r.queue)
	agents := handoff.NewAgents(db, handoff.AgentsOptions{PasswordCost: bcrypt.MinCost})
	if r.agent, err = agents.Add(r.ctx, handoff.NewAgent{Name: "Ann", Email: "ann@example.com", Role: handoff.RoleAgent, Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	return r
}

// resolved has a customer on the channel ask for a person, whom the agent
// claims and resolves; it returns the conversation id.
func (r *followupRig) resolved(ch bot.Channel, id string) string {
	r.t.Helper()
	s, err := r.engine.Start(r.ctx, bot.Identity{Channel: ch, ID: id}, bot.Profile{})
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.engine.Handle(r.ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: "Talk to a person", Payload: bot.PayloadHuman}); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.queue.Claim(r.ctx, s.Conversation.ID, r.agent.ID); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.queue.Resolve(r.ctx, s.Conversation.ID, r.agent.ID); err != nil {
		r.t.Fatal(err)
	}
	return s.Conversation.ID
}

// sendDue runs the sender once and returns how many it sent.
func (r *followupRig) sendDue() int {
	r.t.Helper()
	n, err := r.engine.SendDueFollowups(r.ctx, r.db)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// followups counts the follow-up questions in the conversation.
func (r *followupRig) followups(conv string) int {
	r.t.Helper()
	ms, err := r.engine.Transcript(r.ctx, conv, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.Decision != nil && m.Decision.Reason == "followup" {
			n++
		}
	}
	return n
}

func TestFollowupIsSentOnceWhenDueInBusinessHours(t *testing.T) {
	r := newFollowupRig(t)
	conv := r.resolved(bot.Telegram, "42")
	r.clock.Add(time.Hour) // 11:00: not due yet
	if n := r.sendDue(); n != 0 {
		t.Fatalf("sent %d before the delay", n)
	}
	r.clock.Add(time.Hour) // 12:00: due, and open
	if n := r.sendDue(); n != 1 || r.followups(conv) != 1 {
		t.Fatalf("sent %d at the due time; %d in the transcript", n, r.followups(conv))
	}
	r.clock.Add(time.Hour)
	if n := r.sendDue(); n != 0 || r.followups(conv) != 1 {
		t.Errorf("sent again: %d; %d in the transcript", n, r.followups(conv))
	}
	if err := r.engine.SendFollowup(r.ctx, conv); err == nil {
		t.Error("SendFollowup asked a second time")
	}
	// The customer answers: solved.
	if _, err := r.engine.Handle(r.ctx, bot.Inbound{ConversationID: conv, Text: "Yes, it did", Payload: bot.PayloadFollowupSolved}); err != nil {
		t.Fatal(err)
	}
	c, _ := r.engine.Conversation(r.ctx, conv)
	if c.Followup != bot.FollowupAnswered {
		t.Errorf("follow-up %q after the answer", c.Followup)
	}
}

func TestFollowupWaitsForBusinessHours(t *testing.T) {
	r := newFollowupRig(t)
	r.clock.Add(6*time.Hour + 30*time.Minute) // resolved at 16:30
	conv := r.resolved(bot.Telegram, "43")
	r.clock.Add(2 * time.Hour) // 18:30: due, but closed
	if n := r.sendDue(); n != 0 {
		t.Fatalf("sent %d outside business hours", n)
	}
	r.clock.Add(14*time.Hour + 30*time.Minute) // Wednesday 09:00
	if n := r.sendDue(); n != 1 || r.followups(conv) != 1 {
		t.Errorf("sent %d when open again", n)
	}
}

func TestFollowupRespectsTheOptOut(t *testing.T) {
	r := newFollowupRig(t)
	first := r.resolved(bot.Telegram, "44")
	r.clock.Add(2 * time.Hour)
	if n := r.sendDue(); n != 1 {
		t.Fatalf("sent %d", n)
	}
	// "Don't ask me again", then another resolved hand-off.
	if _, err := r.engine.Handle(r.ctx, bot.Inbound{ConversationID: first, Text: "Don't ask me again", Payload: bot.PayloadFollowupStop}); err != nil {
		t.Fatal(err)
	}
	c, _ := r.engine.Conversation(r.ctx, first)
	cust, _ := r.engine.Customer(r.ctx, c.CustomerID)
	if !cust.NoFollowups {
		t.Fatal("the opt-out was not stored")
	}
	// A customer who opted out (here through the console) is not asked
	// after their resolved hand-off.
	second := r.resolved(bot.Telegram, "45")
	c2, _ := r.engine.Conversation(r.ctx, second)
	if _, err := r.engine.UpdateCustomer(r.ctx, c2.CustomerID, func(c *bot.Customer) error { c.NoFollowups = true; return nil }); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(2 * time.Hour)
	if n := r.sendDue(); n != 0 || r.followups(second) != 0 {
		t.Errorf("sent %d to a customer who opted out", n)
	}
	if c2, _ = r.engine.Conversation(r.ctx, second); c2.Followup != bot.FollowupCancelled {
		t.Errorf("follow-up %q, want cancelled", c2.Followup)
	}
	if ids, _ := r.db.DueFollowups(r.ctx, r.clock.Now().Add(24*time.Hour)); len(ids) != 0 {
		t.Errorf("still due: %v", ids)
	}
}

func TestFollowupOnTheWebWaitsForTheNextVisit(t *testing.T) {
	r := newFollowupRig(t)
	conv := r.resolved(bot.Web, "visitor-1")
	r.clock.Add(3 * time.Hour) // 13:00: due
	if n := r.sendDue(); n != 0 {
		t.Fatalf("sent %d to a web customer who is not there", n)
	}
	s, err := r.engine.Start(r.ctx, bot.Identity{Channel: bot.Web, ID: "visitor-1"}, bot.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Conversation.ID != conv || r.followups(conv) != 1 {
		t.Fatalf("the returning visitor was not asked (%d follow-ups in %s)", r.followups(conv), s.Conversation.ID)
	}
	// The next visit is a plain welcome back.
	r.clock.Add(time.Hour)
	if _, err := r.engine.Start(r.ctx, bot.Identity{Channel: bot.Web, ID: "visitor-1"}, bot.Profile{}); err != nil {
		t.Fatal(err)
	}
	if r.followups(conv) != 1 {
		t.Errorf("asked again on a later visit")
	}
}
