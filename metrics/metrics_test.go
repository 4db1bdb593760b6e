package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/promtest"
	"github.com/frontdesk/frontdesk/internal/testclock"
	"github.com/frontdesk/frontdesk/internal/wait"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// scrape serves /metrics from m and parses the text format.
func scrape(t *testing.T, m *Metrics) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	return promtest.Parse(t, body), body
}

// value is promtest.Value.
var value = promtest.Value

func histogramSum(fams map[string]*dto.MetricFamily, name string) float64 {
	if f := fams[name]; f != nil && len(f.Metric) == 1 && f.Metric[0].Histogram != nil {
		return f.Metric[0].Histogram.GetSampleSum()
	}
	return math.NaN()
}

func TestObserveCommitRecordsBatchSizeAndLatency(t *testing.T) {
	m := New(Options{})
	m.ObserveCommit(3, 2*time.Millisecond)
	m.ObserveCommit(1, 4*time.Millisecond)
	fams, _ := scrape(t, m)
	if n, sum := value(fams, "frontdesk_store_commit_acts"), histogramSum(fams, "frontdesk_store_commit_acts"); n != 2 || sum != 4 {
		t.Errorf("acts per commit: %v observations summing to %v, want 2 summing to 4", n, sum)
	}
	if n, sum := value(fams, "frontdesk_store_commit_duration_seconds"), histogramSum(fams, "frontdesk_store_commit_duration_seconds"); n != 2 || math.Abs(sum-0.006) > 1e-9 {
		t.Errorf("commit latency: %v observations summing to %v s, want 2 summing to 0.006", n, sum)
	}
}

