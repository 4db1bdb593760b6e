package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/insights"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// gapQuestions are asked by one web customer each; the demo knowledge
// base answers none of them.
var gapQuestions = []string{
	"Do you install the lamps at my home?",
	"Can someone come and install my ceiling light?",
	"Do you offer an installation service for lamps?",
	"Can I rent lamps for a wedding?",
	"Do you rent out lighting for events?",
	"Is lamp rental possible for a party?",
	"What is the weather in Paris tomorrow?",
}

// seedGaps runs the questions through a real engine on the database in
// dataDir; a "did you mean" is answered "something else", an answer
// "not helpful".
func seedGaps(t *testing.T, dataDir string) {
	t.Helper()
	ctx := context.Background()
	c, err := kb.Load(content.FS)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kb.Build(ctx, c, kb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	db, err := bolt.Open(filepath.Join(dataDir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := bot.NewEngine(k, db, bot.NewBus(), bot.Options{})
	for i, q := range gapQuestions {
		s, err := e.Start(ctx, bot.Identity{Channel: bot.Web, ID: fmt.Sprint("visitor-", i)}, bot.Profile{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: q}); err != nil {
			t.Fatal(err)
		}
		ms, err := e.Messages(ctx, s.Conversation.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		last := ms[len(ms)-1]
		switch {
		case last.Decision != nil && last.Decision.Kind == bot.DecisionClarify:
			if _, err := e.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: "Something else", Payload: bot.PayloadSomethingElse}); err != nil {
				t.Fatal(err)
			}
		case last.Decision != nil && last.Decision.Reason == "ask_helpful":
			if _, err := e.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: "No", Payload: bot.PayloadHelpfulNo}); err != nil {
				t.Fatal(err)
			}
		case last.Decision == nil || last.Decision.Kind != bot.DecisionNoAnswer:
			t.Fatalf("the demo knowledge base answered %q: %+v", q, last)
		}
	}
}

func TestGapsCommand(t *testing.T) {
	dataDir := t.TempDir()
	seedGaps(t, dataDir)
	ctx := context.Background()

	var out, errb bytes.Buffer
	if err := run(ctx, []string{"gaps", "--data-dir", dataDir, "--json"}, &out, &errb); err != nil {
		t.Fatalf("gaps --json: %v\n%s", err, errb.String())
	}
	var rep insights.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("decode %s: %v", out.String(), err)
	}
	if rep.Questions != len(gapQuestions) {
		t.Errorf("report counts %d questions, want %d", rep.Questions, len(gapQuestions))
	}
	var counts []int
	for _, tp := range rep.Topics {
		counts = append(counts, tp.Count)
	}
	if fmt.Sprint(counts) != "[3 3 1]" {
		t.Errorf("topic sizes %v, want [3 3 1]; topics %+v", counts, rep.Topics)
	}

	out.Reset()
	if err := run(ctx, []string{"gaps", "--data-dir", dataDir, "--since", "1d"}, &out, &errb); err != nil {
		t.Fatalf("gaps: %v", err)
	}
	if text := out.String(); !strings.Contains(text, "7 questions in 3 topics") || !strings.Contains(text, "install") {
		t.Errorf("terminal report:\n%s", text)
	}

	t.Run("a bad --since is a usage error", func(t *testing.T) {
		err := run(ctx, []string{"gaps", "--data-dir", dataDir, "--since", "soon"}, &out, &errb)
		if _, ok := err.(usageError); !ok {
			t.Errorf("got %v, want a usage error", err)
		}
	})
	t.Run("while serve runs it asks serve, with the same report", func(t *testing.T) {
		_, stop := serveStoppableIn(t, dataDir)
		defer stop()
		var live, errl bytes.Buffer
		if err := run(ctx, []string{"gaps", "--data-dir", dataDir, "--json"}, &live, &errl); err != nil {
			t.Fatalf("gaps --json while serve runs: %v\n%s", err, errl.String())
		}
		var got insights.Report
		if err := json.Unmarshal(live.Bytes(), &got); err != nil {
			t.Fatalf("decode %s: %v", live.String(), err)
		}
		got.Since = rep.Since // computed from the clock at each run
		a, _ := json.Marshal(rep)
		b, _ := json.Marshal(got)
		if !bytes.Equal(a, b) {
			t.Errorf("while serve runs gaps says\n%s\nwant, as on the file,\n%s", b, a)
		}
	})
	t.Run("a missing database is named", func(t *testing.T) {
		err := run(ctx, []string{"gaps", "--data-dir", t.TempDir()}, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "no database") {
			t.Errorf("got %v", err)
		}
	})
}

// One question in one topic reads as such, not "1 questions in 1 topics".
func TestPrintGapsSaysOneInTheSingular(t *testing.T) {
	var out bytes.Buffer
	printGaps(&out, insights.Report{Questions: 1, Topics: []insights.Topic{{Label: "how do i fix my car engine", Count: 1, Conversations: 1, Reasons: map[string]int{}}}})
	first, _, _ := strings.Cut(out.String(), "\n")
	if !strings.HasSuffix(first, ": 1 question in 1 topic") {
		t.Errorf("first line %q, want it to end in \": 1 question in 1 topic\"", first)
	}
}
