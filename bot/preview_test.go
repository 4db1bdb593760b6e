package bot_test

import (
	"strings"
	"testing"
	"time"

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
