package bot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/testclock"
	"github.com/frontdesk/frontdesk/internal/wait"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// shopKB builds the knowledge base in kb/testdata/shop.
func shopKB(t testing.TB, th kb.Thresholds) *kb.KB {
	t.Helper()
	c, err := kb.Load(os.DirFS("../kb/testdata/shop"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kb.Build(context.Background(), c, kb.Options{Thresholds: th})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

type rig struct {
	t      testing.TB
	engine *bot.Engine
	db     *bolt.DB
	path   string
	clock  *testclock.Clock
	queue  *recordingQueue
}

// recordingQueue is a real Handoff: it keeps what was enqueued, as the
// agent queue would.
type recordingQueue struct {
	mu    sync.Mutex
	convs []bot.Conversation
}

func (q *recordingQueue) HandOff(a *bot.Act, _ *bot.Customer) error {
	c := *a.Conversation()
	a.OnCommit(func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.convs = append(q.convs, c)
	})
	return nil
}

func newRig(t testing.TB, th kb.Thresholds) *rig {
	t.Helper()
	return newRigWith(t, shopKB(t, th))
}

// newRigWith is newRig answering from k.
func newRigWith(t testing.TB, k *kb.KB) *rig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "frontdesk.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &rig{t: t, db: db, path: path, clock: testclock.New(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)), queue: &recordingQueue{}}
	r.engine = bot.NewEngine(k, db, bot.NewBus(), bot.Options{Now: r.clock.Now, Handoff: r.queue})
	return r
}

func (r *rig) start(visitor string) *bot.Session {
	r.t.Helper()
	s, err := r.engine.Start(context.Background(), bot.Identity{Channel: bot.Web, ID: visitor}, bot.Profile{})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

var clientIDs int

// say sends a customer message and returns the bot's replies to it.
func (r *rig) say(conv, text string) []bot.Message {
	r.t.Helper()
	return r.send(bot.Inbound{ConversationID: conv, Text: text})
}

func (r *rig) choose(conv, payload string) []bot.Message {
	r.t.Helper()
	return r.send(bot.Inbound{ConversationID: conv, Text: payload, Payload: payload})
}

func (r *rig) send(in bot.Inbound) []bot.Message {
	r.t.Helper()
	clientIDs++
	if in.ClientID == "" {
		in.ClientID = "c" + strings.Repeat("x", clientIDs%3) + time.Now().Format("150405.000000000")
	}
	m, err := r.engine.Handle(context.Background(), in)
	if err != nil {
		r.t.Fatal(err)
	}
	ms, err := r.db.Messages(context.Background(), in.ConversationID, m.Seq)
	if err != nil {
		r.t.Fatal(err)
	}
	return ms
}

func (r *rig) conv(id string) *bot.Conversation {
	r.t.Helper()
	c, err := r.db.Conversation(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

func payloads(m bot.Message) []string {
	var out []string
	for _, q := range m.QuickReplies {
		out = append(out, q.Payload)
	}
	return out
}

func TestNewCustomerIsGreeted(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("visitor-1")
	if s.Returning {
		t.Error("a new customer is returning")
	}
	ms, err := r.db.Messages(context.Background(), s.Conversation.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].From != bot.FromBot || ms[0].Seq != 1 || !strings.Contains(ms[0].Text, "assistant") {
		t.Fatalf("messages = %+v, want one greeting", ms)
	}
	// Reconnecting at once is not a new visit: no second greeting.
	s2 := r.start("visitor-1")
	if s2.Conversation.ID != s.Conversation.ID || !s2.Returning {
		t.Errorf("reconnect got conversation %s (returning %v), want %s", s2.Conversation.ID, s2.Returning, s.Conversation.ID)
	}
	if ms, _ := r.db.Messages(context.Background(), s.Conversation.ID, 0); len(ms) != 1 {
		t.Errorf("reconnect added messages: %+v", ms)
	}
}

// TestACustomerMessageWarmsAQuietStore: the engine tells a store that
// can ready its disk (bolt, see bot.CommitWarmer) when a customer's
// message arrives after a quiet spell.
func TestACustomerMessageWarmsAQuietStore(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("v1")
	time.Sleep(100 * time.Millisecond) // longer than bolt's default WarmAfter
	before := r.db.WarmFlushes()
	r.say(s.Conversation.ID, "how long does delivery take")
	wait.For(t, 5*time.Second, "a warming flush", func() bool { return r.db.WarmFlushes() > before })
}

func TestPolicy(t *testing.T) {
	cases := []struct {
		name     string
		before   []string // customer messages sent first
		text     string
		payload  string
		wantKind bot.DecisionKind // decision kind of the first bot reply
		wantArt  string
		wantQR   []string // payloads that must be offered in the last reply
		state    bot.State
	}{
		{name: "a greeting gets a friendly reply, not a search", text: "hello!", wantKind: "smalltalk", state: bot.StateBot},
		{name: "thanks get a reply", text: "thanks a lot", wantKind: "smalltalk", state: bot.StateBot},
		{name: "help explains what the bot can do", text: "help", wantKind: "smalltalk", state: bot.StateBot},
		{name: "a clear question is answered and followed by helpful and related", text: "how do I return a lamp", wantKind: "answer", wantArt: "return-item", wantQR: []string{bot.PayloadHelpfulYes, bot.PayloadHelpfulNo, "article:refund-timing"}, state: bot.StateBot},
		{name: "a typo still finds the answer", text: "how long does delivry take", wantKind: "answer", wantArt: "delivery-times", state: bot.StateBot},
		{name: "an unknown question asks to rephrase", text: "what is the capital of france", wantKind: "no_answer", wantQR: []string{bot.PayloadHuman}, state: bot.StateBot},
		{name: "a second failure offers a person", before: []string{"what is the capital of france"}, text: "who won the football match", wantKind: "no_answer", wantQR: []string{bot.PayloadHuman, bot.PayloadKeepTrying}, state: bot.StateBot},
		{name: "asking for a person hands off at once", text: "I want to talk to a human", wantKind: "handoff", state: bot.StateQueued},
		{name: "the talk-to-a-person button hands off", text: "Talk to a person", payload: bot.PayloadHuman, wantKind: "handoff", state: bot.StateQueued},
		{name: "shouting hands off", text: "WHERE IS MY PACKAGE I ORDERED WEEKS AGO", wantKind: "handoff", state: bot.StateQueued},
		{name: "insults hand off", text: "this is useless", wantKind: "handoff", state: bot.StateQueued},
		{name: "the same question again hands off", before: []string{"my package has not arrived"}, text: "My package has not arrived!", wantKind: "handoff", state: bot.StateQueued},
		{name: "a handoff article is answered then handed off", text: "please close my account", wantKind: "answer", wantArt: "close-account", state: bot.StateQueued},
		{name: "not helpful twice offers a person", before: []string{"what is the capital of france"}, text: "No", payload: bot.PayloadHelpfulNo, wantKind: "no_answer", wantQR: []string{bot.PayloadHuman}, state: bot.StateBot},
		{name: "a chosen article is answered", text: "When do I get my refund?", payload: "article:refund-timing", wantKind: "answer", wantArt: "refund-timing", state: bot.StateBot},
		{name: "a weak follow-up is read with the previous question", before: []string{"how long does delivery take"}, text: "and to germany?", wantKind: "answer", wantArt: "delivery-times", state: bot.StateBot},
		{name: "a name is remembered", text: "my name is Ana", wantKind: "smalltalk", state: bot.StateBot},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, kb.Thresholds{})
			s := r.start("v")
			for _, b := range tc.before {
				r.say(s.Conversation.ID, b)
			}
			replies := r.send(bot.Inbound{ConversationID: s.Conversation.ID, Text: tc.text, Payload: tc.payload})
			if len(replies) == 0 {
				t.Fatal("no reply")
			}
			first, last := replies[0], replies[len(replies)-1]
			if first.Decision == nil || first.Decision.Kind != tc.wantKind {
				t.Fatalf("first reply %q decision %+v, want kind %s", first.Text, first.Decision, tc.wantKind)
			}
			if tc.wantArt != "" && first.Decision.ArticleID != tc.wantArt {
				t.Errorf("answered %s, want %s", first.Decision.ArticleID, tc.wantArt)
			}
			got := strings.Join(payloads(last), " ")
			for _, p := range tc.wantQR {
				if !strings.Contains(got, p) {
					t.Errorf("last reply offers %v, want %s", got, p)
				}
			}
			if st := r.conv(s.Conversation.ID).State; st != tc.state {
				t.Errorf("state %s, want %s", st, tc.state)
			}
		})
	}
}

func TestClarifyOffersCandidatesAndSomethingElse(t *testing.T) {
	r := newRig(t, kb.Thresholds{Answer: 0.999, Clarify: 0.01})
	s := r.start("v")
	replies := r.say(s.Conversation.ID, "refund for my return")
	if len(replies) != 1 || replies[0].Decision.Kind != "clarify" {
		t.Fatalf("replies %+v, want one clarify", replies)
	}
	p := payloads(replies[0])
	if len(p) < 2 || len(p) > 4 || p[len(p)-1] != bot.PayloadSomethingElse || !strings.HasPrefix(p[0], "article:") {
		t.Errorf("quick replies %v, want 1-3 articles then something_else", p)
	}
}

func TestBotIsSilentWhilePeopleOwnTheConversation(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("v")
	r.say(s.Conversation.ID, "agent please")
	if len(r.queue.convs) != 1 || r.queue.convs[0].HandoffReason != "requested" {
		t.Fatalf("queue got %+v", r.queue.convs)
	}
	for _, text := range []string{"how do I return a lamp", "hello?", "thanks"} {
		if replies := r.say(s.Conversation.ID, text); len(replies) != 0 {
			t.Errorf("bot replied %q while queued", replies[0].Text)
		}
	}
	c := r.conv(s.Conversation.ID)
	c.State = bot.StateAgent
	if err := r.db.SaveConversation(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if replies := r.say(s.Conversation.ID, "where is my package"); len(replies) != 0 {
		t.Errorf("bot replied %q while an agent owns the conversation", replies[0].Text)
	}
}

func TestFrustrationHasHigherPriority(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("v")
	r.say(s.Conversation.ID, "this bot is useless")
	if c := r.conv(s.Conversation.ID); c.HandoffReason != "frustration" || c.Priority <= bot.PriorityNormal {
		t.Errorf("conversation %+v, want a frustration hand-off above normal priority", c)
	}
}

func TestRetriedMessageIsStoredAndAnsweredOnce(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("v")
	var acks []int64
	in := bot.Inbound{ConversationID: s.Conversation.ID, ClientID: "same-id", Text: "how do i return an item",
		OnStored: func(m bot.Message, _ bool) { acks = append(acks, m.Seq) }}
	for range 3 {
		if _, err := r.engine.Handle(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	if len(acks) != 3 || acks[0] != acks[1] || acks[1] != acks[2] {
		t.Errorf("acks %v, want the same seq three times", acks)
	}
	ms, _ := r.db.Messages(context.Background(), s.Conversation.ID, 0)
	var customer, answers int
	for _, m := range ms {
		if m.From == bot.FromCustomer {
			customer++
		}
		if m.Decision != nil && m.Decision.Kind == "answer" {
			answers++
		}
	}
	if customer != 1 || answers != 1 {
		t.Errorf("%d customer messages and %d answers stored, want 1 and 1", customer, answers)
	}
}

func TestReturningCustomerIsWelcomedByNameWithTheirLastTopic(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("v")
	r.say(s.Conversation.ID, "my name is Ana")
	r.say(s.Conversation.ID, "when do i get my refund")
	r.clock.Add(3 * 24 * time.Hour)
	s2 := r.start("v")
	if !s2.Returning || s2.Customer.Name != "Ana" || s2.Customer.Visits != 2 {
		t.Errorf("session %+v, want returning Ana on her second visit", s2.Customer)
	}
	ms, _ := r.db.Messages(context.Background(), s2.Conversation.ID, 0)
	last := ms[len(ms)-1]
	if !strings.Contains(last.Text, "Welcome back, Ana") || !strings.Contains(last.Text, "When do I get my refund?") {
		t.Errorf("welcome = %q", last.Text)
	}
	replies := r.choose(s2.Conversation.ID, "followup:no:refund-timing")
	if len(replies) == 0 || !strings.Contains(strings.Join(payloads(replies[len(replies)-1]), " "), bot.PayloadHuman) {
		t.Errorf("an open issue should offer a person: %+v", replies)
	}
}

func TestMessagesSurviveAReopenedStore(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("v")
	r.say(s.Conversation.ID, "how do i return an item")
	before, _ := r.db.Messages(context.Background(), s.Conversation.ID, 0)
	r.db.Close()
	db, err := bolt.Open(r.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	after, err := db.Messages(context.Background(), s.Conversation.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || len(after) < 3 {
		t.Errorf("%d messages before close, %d after reopen", len(before), len(after))
	}
}

func TestEventsArePublishedAfterStoring(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("v")
	sub := r.engine.Subscribe(s.Conversation.ID, 16)
	defer sub.Close()
	r.say(s.Conversation.ID, "agent please")
	var kinds []string
	for len(kinds) < 3 {
		select {
		case e := <-sub.C():
			kinds = append(kinds, string(e.Kind))
			if e.Kind == bot.EventMessage {
				if _, err := r.db.Messages(context.Background(), s.Conversation.ID, e.Message.Seq-1); err != nil {
					t.Error(err)
				}
			}
		case <-time.After(time.Second):
			t.Fatalf("events so far %v", kinds)
		}
	}
	if strings.Join(kinds, ",") != "message,message,state" {
		t.Errorf("events %v, want customer message, bot message, state", kinds)
	}
}

// BenchmarkHandle measures one turn: a customer message in, stored, the
// knowledge base searched, the bot's answer stored (fsync'd).
func BenchmarkHandle(b *testing.B) {
	r := newRig(b, kb.Thresholds{})
	s := r.start("bench")
	qs := []string{"how do i return an item", "where is my package", "when are you open", "i forgot my password", "how long does delivery take"}
	var times []time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		start := time.Now()
		if _, err := r.engine.Handle(context.Background(), bot.Inbound{ConversationID: s.Conversation.ID, Text: qs[i%len(qs)]}); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
		i++
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkHandleConcurrent measures turns of many conversations at once,
// as at a shop's peak: their acts share commits.
func BenchmarkHandleConcurrent(b *testing.B) {
	r := newRig(b, kb.Thresholds{})
	const convs = 256
	ids := make([]string, convs)
	for i := range ids {
		ids[i] = r.start(fmt.Sprint("bench", i)).Conversation.ID
	}
	qs := []string{"how do i return an item", "where is my package", "when are you open", "i forgot my password", "how long does delivery take"}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(convs / runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1))
		conv := ids[i%convs]
		for n := 0; pb.Next(); n++ {
			if _, err := r.engine.Handle(context.Background(), bot.Inbound{ConversationID: conv, Text: qs[(i+n)%len(qs)]}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestMessagePagesReadTheWholeLogInOrderWithoutNotes(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("pager")
	for i := range 450 {
		m := bot.Message{ConversationID: s.Conversation.ID, From: bot.FromAgent, Text: fmt.Sprint(i), Internal: i%7 == 0}
		if _, _, err := r.db.Append(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	want, err := r.engine.Messages(context.Background(), s.Conversation.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []bot.Message
	after, pages := int64(0), 0
	for {
		ms, next, err := r.engine.MessagePage(context.Background(), s.Conversation.ID, after, 200)
		if err != nil {
			t.Fatal(err)
		}
		if next == after {
			break
		}
		if len(ms) > 200 || next-after > 200 {
			t.Fatalf("page after %d: %d messages up to seq %d, more than 200", after, len(ms), next)
		}
		got, after = append(got, ms...), next
		pages++
	}
	if pages != 3 || after != 451 || len(got) != len(want) {
		t.Fatalf("%d pages up to seq %d with %d messages; want 3 pages up to 451 with %d", pages, after, len(got), len(want))
	}
	for i := range got {
		if got[i].Seq != want[i].Seq || got[i].Internal {
			t.Fatalf("message %d: seq %d (internal %v), want seq %d", i, got[i].Seq, got[i].Internal, want[i].Seq)
		}
	}
}