func TestTheGoAndProcessCollectorsAreRegistered(t *testing.T) {
	fams, _ := scrape(t, New(Options{}))
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_start_time_seconds"} {
		if fams[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
}

// conversations is a stand-in store holding conversations in memory.
type conversations map[string]bot.Conversation

func (cs conversations) Conversation(_ context.Context, id string) (*bot.Conversation, error) {
	c, ok := cs[id]
	if !ok {
		return nil, bot.ErrNotFound
	}
	return &c, nil
}

func TestFollowCountsAConversationFromItsEvents(t *testing.T) {
	clk := testclock.New(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	m := New(Options{Now: clk.Now})
	defer m.Close()
	bus := bot.NewBus()
	const id = "con_0123456789abcdef01234567"
	m.Follow(context.Background(), Sources{
		Events:        BusFunc(func(id string, n int) Subscription { return bus.Subscribe(id, n) }),
		Conversations: conversations{id: {ID: id, Channel: bot.Telegram, State: bot.StateBot}},
	})

	published := 0
	// say publishes a message after the clock moved on by after, and
	// waits until the follower has counted it.
	say := func(after time.Duration, from bot.Sender, payload string, d *bot.Decision) {
		t.Helper()
		clk.Add(after)
		bus.Publish(bot.Event{Kind: bot.EventMessage, ConversationID: id, Message: &bot.Message{ConversationID: id, From: from, Payload: payload, Decision: d}})
		published++
		wait.For(t, 5*time.Second, fmt.Sprintf("the follower to count %d messages", published), func() bool {
			fams, _ := scrape(t, m)
			n := 0.0
			for _, s := range []string{"customer", "bot", "agent", "system"} {
				if v := value(fams, "frontdesk_messages_total", "from", s); !math.IsNaN(v) {
					n += v
				}
			}
			return int(n) == published
		})
	}
	state := func(s bot.State) {
		bus.Publish(bot.Event{Kind: bot.EventState, ConversationID: id, State: s})
	}

	say(0, bot.FromBot, "", &bot.Decision{Kind: "smalltalk", Reason: "greeting"}) // not a turn
	say(time.Second, bot.FromCustomer, "", nil)
	say(4*time.Millisecond, bot.FromBot, "", &bot.Decision{Kind: "answer"}) // turn 1
	say(time.Millisecond, bot.FromBot, "", &bot.Decision{Kind: "feedback", Reason: "ask_helpful"})
	say(time.Second, bot.FromCustomer, bot.PayloadHelpfulYes, nil)
	say(2*time.Millisecond, bot.FromBot, "", &bot.Decision{Kind: "feedback", Reason: "helpful"}) // turn 2
	say(time.Second, bot.FromCustomer, "", nil)
	say(3*time.Millisecond, bot.FromBot, "", &bot.Decision{Kind: "handoff", Reason: "requested"}) // turn 3
	state(bot.StateQueued)
	say(time.Second, bot.FromSystem, "", nil)
	state(bot.StateAgent)
	say(time.Second, bot.FromCustomer, bot.PayloadHelpfulNo, nil) // the bot is silent: no turn, no feedback
	say(time.Second, bot.FromAgent, "", nil)
	say(time.Second, bot.FromSystem, "", nil)
	state(bot.StateBot)
	say(time.Millisecond, bot.FromBot, "", &bot.Decision{Kind: "survey", Reason: "resolved"}) // not a turn
	say(time.Second, bot.FromCustomer, "survey:4", nil)
	say(5*time.Millisecond, bot.FromBot, "", &bot.Decision{Kind: "survey", Reason: "rated"}) // turn 4
	say(time.Second, bot.FromCustomer, "", nil)
	say(2*time.Minute, bot.FromBot, "", &bot.Decision{Kind: "smalltalk", Reason: "welcome_back"}) // too late, and a welcome: not a turn

	fams, body := scrape(t, m)
	if strings.Contains(body, id) {
		t.Errorf("the conversation id is in the metrics:\n%s", body)
	}
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"frontdesk_messages_total", []string{"channel", "telegram", "from", "customer"}, 6},
		{"frontdesk_messages_total", []string{"channel", "telegram", "from", "bot"}, 8},
		{"frontdesk_messages_total", []string{"channel", "telegram", "from", "agent"}, 1},
		{"frontdesk_messages_total", []string{"channel", "telegram", "from", "system"}, 2},
		{"frontdesk_decisions_total", []string{"kind", "answer"}, 1},
		{"frontdesk_decisions_total", []string{"kind", "feedback"}, 2},
		{"frontdesk_decisions_total", []string{"kind", "handoff"}, 1},
		{"frontdesk_decisions_total", []string{"kind", "survey"}, 2},
		{"frontdesk_decisions_total", []string{"kind", "smalltalk"}, 2},
		{"frontdesk_handoffs_total", []string{"reason", "requested"}, 1},
		{"frontdesk_answer_feedback_total", []string{"helpful", "yes"}, 1},
		{"frontdesk_answer_feedback_total", []string{"helpful", "no"}, 0},
		{"frontdesk_survey_ratings_total", []string{"score", "4"}, 1},
		{"frontdesk_survey_ratings_total", []string{"score", "5"}, 0},
		{"frontdesk_state_changes_total", []string{"state", "agent"}, 1},
		{"frontdesk_turn_duration_seconds", nil, 4},
		{"frontdesk_conversations", []string{"state", "bot"}, 1},
	}
	for _, c := range checks {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if sum := histogramSum(fams, "frontdesk_turn_duration_seconds"); math.Abs(sum-0.014) > 1e-9 {
		t.Errorf("turn latencies sum to %v s, want 0.014 (4 + 2 + 3 + 5 ms)", sum)
	}
}

// dropped is a subscription the bus already dropped for lagging.
type dropped struct{ c chan bot.Event }

func (d dropped) C() <-chan bot.Event { return d.c }
func (d dropped) Lagged() bool        { return true }
func (d dropped) Close()              {}

func TestFollowSubscribesAgainAfterLagging(t *testing.T) {
	m := New(Options{})
	defer m.Close()
	bus := bot.NewBus()
	var mu sync.Mutex
	subs := 0
	m.Follow(context.Background(), Sources{Events: BusFunc(func(id string, n int) Subscription {
		mu.Lock()
		defer mu.Unlock()
		subs++
		if subs == 1 {
			d := dropped{make(chan bot.Event)}
			close(d.c)
			return d
		}
		return bus.Subscribe(id, n)
	})})
	wait.For(t, 5*time.Second, "a message counted after subscribing again", func() bool {
		// Published until the follower is back: events before that are
		// lost, as for any lagging subscriber.
		bus.Publish(bot.Event{Kind: bot.EventMessage, ConversationID: "con_y", Message: &bot.Message{From: bot.FromCustomer}})
		fams, _ := scrape(t, m)
		return value(fams, "frontdesk_messages_total", "from", "customer") >= 1
	})
}

func TestRememberedConversationsAreBoundedAndPruned(t *testing.T) {
	m := New(Options{})
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	for i := range maxConversations + 500 {
		m.remember(fmt.Sprint("con_", i), &conversation{state: bot.StateBot}, now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(m.convs); n > maxConversations {
		t.Errorf("%d conversations remembered, want at most %d", n, maxConversations)
	}
	if _, ok := m.convs[fmt.Sprint("con_", maxConversations+499)]; !ok {
		t.Error("the newest conversation was forgotten")
	}
	m.remember("con_late", &conversation{state: bot.StateBot}, now.Add(idleAfter+2*time.Minute))
	if n := len(m.convs); n != 1 {
		t.Errorf("%d conversations remembered after all but one went idle, want 1", n)
	}
}

// queue is a stand-in agent queue.
type queue struct {
	tickets   []handoff.Ticket
	presences map[string]handoff.Presence
	err       error
}

func (q *queue) Tickets(context.Context, handoff.Filter) ([]handoff.Ticket, error) {
	return q.tickets, q.err
}
func (q *queue) Presences() map[string]handoff.Presence { return q.presences }

func TestTheQueueIsMeasuredAtScrapeTime(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	m := New(Options{Now: func() time.Time { return now }, Articles: 42})
	defer m.Close()
	q := &queue{
		tickets: []handoff.Ticket{
			{Status: handoff.StatusQueued, QueuedAt: now.Add(-2 * time.Minute)},
			{Status: handoff.StatusQueued, QueuedAt: now.Add(-30 * time.Second)},
			{Status: handoff.StatusAssigned, QueuedAt: now.Add(-time.Hour)},
		},
		presences: map[string]handoff.Presence{"agt_1": handoff.PresenceOnline, "agt_2": handoff.PresenceAway, "agt_3": handoff.PresenceOnline},
	}
	m.Follow(context.Background(), Sources{Queue: q})
	fams, body := scrape(t, m)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"frontdesk_queue_length", nil, 2},
		{"frontdesk_queue_oldest_wait_seconds", nil, 120},
		{"frontdesk_conversations", []string{"state", "queued"}, 2},
		{"frontdesk_conversations", []string{"state", "agent"}, 1},
		{"frontdesk_agents", []string{"presence", "online"}, 2},
		{"frontdesk_agents", []string{"presence", "away"}, 1},
		{"frontdesk_kb_articles", nil, 42},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if strings.Contains(body, "agt_") {
		t.Errorf("an agent id is in the metrics:\n%s", body)
	}

	// A store that fails leaves the queue out; the rest is served.
	q.err = errors.New("disk on fire")
	fams, _ = scrape(t, m)
	if fams["frontdesk_queue_length"] != nil || fams["go_goroutines"] == nil {
		t.Errorf("with the queue failing: queue_length %v, go_goroutines %v", fams["frontdesk_queue_length"], fams["go_goroutines"])
	}
}

func TestQueueEventsGiveWaitsAndKinds(t *testing.T) {
	m := New(Options{})
	defer m.Close()
	now := time.Now()
	m.queueEvent(handoff.Event{Kind: handoff.EventQueued, Ticket: &handoff.Ticket{QueuedAt: now}})
	m.queueEvent(handoff.Event{Kind: handoff.EventAssigned, Ticket: &handoff.Ticket{QueuedAt: now, AssignedAt: now.Add(90 * time.Second)}})
	m.queueEvent(handoff.Event{Kind: handoff.EventSLABreach, Ticket: &handoff.Ticket{}})
	fams, _ := scrape(t, m)
	if n, sum := value(fams, "frontdesk_queue_wait_seconds"), histogramSum(fams, "frontdesk_queue_wait_seconds"); n != 1 || sum != 90 {
		t.Errorf("queue waits: %v summing to %v, want 1 of 90 s", n, sum)
	}
	for _, k := range []string{"queued", "assigned", "sla_breach"} {
		if got := value(fams, "frontdesk_queue_events_total", "kind", k); got != 1 {
			t.Errorf("queue events %s = %v, want 1", k, got)
		}
	}
}

func TestHTTPCountsWebsocketsAndAPIErrors(t *testing.T) {
	m := New(Options{})
	mux := http.NewServeMux()
	up := websocket.Upgrader{}
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/api/agent/missing", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusNotFound) })
	mux.HandleFunc("/api/agent/login", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "slow down", http.StatusTooManyRequests) })
	mux.HandleFunc("/api/agent/me", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusNotFound) })
	srv := httptest.NewServer(m.HTTP(mux, HTTPOptions{WebSockets: map[string]string{"/ws": "web"}, APIs: map[string]string{"/api/agent/": "console"}}))
	defer srv.Close()

	for _, p := range []string{"/api/agent/missing", "/api/agent/login", "/api/agent/me", "/elsewhere"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	fams, _ := scrape(t, m)
	if got := value(fams, "frontdesk_connections", "channel", "web"); got != 1 {
		t.Errorf("web connections while one is open = %v, want 1", got)
	}
	ws.Close()
	wait.For(t, 5*time.Second, "the closed connection to be uncounted", func() bool {
		fams, _ = scrape(t, m)
		return value(fams, "frontdesk_connections", "channel", "web") == 0
	})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"frontdesk_errors_total", []string{"channel", "console", "code", "not_found"}, 1},
		{"frontdesk_errors_total", []string{"channel", "console", "code", "rate_limited"}, 1},
		{"frontdesk_refusals_total", []string{"channel", "console", "reason", "rate_limited"}, 1},
		{"frontdesk_connections", []string{"channel", "console"}, 0},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := len(fams["frontdesk_errors_total"].GetMetric()); n != 2 {
		t.Errorf("%d error series, want 2 (a 404 outside the API is not counted)", n)
	}
}

func TestLabelsAreOnlyKnownIdentifiers(t *testing.T) {
	m := New(Options{})
	m.ObserveTelegram("sendMessage", 30*time.Millisecond, nil)
	m.ObserveTelegram("bot123:secret", time.Millisecond, errors.New("boom"))
	m.Error("web", "Something Went Wrong!")
	fams, body := scrape(t, m)
	if strings.Contains(body, "secret") || strings.Contains(body, "Wrong") {
		t.Errorf("free text became a label:\n%s", body)
	}
	if got := value(fams, "frontdesk_telegram_request_duration_seconds", "method", "sendMessage"); got != 1 {
		t.Errorf("sendMessage requests = %v, want 1", got)
	}
	if got := value(fams, "frontdesk_telegram_request_errors_total", "method", "other"); got != 1 {
		t.Errorf("failed requests of an unknown method = %v, want 1 under method=other", got)
	}
	if got := value(fams, "frontdesk_errors_total", "channel", "web", "code", "other"); got != 1 {
		t.Errorf("an unknown error code = %v, want 1 under code=other", got)
	}
}
