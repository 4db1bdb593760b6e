package llm_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/openaitest"
	"github.com/frontdesk/frontdesk/llm"
)

func TestAConversationPastItsTokenBudgetGetsArticlesAsWritten(t *testing.T) {
	obs := &observed{}
	r := newRig(t, llm.Options{ConversationTokens: 70, Observer: obs}, func(openaitest.Request) openaitest.Reply {
		return openaitest.Reply{Text: "Within 30 days [[return-item]].", Prompt: 30, Completion: 10}
	})
	conv := r.start(bot.Telegram, "ana")
	other := r.start(bot.Telegram, "bo")
	// 40 tokens each: the second answer starts at 40 < 70, the third at 80.
	for i, want := range []string{"Within 30 days.", "Within 30 days.", r.article("return-item")} {
		q := []string{"how do I return a lamp", "can i return a lamp", "how to send back my order"}[i]
		if got := r.say(conv, q)[0].Text; got != want {
			t.Errorf("answer %d = %q, want %q", i+1, got, want)
		}
	}
	if n := len(r.model.Requests()); n != 2 {
		t.Errorf("model asked %d times, want 2", n)
	}
	if c, err := r.db.Conversation(t.Context(), conv); err != nil || c.LLMTokens != 80 {
		t.Errorf("stored tokens %v (%v), want 80", c.LLMTokens, err)
	}
	// Another conversation has its own budget.
	if got := r.say(other, "how do I return a lamp")[0].Text; got != "Within 30 days." {
		t.Errorf("other conversation: %q", got)
	}
	if !strings.HasPrefix(obs.calls[2], "chat/budget/") {
		t.Errorf("observed %v", obs.calls)
	}
}

// dayClock is a settable clock.
type dayClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *dayClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *dayClock) set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

func TestTheDailyTokenBudgetStopsModelAnswersUntilMidnightUTC(t *testing.T) {
	clock := &dayClock{now: time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)}
	r := newRig(t, llm.Options{DailyTokens: 40, Now: clock.Now}, answerTo("Within 30 days [[return-item]]."))
	a, b, c := r.start(bot.Telegram, "a"), r.start(bot.Telegram, "b"), r.start(bot.Telegram, "c")
	if got := r.say(a, "how do I return a lamp")[0].Text; got != "Within 30 days." {
		t.Errorf("first: %q", got)
	}
	if got := r.say(b, "how do I return a lamp")[0].Text; got != r.article("return-item") {
		t.Errorf("over the day's budget: %q, want the article", got)
	}
	clock.set(time.Date(2026, 11, 25, 0, 0, 1, 0, time.UTC))
	if got := r.say(c, "how do I return a lamp")[0].Text; got != "Within 30 days." {
		t.Errorf("the next day: %q", got)
	}
	if n := len(r.model.Requests()); n != 2 {
		t.Errorf("model asked %d times, want 2", n)
	}
}

func TestTokensAreEstimatedWhenTheServerReportsNone(t *testing.T) {
	r := newRig(t, llm.Options{}, func(openaitest.Request) openaitest.Reply {
		return openaitest.Reply{Text: "Within 30 days [[return-item]].", NoUsage: true}
	})
	conv := r.start(bot.Web, "ana")
	r.say(conv, "how do I return a lamp")
	c, err := r.db.Conversation(t.Context(), conv)
	if err != nil {
		t.Fatal(err)
	}
	// About four characters a token, of a prompt of well over 1000.
	if c.LLMTokens < 250 {
		t.Errorf("estimated %d tokens", c.LLMTokens)
	}
}

func TestCustomersDetailsAreMaskedBeforeTheyAreSent(t *testing.T) {
	secrets := []string{"ana.lopez@example.com", "+49 170 1234567", "4111 1111 1111 1111", "030-98765432", "5500-0000-0000-0004"}
	q := "my email is ana.lopez@example.com, phone +49 170 1234567 or 030-98765432, card 4111 1111 1111 1111 (or 5500-0000-0000-0004): how do I return a lamp"
	t.Run("masked by default in serve, here by option", func(t *testing.T) {
		r := newRig(t, llm.Options{Mask: true}, answerTo("Within 30 days [[return-item]]."))
		conv := r.start(bot.Web, "ana")
		r.say(conv, "my number is 0049 170 7654321")
		r.say(conv, q)
		body := r.model.Bodies()
		for _, s := range append(secrets, "7654321") {
			if strings.Contains(body, s) {
				t.Errorf("the model received %q", s)
			}
		}
		for _, s := range []string{"[email]", "[phone]", "[card]", "how do I return a lamp"} {
			if !strings.Contains(body, s) {
				t.Errorf("the model did not receive %q", s)
			}
		}
	})
	t.Run("sent as written without the option", func(t *testing.T) {
		r := newRig(t, llm.Options{}, answerTo("Within 30 days [[return-item]]."))
		conv := r.start(bot.Web, "ana")
		r.say(conv, q)
		if !strings.Contains(r.model.Bodies(), "ana.lopez@example.com") {
			t.Error("the question was changed without masking")
		}
	})
}

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"write to a.b+c@mail.example.co.uk please", "write to [email] please"},
		{"card 4111111111111111 expired", "card [card] expired"},
		{"call (030) 123 4567", "call [phone]"},
		{"my order 1234567", "my order [phone]"},
		{"on 03.11.2025 at 14:00", "on 03.11.2025 at 14:00"},
		{"call +1 (555) 010-9999 now", "call [phone] now"},
		{"order 12345 from 2025-11-03, 3 lamps", "order 12345 from 2025-11-03, 3 lamps"},
	} {
		if got := llm.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
