package insights

import (
	"bufio"
	"context"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/kb"
)

var (
	demoOnce sync.Once
	demoKB   *kb.KB
	demoErr  error
)

// demo builds the embedded demo knowledge base once for the package's
// tests.
func demo(t *testing.T) *kb.KB {
	t.Helper()
	demoOnce.Do(func() {
		c, err := kb.Load(content.FS)
		if err != nil {
			demoErr = err
			return
		}
		demoKB, demoErr = kb.Build(context.Background(), c, kb.Options{})
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoKB
}

// readTopics reads testdata/gaps.txt: blocks of questions separated by
// blank lines, each block one expected topic.
func readTopics(t *testing.T) [][]string {
	f, err := os.Open("testdata/gaps.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	var cur []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#"):
		case line == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
		default:
			cur = append(cur, line)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func TestGroupFixedQuestions(t *testing.T) {
	k := demo(t)
	want := readTopics(t)
	var gaps []Gap
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	// Interleave the topics, as questions arrive in real life.
	for i := 0; ; i++ {
		added := false
		for j, block := range want {
			if i < len(block) {
				gaps = append(gaps, Gap{ConversationID: "con_" + string(rune('a'+j)) + string(rune('0'+i)), Question: block[i],
					Time: at.Add(time.Duration(len(gaps)) * time.Minute), Reasons: []string{ReasonNoAnswer}})
				added = true
			}
		}
		if !added {
			break
		}
	}
	topics, err := Group(context.Background(), k, gaps)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, tp := range topics {
		var qs []string
		for _, e := range tp.Examples {
			qs = append(qs, e.Question)
		}
		if tp.Count != len(qs) {
			t.Errorf("topic %q counts %d questions, lists %d", tp.Label, tp.Count, len(qs))
		}
		if !slices.Contains(qs, tp.Label) {
			t.Errorf("topic label %q is not one of its questions %q", tp.Label, qs)
		}
		if tp.Reasons[ReasonNoAnswer] != tp.Count {
			t.Errorf("topic %q: reasons %v, want %d no_answer", tp.Label, tp.Reasons, tp.Count)
		}
		sort.Strings(qs)
		got = append(got, qs)
	}
	for _, w := range want {
		sort.Strings(w)
	}
	norm := func(groups [][]string) []string {
		var out []string
		for _, g := range groups {
			out = append(out, strings.Join(g, " | "))
		}
		sort.Strings(out)
		return out
	}
	if g, w := norm(got), norm(want); !slices.Equal(g, w) {
		t.Errorf("topics:\n got  %q\n want %q", g, w)
	}
	if len(topics) > 0 && topics[0].Count < topics[len(topics)-1].Count {
		t.Errorf("topics not biggest first: %d then %d", topics[0].Count, topics[len(topics)-1].Count)
	}
	for _, tp := range topics {
		if tp.Count == 3 && len(tp.Nearest) == 0 {
			t.Errorf("topic %q names no nearest article", tp.Label)
		}
	}
}

func TestFindGaps(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	seq := int64(0)
	msg := func(m bot.Message) bot.Message {
		seq++
		m.ConversationID, m.Seq, m.Time = "con_1", seq, at.Add(time.Duration(seq)*time.Second)
		return m
	}
	cust := func(text, payload string) bot.Message {
		return msg(bot.Message{From: bot.FromCustomer, Text: text, Payload: payload})
	}
	botSays := func(d bot.Decision) bot.Message {
		return msg(bot.Message{From: bot.FromBot, Text: "…", Decision: &d})
	}
	ms := []bot.Message{
		botSays(bot.Decision{Kind: bot.DecisionSmalltalk, Reason: "greeting"}),
		cust("do you sell gift wrapping", ""),
		botSays(bot.Decision{Kind: bot.DecisionNoAnswer, Reason: "low_confidence", Query: "do you sell gift wrapping"}),
		cust("how long is delivery", ""),
		botSays(bot.Decision{Kind: bot.DecisionAnswer, ArticleID: "delivery-times", Query: "how long is delivery", Reason: "confident"}),
		cust("No", bot.PayloadHelpfulNo),
		botSays(bot.Decision{Kind: bot.DecisionNoAnswer, Reason: "negative_feedback", Query: "No"}),
		cust("lamp thing", ""),
		botSays(bot.Decision{Kind: bot.DecisionClarify, Query: "lamp thing", Candidates: []string{"a", "b"}}),
		cust("Something else", bot.PayloadSomethingElse),
		botSays(bot.Decision{Kind: bot.DecisionNoAnswer, Reason: "something_else", Query: "Something else"}),
		cust("Talk to a person", bot.PayloadHuman),
		botSays(bot.Decision{Kind: bot.DecisionHandoff, Reason: "requested"}),
		msg(bot.Message{From: bot.FromAgent, Internal: true, Text: "note to self"}),
		msg(bot.Message{From: bot.FromAgent, Text: "Our lamp thing is called the Orb."}),
		msg(bot.Message{From: bot.FromAgent, Text: "Anything else?"}),
		// A request for a person with no failure before is no gap.
		cust("a person please", ""),
		botSays(bot.Decision{Kind: bot.DecisionHandoff, Reason: "requested"}),
		msg(bot.Message{From: bot.FromAgent, Text: "Hello"}),
	}
	got := FindGaps(ms)
	want := []Gap{
		{Question: "do you sell gift wrapping", Reasons: []string{ReasonNoAnswer}},
		{Question: "how long is delivery", Reasons: []string{ReasonNotHelpful}, ArticleID: "delivery-times"},
		{Question: "lamp thing", Reasons: []string{ReasonSomethingElse, ReasonHandoff}, AgentReply: "Our lamp thing is called the Orb."},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d gaps %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Question != w.Question || !slices.Equal(g.Reasons, w.Reasons) || g.ArticleID != w.ArticleID || g.AgentReply != w.AgentReply {
			t.Errorf("gap %d = %+v, want %+v", i, g, w)
		}
		if g.ConversationID != "con_1" || g.Time.IsZero() {
			t.Errorf("gap %d has no conversation or time: %+v", i, g)
		}
	}
}
