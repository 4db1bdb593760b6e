package bot_test

import (
	"context"
	"errors"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/kb"
)

func (r *rig) open(visitor string, p bot.Profile) *bot.Session {
	r.t.Helper()
	s, err := r.engine.Open(context.Background(), bot.Identity{Channel: bot.Web, ID: visitor}, p)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// stored reports how many customers the store holds and whether it holds
// the conversation.
func (r *rig) stored(convID string) (customers int, conv bool) {
	r.t.Helper()
	cs, err := r.db.ListCustomers(context.Background(), 0)
	if err != nil {
		r.t.Fatal(err)
	}
	_, err = r.db.Conversation(context.Background(), convID)
	if err != nil && !errors.Is(err, bot.ErrNotFound) {
		r.t.Fatal(err)
	}
	return len(cs), err == nil
}

func TestOpenStoresNothingUntilTheFirstMessageThenStoresItAllInOneAct(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.open("visitor-1", bot.Profile{Name: "Ana"})
	if !s.Pending || s.Returning {
		t.Fatalf("new visitor's session: pending %v, returning %v", s.Pending, s.Returning)
	}
	if g := s.Greeting; g.Seq != 1 || g.From != bot.FromBot || g.ConversationID != s.Conversation.ID || g.Text == "" {
		t.Errorf("greeting %+v, want the bot's seq 1 of the conversation", g)
	}
	if again := r.open("visitor-1", bot.Profile{}); again.Conversation.ID != s.Conversation.ID || again.Customer.ID != s.Customer.ID {
		t.Errorf("a second open reserved %s/%s, the first %s/%s: a reload would look like a new conversation",
			again.Customer.ID, again.Conversation.ID, s.Customer.ID, s.Conversation.ID)
	}
	if n, conv := r.stored(s.Conversation.ID); n != 0 || conv {
		t.Fatalf("after open: %d customers, conversation stored %v; want nothing stored", n, conv)
	}

	s.SetProfile(bot.Profile{Email: "ana@example.com"})
	ms := r.send(bot.Inbound{ConversationID: s.Conversation.ID, Text: "how do I return a lamp", Session: s})
	all, err := r.db.Messages(context.Background(), s.Conversation.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 3 || all[0].Seq != 1 || all[0].Text != s.Greeting.Text || all[1].Seq != 2 || all[1].From != bot.FromCustomer || all[2].From != bot.FromBot {
		t.Fatalf("stored %+v, want the greeting (1), the message (2), the answer", all)
	}
	if len(ms) == 0 {
		t.Error("no answer after the message")
	}
	conv := r.conv(s.Conversation.ID)
	if conv.Rev != 1 || conv.LastSeq != all[len(all)-1].Seq {
		t.Errorf("conversation rev %d, last seq %d: want one act (rev 1) holding all %d messages", conv.Rev, conv.LastSeq, len(all))
	}
	cust, err := r.db.Customer(context.Background(), s.Customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cust.Name != "Ana" || cust.Email != "ana@example.com" || cust.Visits != 1 || len(cust.Topics) == 0 {
		t.Errorf("customer %+v, want Ana's profile from the pre-chat form, 1 visit, the topic", cust)
	}

	// Back again: an ordinary returning session, nothing written anew.
	back := r.open("visitor-1", bot.Profile{})
	if back.Pending || !back.Returning || back.Conversation.ID != s.Conversation.ID {
		t.Errorf("returning session pending %v, returning %v, conversation %s", back.Pending, back.Returning, back.Conversation.ID)
	}
	if again, _ := r.db.Messages(context.Background(), s.Conversation.ID, 0); len(again) != len(all) {
		t.Errorf("returning within the visit gap stored %d messages more", len(again)-len(all))
	}
}

func TestTwoPendingSessionsOfOneVisitorShareTheConversation(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	tab1 := r.open("visitor-2", bot.Profile{})
	tab2 := r.open("visitor-2", bot.Profile{})
	tab2.SetProfile(bot.Profile{Name: "Bo"})
	r.send(bot.Inbound{ConversationID: tab1.Conversation.ID, Text: "hello", Session: tab1})
	r.send(bot.Inbound{ConversationID: tab2.Conversation.ID, Text: "where is my order", Session: tab2})
	all, err := r.db.Messages(context.Background(), tab1.Conversation.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var greetings, customer int
	for i, m := range all {
		if m.Seq != int64(i+1) {
			t.Fatalf("seqs %v: not 1, 2, 3, ...", all)
		}
		if m.Text == tab1.Greeting.Text {
			greetings++
		}
		if m.From == bot.FromCustomer {
			customer++
		}
	}
	if greetings != 1 || customer != 2 {
		t.Errorf("%d greetings, %d customer messages; want 1 and 2 in one conversation", greetings, customer)
	}
	if n, _ := r.stored(tab1.Conversation.ID); n != 1 {
		t.Errorf("%d customers, want 1", n)
	}
	if c, _ := r.db.Customer(context.Background(), tab1.Customer.ID); c == nil || c.Name != "Bo" {
		t.Errorf("customer %+v: the second tab's pre-chat name is lost", c)
	}
}

func TestPersistStoresAPendingSessionOnce(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.open("visitor-3", bot.Profile{})
	for range 2 {
		if err := r.engine.Persist(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	ms, _ := r.db.Messages(context.Background(), s.Conversation.ID, 0)
	if len(ms) != 1 || ms[0].Seq != 1 || ms[0].Text != s.Greeting.Text {
		t.Fatalf("after persist: %+v, want the greeting alone", ms)
	}
	// A message sent with the session still marked pending continues it.
	r.send(bot.Inbound{ConversationID: s.Conversation.ID, Text: "hello", Session: s})
	ms, _ = r.db.Messages(context.Background(), s.Conversation.ID, 0)
	if len(ms) < 3 || ms[1].Seq != 2 || ms[1].From != bot.FromCustomer {
		t.Errorf("after the first message: %+v", ms)
	}
}

func TestAPendingSessionWhoseVisitorWasLinkedElsewhereIsStale(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	owner := r.start("telegram-user")
	code, err := r.engine.CreateLinkCode(context.Background(), owner.Customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := r.open("visitor-4", bot.Profile{})
	if _, err := r.engine.RedeemLinkCode(context.Background(), code, bot.Identity{Channel: bot.Web, ID: "visitor-4"}); err != nil {
		t.Fatal(err)
	}
	_, err = r.engine.Handle(context.Background(), bot.Inbound{ConversationID: s.Conversation.ID, ClientID: "c1", Text: "hello", Session: s})
	if !errors.Is(err, bot.ErrStaleSession) {
		t.Fatalf("handle: %v, want ErrStaleSession", err)
	}
	if err := r.engine.Persist(context.Background(), s); !errors.Is(err, bot.ErrStaleSession) {
		t.Errorf("persist: %v, want ErrStaleSession", err)
	}
	if _, conv := r.stored(s.Conversation.ID); conv {
		t.Error("the stale session's conversation was stored")
	}
}
