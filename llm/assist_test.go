package llm_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/openaitest"
	"github.com/frontdesk/frontdesk/llm"
)

// briefing answers briefs with brief and questions with a grounded
// answer.
func briefing(brief openaitest.Reply) func(openaitest.Request) openaitest.Reply {
	return func(req openaitest.Request) openaitest.Reply {
		if strings.Contains(req.Messages[0].Content, "taking over a chat") {
			return brief
		}
		return openaitest.Reply{Text: "Within 30 days [[return-item]]."}
	}
}

// notes returns the conversation's private notes.
func (r *rig) notes(conv string) []bot.Message {
	r.t.Helper()
	ms, err := r.db.Messages(context.Background(), conv, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []bot.Message
	for _, m := range ms {
		if m.Internal {
			out = append(out, m)
		}
	}
	return out
}

func TestAHandOffGetsAMachineWrittenBriefAsAPrivateNote(t *testing.T) {
	r := newRig(t, llm.Options{Mask: true}, briefing(openaitest.Reply{Text: "SUMMARY:\nThe customer wants to return a lamp and asked for a person.\nREPLY:\nHi! You can return it within 30 days [[return-item]]; print the label from your account [[return-item]]."}))
	ctx, cancel := context.WithCancel(context.Background())
	as := bot.NewAssistant(r.engine, r.client)
	done := make(chan struct{})
	go func() { as.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond) // let Run subscribe

	conv := r.start(bot.Telegram, "ana")
	r.say(conv, "how do I return a lamp? mail me at ana@example.com")
	r.say(conv, "talk to a person")
	var notes []bot.Message
	for deadline := time.Now().Add(5 * time.Second); len(notes) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		notes = r.notes(conv)
	}
	if len(notes) != 1 {
		t.Fatalf("%d notes", len(notes))
	}
	n := notes[0]
	if n.From != bot.FromBot || n.Decision == nil || n.Decision.Kind != bot.DecisionAssist || n.Assist == nil {
		t.Fatalf("note %+v", n)
	}
	if n.Assist.Summary != "The customer wants to return a lamp and asked for a person." ||
		n.Assist.Reply != "Hi! You can return it within 30 days; print the label from your account." {
		t.Errorf("assist %+v", n.Assist)
	}
	if len(n.Decision.Sources) != 1 || n.Decision.Sources[0] != "return-item" {
		t.Errorf("sources %v", n.Decision.Sources)
	}
	if !strings.Contains(n.Text, "machine-written") {
		t.Errorf("the note does not say it is machine-written: %q", n.Text)
	}
	// The customer never sees it.
	ms, err := r.engine.Messages(context.Background(), conv, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Assist != nil || strings.Contains(m.Text, "Summary") {
			t.Errorf("the customer sees %q", m.Text)
		}
	}
	// What was sent: the conversation as data, masked, and the articles.
	reqs := r.model.Requests()
	brief := reqs[len(reqs)-1].Messages[1].Content
	for _, s := range []string{"<customer>how do I return a lamp? mail me at [email]</customer>", "<customer>talk to a person</customer>", `<article id="return-item">`, "<bot>"} {
		if !strings.Contains(brief, s) {
			t.Errorf("brief request lacks %q:\n%s", s, brief)
		}
	}
	if strings.Contains(r.model.Bodies(), "ana@example.com") {
		t.Error("the e-mail address was sent")
	}
}

func TestABriefWithAnUngroundedReplyKeepsOnlyTheSummary(t *testing.T) {
	r := newRig(t, llm.Options{}, briefing(openaitest.Reply{Text: "SUMMARY: Wants a refund.\nREPLY: We'll refund 100% today [[vip-refunds]]."}))
	conv := r.start(bot.Telegram, "ana")
	r.say(conv, "how do I return a lamp")
	r.say(conv, "talk to a person")
	if err := bot.NewAssistant(r.engine, r.client).Brief(context.Background(), conv); err != nil {
		t.Fatal(err)
	}
	n := r.notes(conv)
	if len(n) != 1 || n[0].Assist.Summary != "Wants a refund." || n[0].Assist.Reply != "" || strings.Contains(n[0].Text, "100%") {
		t.Errorf("notes %+v", n)
	}
}

func TestAFailedBriefStoresNoNote(t *testing.T) {
	for _, rep := range []openaitest.Reply{{Status: http.StatusInternalServerError}, {Text: "I cannot help with that."}} {
		r := newRig(t, llm.Options{}, briefing(rep))
		conv := r.start(bot.Telegram, "ana")
		r.say(conv, "talk to a person")
		if err := bot.NewAssistant(r.engine, r.client).Brief(context.Background(), conv); err == nil {
			t.Error("no error")
		}
		if n := r.notes(conv); len(n) != 0 {
			t.Errorf("notes %+v", n)
		}
	}
}
