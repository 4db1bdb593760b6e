package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/promtest"
	"github.com/frontdesk/frontdesk/internal/wait"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// families scrapes url and parses the text format.
func families(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return promtest.Parse(t, string(body))
}

// sample is promtest.Value.
var sample = promtest.Value

// scriptedCustomer is a web customer on the websocket, speaking docs/protocol.md.
type scriptedCustomer struct {
	t     *testing.T
	ws    *websocket.Conn
	conv  string
	token string // to resume the conversation, from welcome
	n     int
}

func dialCustomer(t *testing.T, base string) *scriptedCustomer {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &scriptedCustomer{t: t, ws: ws}
	c.send(map[string]any{"type": "hello", "token": "", "last_seq": 0})
	welcome := c.until(func(f map[string]any) bool { return f["type"] == "welcome" })
	c.conv, _ = welcome["conversation_id"].(string)
	c.token, _ = welcome["token"].(string)
	c.until(botSays("assistant"))
	return c
}

func (c *scriptedCustomer) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

// say sends a message (a quick reply when payload is set).
func (c *scriptedCustomer) say(text, payload string) {
	c.t.Helper()
	c.n++
	c.send(map[string]any{"type": "message", "id": fmt.Sprint("m", c.n), "text": text, "payload": payload})
}

// until reads frames until one satisfies ok, and returns it.
func (c *scriptedCustomer) until(ok func(map[string]any) bool) map[string]any {
	c.t.Helper()
	var seen []string
	for {
		c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var f map[string]any
		if err := c.ws.ReadJSON(&f); err != nil {
			c.t.Fatalf("reading frames: %v; saw %q", err, seen)
		}
		if ok(f) {
			return f
		}
		seen = append(seen, fmt.Sprint(f["type"], ": ", f["from"], " ", f["text"], f["code"]))
	}
}

// from matches a message frame from the sender containing text.
func from(sender, text string) func(map[string]any) bool {
	return func(f map[string]any) bool {
		s, _ := f["text"].(string)
		return f["type"] == "message" && f["from"] == sender && strings.Contains(s, text)
	}
}

func botSays(text string) func(map[string]any) bool { return from("bot", text) }

