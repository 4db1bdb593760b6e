package bot_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/bot"
)

func TestTheLastMessageIsWhatWasSaid(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	c := &bot.Conversation{}
	bot.NoteMessage(c, bot.Message{From: bot.FromCustomer, Text: "this bot is useless", Time: at})
	for _, m := range []bot.Message{
		{From: bot.FromBot, Text: "I'm connecting you with a person.", Decision: &bot.Decision{Kind: bot.DecisionHandoff}},
		{From: bot.FromSystem, Text: "You're number 1 in the queue."},
		{From: bot.FromAgent, Text: "check the order", Internal: true},
		{From: bot.FromBot, Text: "How would you rate the help?", Decision: &bot.Decision{Kind: bot.DecisionSurvey}},
	} {
		bot.NoteMessage(c, m)
	}
	if c.Last == nil || c.Last.Text != "this bot is useless" || c.Last.From != bot.FromCustomer || !c.Last.Time.Equal(at) {
		t.Errorf("last %+v, want the customer's message", c.Last)
	}
	bot.NoteMessage(c, bot.Message{From: bot.FromAgent, Text: strings.Repeat("é", 150), Time: at})
	if n := len(c.Last.Text); n > 200+len("…") || !strings.HasSuffix(c.Last.Text, "é…") {
		t.Errorf("a long message's preview is %d bytes: %q", n, c.Last.Text)
	}
}

// TestPreviewIsTheStartOfTheWholeTextOnOneLine checks Preview, which looks
// only at the start of a text, against the plain definition: the whole
// text on one line, then cut.
func TestPreviewIsTheStartOfTheWholeTextOnOneLine(t *testing.T) {
	plain := func(text string, n int) string {
		text = strings.Join(strings.Fields(text), " ")
		if len(text) <= n {
			return text
		}
		cut := n
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		return strings.TrimRight(text[:cut], " ") + "…"
	}
	words := []string{"a", "bb", "ccc", "é", "日本", " ", "\n\t", "  ", strings.Repeat("x", 30)}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for j := rng.IntN(40); j > 0; j-- {
			b.WriteString(words[rng.IntN(len(words))])
		}
		text, n := b.String(), rng.IntN(40)
		if got, want := bot.Preview(text, n), plain(text, n); got != want {
			t.Fatalf("Preview(%q, %d) = %q, want %q", text, n, got, want)
		}
	}
}
