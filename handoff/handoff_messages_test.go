package handoff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// said returns what the customer was told in the conversation, one
// "from: text" line a message, after the hand-off request.
func (r *engineRig) said(conv string) []string {
	r.t.Helper()
	ms, err := r.db.Messages(context.Background(), conv, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	seen := false
	for _, m := range ms {
		if m.From == bot.FromCustomer && strings.Contains(m.Text, "talk to a person") {
			seen = true
			continue
		}
		if seen && m.From != bot.FromCustomer {
			out = append(out, string(m.From)+": "+m.Text)
		}
	}
	return out
}

// handOffAs is handOff for a customer who gave a profile (pre-chat form).
func (r *engineRig) handOffAs(visitor string, p bot.Profile) string {
	r.t.Helper()
	s, err := r.engine.Start(context.Background(), bot.Identity{Channel: bot.Web, ID: visitor}, p)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.engine.Handle(context.Background(), bot.Inbound{ConversationID: s.Conversation.ID, Text: "I want to talk to a person"}); err != nil {
		r.t.Fatal(err)
	}
	return s.Conversation.ID
}

// noContradiction fails when the messages promise what Frontdesk does
// not do or say both that a person replies now and that nobody is there.
func noContradiction(t *testing.T, said []string) {
	t.Helper()
	all := strings.Join(said, "\n")
	for _, bad := range []string{"reply by email", "by email", "They'll reply right here"} {
		if strings.Contains(all, bad) {
			t.Errorf("the customer was told %q:\n%s", bad, all)
		}
	}
}

func TestWithNobodyOnlineTheHandOffSaysOneThingAndAsksForAnEmailOnce(t *testing.T) {
	r := newEngineRig(t, handoff.Options{})
	conv := r.handOff("v1")
	r.waitSystem(conv, "Nobody from our team is online")
	said := r.said(conv)
	noContradiction(t, said)
	if len(said) != 2 || !strings.HasPrefix(said[0], "bot: I'm connecting you with a person") || !strings.Contains(said[1], "leave your email address") {
		t.Errorf("hand-off with nobody online, want the bot's line then one notice asking for an email:\n%s", strings.Join(said, "\n"))
	}
	if !strings.Contains(said[len(said)-1], "reply in this chat") {
		t.Errorf("the notice does not say where the reply comes: %q", said[len(said)-1])
	}

	// A typed address is confirmed, by the system: the bot stays silent.
	m, err := r.engine.Handle(context.Background(), bot.Inbound{ConversationID: conv, Text: "ana@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := r.db.Messages(context.Background(), conv, m.Seq)
	if len(after) != 1 || after[0].From != bot.FromSystem || !strings.Contains(after[0].Text, "noted your email address, ana@example.com") {
		t.Errorf("after the typed email: %+v", after)
	}
	c, _ := r.db.Conversation(context.Background(), conv)
	if cust, err := r.db.Customer(context.Background(), c.CustomerID); err != nil || cust.Email != "ana@example.com" {
		t.Errorf("customer email %v, %v", cust, err)
	}
	// A message without an address gets no confirmation.
	m, _ = r.engine.Handle(context.Background(), bot.Inbound{ConversationID: conv, Text: "my lamp flickers"})
	if after, _ := r.db.Messages(context.Background(), conv, m.Seq); len(after) != 0 {
		t.Errorf("a plain message while waiting was answered: %+v", after)
	}
}

func TestAnEmailFromThePreChatFormIsNotAskedForAgain(t *testing.T) {
	r := newEngineRig(t, handoff.Options{})
	conv := r.handOffAs("v1", bot.Profile{Name: "Maria", Email: "maria@example.com"})
	r.waitSystem(conv, "Nobody from our team is online")
	said := r.said(conv)
	noContradiction(t, said)
	if strings.Contains(strings.Join(said, "\n"), "email") {
		t.Errorf("asked again for the email the form gave:\n%s", strings.Join(said, "\n"))
	}
}

func TestOutsideBusinessHoursNoEmailReplyIsPromised(t *testing.T) {
	hours := handoff.MustParseHours("mon-fri 09:00-17:00", "", "Europe/Berlin")
	saturday := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	r := newEngineRig(t, handoff.Options{Hours: hours, Now: func() time.Time { return saturday }})
	conv := r.handOff("v1")
	r.waitSystem(conv, "we're back on Monday at 09:00 CET")
	said := r.said(conv)
	noContradiction(t, said)
	last := said[len(said)-1]
	if !strings.Contains(last, "reply in this chat when we're back") || !strings.Contains(last, "find the reply here when you return") {
		t.Errorf("closed-hours notice does not say what happens: %q", last)
	}
}

func TestWithAnAgentOnlineTheQueueNoticeSaysWhereTheReplyComes(t *testing.T) {
	r := newEngineRig(t, handoff.Options{})
	ctx := context.Background()
	a := handoff.Agent{ID: "agt_ana", Name: "Ana", Email: "ana@example.com", Role: handoff.RoleAgent, MaxChats: 1}
	if err := r.db.SaveAgent(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := r.queue.Heartbeat(ctx, a.ID, handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	r.handOff("v1") // Ana takes it
	second := r.handOff("v2")
	r.waitSystem(second, "You're number 1 in the queue")
	said := r.said(second)
	noContradiction(t, said)
	if len(said) != 2 || !strings.Contains(said[1], "A person will reply right here") || strings.Contains(said[1], "email") {
		t.Errorf("queued with an agent online:\n%s", strings.Join(said, "\n"))
	}
}