// agentAPI calls the agent API with a bearer token and returns the
// status, decoding the response into out if it is not nil.
func agentAPI(t *testing.T, base, token, method, path string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// TestMetricsAfterAScriptedConversation runs one conversation through
// every step the metrics count (clarify, answer, helpful, hand-off, agent
// reply, resolve, survey), with Telegram on beside it, then scrapes the
// private metrics listener and checks each family; the profiler answers
// there and not on the main listener; the dashboard and alert rules name
// only metrics the scrape has.
func TestMetricsAfterAScriptedConversation(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "a long password\n")
	if _, stderr, err := runCmd(t, "agent", "add", "--data-dir", dataDir, "--name", "Maria", "--email", "maria@example.com"); err != nil {
		t.Fatalf("agent add: %v\n%s", err, stderr)
	}
	// Telegram answers the first request with a 502, as in a short outage.
	api := &botAPI{down: 1}
	tg := httptest.NewServer(api)
	defer tg.Close()
	t.Setenv("FRONTDESK_TELEGRAM_TOKEN", "123:secret")
	t.Setenv("FRONTDESK_TELEGRAM_API_URL", tg.URL)
	private := freeAddr(t)
	base := startServeIn(t, dataDir, "--manual-assign", "true", "--metrics-addr", private)
	metricsURL := "http://" + private + "/metrics"

	c := dialCustomer(t, base)
	c.say("a lamp problem", "")
	c.until(botSays("Did you mean"))
	c.say("how long does delivery take?", "")
	c.until(botSays("Was this helpful?"))
	c.say("Yes", "helpful:yes")
	c.until(botSays("glad I could help"))
	c.say("I'd like to talk to a person please", "")
	c.until(botSays("connecting you with a person"))

	token := loginToken(t, base, "maria@example.com", "a long password")
	if code := agentAPI(t, base, token, "POST", "/api/agent/presence", map[string]string{"presence": "online"}, nil); code != http.StatusOK {
		t.Fatalf("presence: %d", code)
	}
	if code := agentAPI(t, base, token, "POST", "/api/agent/conversations/"+c.conv+"/claim", nil, nil); code != http.StatusOK {
		t.Fatalf("claim: %d", code)
	}
	c.until(from("system", "Maria from our team has joined"))
	if code := agentAPI(t, base, token, "POST", "/api/agent/conversations/"+c.conv+"/messages", map[string]any{"text": "Hello, this is Maria."}, nil); code != http.StatusCreated {
		t.Fatalf("agent reply: %d", code)
	}
	c.until(from("agent", "this is Maria"))
	c.say("thanks Maria, the lamp flickers", "")
	c.until(from("customer", "the lamp flickers"))
	if code := agentAPI(t, base, token, "POST", "/api/agent/conversations/"+c.conv+"/resolve", nil, nil); code != http.StatusOK {
		t.Fatalf("resolve: %d", code)
	}
	c.until(botSays("How would you rate"))
	c.say("5 - excellent", "survey:5")
	c.until(botSays("Thank you for your rating"))

	// Errors: a frame the protocol does not know, a conversation that
	// does not exist, messages faster than the rate limit allows.
	c.send(map[string]any{"type": "dance"})
	c.until(func(f map[string]any) bool { return f["type"] == "error" && f["code"] == "bad_frame" })
	if code := agentAPI(t, base, token, "GET", "/api/agent/conversations/con_nobody", nil, nil); code != http.StatusNotFound {
		t.Errorf("an unknown conversation: %d, want 404", code)
	}
	for range 12 {
		c.send(map[string]any{"type": "profile", "name": "Ana"})
	}
	c.until(func(f map[string]any) bool { return f["type"] == "error" && f["code"] == "rate_limited" })

	// Telegram greets its own customer beside the web one.
	wait.For(t, 20*time.Second, "a greeting sent to the Telegram chat", func() bool {
		return strings.Contains(api.messages(), "42: ")
	})

	// The follower counts asynchronously: wait for the last turn.
	// If it does not come, the checks below say what is missing.
	var fams map[string]*dto.MetricFamily
	wait.Until(context.Background(), 10*time.Second, func() bool {
		fams = families(t, metricsURL)
		return sample(fams, "frontdesk_survey_ratings_total", "score", "5") == 1 && sample(fams, "frontdesk_turn_duration_seconds") == 5 &&
			sample(fams, "frontdesk_messages_total", "channel", "telegram", "from", "bot") >= 1
	})

	exact := []struct {
		name   string
		labels []string
		want   float64
	}{
		// clarify, delivery question, "Yes", person, to Maria, rating
		{"frontdesk_messages_total", []string{"channel", "web", "from", "customer"}, 6},
		// greeting, clarify, answer, was-this-helpful, glad, hand-off, survey, thanks-for-rating
		{"frontdesk_messages_total", []string{"channel", "web", "from", "bot"}, 8},
		{"frontdesk_messages_total", []string{"channel", "web", "from", "agent"}, 1},
		{"frontdesk_decisions_total", []string{"kind", "clarify"}, 1},
		{"frontdesk_decisions_total", []string{"kind", "answer"}, 1},
		{"frontdesk_decisions_total", []string{"kind", "handoff"}, 1},
		{"frontdesk_decisions_total", []string{"kind", "feedback"}, 2},
		{"frontdesk_decisions_total", []string{"kind", "survey"}, 2},
		{"frontdesk_handoffs_total", []string{"reason", "requested"}, 1},
		{"frontdesk_answer_feedback_total", []string{"helpful", "yes"}, 1},
		{"frontdesk_answer_feedback_total", []string{"helpful", "no"}, 0},
		{"frontdesk_survey_ratings_total", []string{"score", "5"}, 1},
		{"frontdesk_survey_ratings_total", []string{"score", "1"}, 0},
		// clarify, answer, glad, hand-off, rating: the message to Maria is
		// not the bot's turn
		{"frontdesk_turn_duration_seconds", nil, 5},
		{"frontdesk_queue_events_total", []string{"kind", "queued"}, 1},
		{"frontdesk_queue_events_total", []string{"kind", "assigned"}, 1},
		{"frontdesk_queue_events_total", []string{"kind", "resolved"}, 1},
		{"frontdesk_queue_wait_seconds", nil, 1},
		{"frontdesk_queue_length", nil, 0},
		{"frontdesk_queue_oldest_wait_seconds", nil, 0},
		{"frontdesk_conversations", []string{"state", "queued"}, 0},
		{"frontdesk_conversations", []string{"state", "agent"}, 0},
		{"frontdesk_agents", []string{"presence", "online"}, 1},
		{"frontdesk_connections", []string{"channel", "web"}, 1},
		{"frontdesk_errors_total", []string{"channel", "web", "code", "bad_frame"}, 1},
		{"frontdesk_errors_total", []string{"channel", "console", "code", "not_found"}, 1},
		{"frontdesk_telegram_send_failures_total", []string{"reason", "refused"}, 0},
		{"frontdesk_telegram_request_errors_total", []string{"method", "getMe"}, 1},
	}
	for _, e := range exact {
		if got := sample(fams, e.name, e.labels...); got != e.want {
			t.Errorf("%s%v = %v, want %v", e.name, e.labels, got, e.want)
		}
	}
	atLeast := []struct {
		name   string
		labels []string
		min    float64
	}{
		{"frontdesk_messages_total", []string{"channel", "web", "from", "system"}, 2}, // joined, back with the bot
		{"frontdesk_messages_total", []string{"channel", "telegram", "from", "bot"}, 1},
		{"frontdesk_decisions_total", []string{"kind", "smalltalk"}, 2}, // greetings on both channels
		{"frontdesk_search_duration_seconds", nil, 2},
		{"frontdesk_websocket_send_queue_depth", nil, 10},
		{"frontdesk_state_changes_total", []string{"state", "agent"}, 1},
		{"frontdesk_conversations", []string{"state", "bot"}, 1},
		{"frontdesk_refusals_total", []string{"channel", "web", "reason", "rate_limited"}, 1},
		{"frontdesk_errors_total", []string{"channel", "web", "code", "rate_limited"}, 1},
		{"frontdesk_telegram_request_duration_seconds", []string{"method", "getMe"}, 1},
		{"frontdesk_telegram_request_duration_seconds", []string{"method", "getUpdates"}, 1},
		{"frontdesk_telegram_request_duration_seconds", []string{"method", "sendMessage"}, 1},
		{"frontdesk_kb_articles", nil, 10},
		{"frontdesk_store_commit_duration_seconds", nil, 10},
		{"frontdesk_store_commit_acts", nil, 10},
		{"go_goroutines", nil, 10},
		{"process_resident_memory_bytes", nil, 1 << 20},
	}
	for _, e := range atLeast {
		if got := sample(fams, e.name, e.labels...); !(got >= e.min) {
			t.Errorf("%s%v = %v, want at least %v", e.name, e.labels, got, e.min)
		}
	}
	for _, h := range []string{"frontdesk_turn_duration_seconds", "frontdesk_search_duration_seconds", "frontdesk_store_commit_duration_seconds", "frontdesk_store_commit_acts"} {
		if m := fams[h].GetMetric(); len(m) != 1 || !(m[0].GetHistogram().GetSampleSum() > 0) {
			t.Errorf("%s has no latency recorded: %v", h, m)
		}
	}
	// No id ever becomes a label.
	for name, f := range fams {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if v := l.GetValue(); strings.HasPrefix(v, "con_") || strings.HasPrefix(v, "cus_") || strings.HasPrefix(v, "agt_") {
					t.Errorf("%s has an id as a label: %s=%q", name, l.GetName(), v)
				}
			}
		}
	}

	t.Run("the profiler answers only on the metrics listener", func(t *testing.T) {
		for _, c := range []struct {
			url  string
			want int
		}{
			{"http://" + private + "/debug/pprof/", http.StatusOK},
			{"http://" + private + "/debug/pprof/goroutine?debug=1", http.StatusOK},
			{base + "/debug/pprof/", http.StatusNotFound},
			{base + "/debug/pprof/goroutine?debug=1", http.StatusNotFound},
			{base + "/metrics", http.StatusNotFound},
		} {
			resp, err := http.Get(c.url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("GET %s: %d, want %d", c.url, resp.StatusCode, c.want)
			}
		}
	})
	t.Run("the dashboard queries only scraped metrics", func(t *testing.T) {
		data, err := os.ReadFile("../../docs/grafana-dashboard.json")
		if err != nil {
			t.Fatal(err)
		}
		var dash struct {
			Title  string `json:"title"`
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(data, &dash); err != nil {
			t.Fatalf("docs/grafana-dashboard.json: %v", err)
		}
		if dash.Title == "" || len(dash.Panels) < 6 {
			t.Fatalf("dashboard %q has %d panels, want a title and at least 6", dash.Title, len(dash.Panels))
		}
		var titles []string
		for _, p := range dash.Panels {
			titles = append(titles, p.Title)
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, q := range p.Targets {
				checkQuery(t, "panel "+p.Title, q.Expr, fams)
			}
		}
		all := strings.ToLower(strings.Join(titles, " | "))
		for _, want := range []string{"turns", "turn latency", "deflection", "hand-offs", "queue wait", "commit batch"} {
			if !strings.Contains(all, want) {
				t.Errorf("no panel about %q among %s", want, all)
			}
		}
	})
	t.Run("the alert rules parse and query only scraped metrics", func(t *testing.T) {
		data, err := os.ReadFile("../../docs/alerts.yml")
		if err != nil {
			t.Fatal(err)
		}
		var rules struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []struct {
					Alert       string            `yaml:"alert"`
					Expr        string            `yaml:"expr"`
					For         string            `yaml:"for"`
					Labels      map[string]string `yaml:"labels"`
					Annotations map[string]string `yaml:"annotations"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(data, &rules); err != nil {
			t.Fatalf("docs/alerts.yml: %v", err)
		}
		var names []string
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				names = append(names, r.Alert)
				if r.Alert == "" || r.Annotations["summary"] == "" {
					t.Errorf("rule %+v needs a name and a summary", r)
				}
				if _, err := model.ParseDuration(r.For); r.For != "" && err != nil {
					t.Errorf("rule %s: for %q: %v", r.Alert, r.For, err)
				}
				checkQuery(t, "alert "+r.Alert, r.Expr, fams)
			}
		}
		all := strings.ToLower(strings.Join(names, " "))
		for _, want := range []string{"queue", "error", "telegram"} {
			if !strings.Contains(all, want) {
				t.Errorf("no alert about %s among %v", want, names)
			}
		}
	})
}

// metricName finds the metric names in a PromQL expression: ours, Go's
// and the process's all start with these prefixes.
var metricName = regexp.MustCompile(`\b(?:frontdesk|go|process)_[a-zA-Z0-9_:]+`)

// checkQuery fails unless expr names at least one metric and every
// metric it names was scraped (a histogram's _bucket, _sum and _count
// count as the family).
func checkQuery(t *testing.T, where, expr string, fams map[string]*dto.MetricFamily) {
	t.Helper()
	names := metricName.FindAllString(expr, -1)
	if len(names) == 0 {
		t.Errorf("%s: query %q names no metric", where, expr)
	}
	for _, n := range names {
		if fams[n] != nil {
			continue
		}
		base := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if f := fams[base]; f == nil || f.GetType() != dto.MetricType_HISTOGRAM {
			t.Errorf("%s: %s was not in the scrape", where, n)
		}
	}
}

// TestMetricsStayOnTheMainListenerByDefault: without --metrics-addr,
// /metrics is where it always was and the profiler is served nowhere.
func TestMetricsStayOnTheMainListenerByDefault(t *testing.T) {
	base := startServe(t)
	fams := families(t, base+"/metrics")
	if fams["go_goroutines"] == nil || fams["frontdesk_kb_articles"] == nil {
		t.Errorf("/metrics lacks go_goroutines or frontdesk_kb_articles")
	}
	resp, err := http.Get(base + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ on the main listener: %d, want 404", resp.StatusCode)
	}
}

// TestServeFailsWhenTheMetricsAddressIsTaken: a private port that cannot
// be had is an error at start, not a silently missing endpoint.
func TestServeFailsWhenTheMetricsAddressIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	err = run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "data"), "--metrics-addr", ln.Addr().String()}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "metrics") {
		t.Errorf("serve with a taken --metrics-addr: %v, want an error about the metrics listener", err)
	}
}
