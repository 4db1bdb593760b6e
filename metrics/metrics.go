// Package metrics measures Frontdesk for Prometheus: the Go runtime and
// the process; conversations, decisions, hand-offs, feedback and turn
// latency from the conversation events; the agent queue, from its events
// and, at each scrape, from its open tickets; and the figures that only the
// part doing the work can time (knowledge-base search, store commits, the
// Telegram API, websocket send queues, refusals), which those parts report
// through small observer interfaces they declare themselves and Metrics
// implements. It is the only importer of the Prometheus client.
//
// Labels are low-cardinality by construction: channel, sender, decision
// kind, reason, code, state, presence, Telegram method, score. A
// conversation, customer or agent id never becomes a label; the few
// conversation ids Metrics holds (to time turns) live in a bounded map
// that is pruned.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure Metrics. The zero value is usable.
type Options struct {
	// Articles is the number of articles in the knowledge base, exported
	// as frontdesk_kb_articles.
	Articles int
	// ArticleCount, when set, is asked at each scrape instead: the
	// number of articles after the content was last reloaded.
	ArticleCount func() int
	Log          *slog.Logger
	// Now is the clock turn latency is measured with (default time.Now).
	Now func() time.Time
}

// Metrics holds Frontdesk's metrics in its own registry (no global
// state). Its observer methods are safe for concurrent use. Follow starts
// the one goroutine it owns; Close stops it and waits for it.
type Metrics struct {
	reg  *prometheus.Registry
	opts Options

	turn       prometheus.Histogram
	search     prometheus.Histogram
	commit     prometheus.Histogram
	commitActs prometheus.Histogram
	sendQueue  prometheus.Histogram
	queueWait  prometheus.Histogram
	telegram   *prometheus.HistogramVec

	messages         *prometheus.CounterVec
	states           *prometheus.CounterVec
	decisions        *prometheus.CounterVec
	handoffs         *prometheus.CounterVec
	feedback         *prometheus.CounterVec
	survey           *prometheus.CounterVec
	errors           *prometheus.CounterVec
	refusals         *prometheus.CounterVec
	queueEvents      *prometheus.CounterVec
	telegramErrors   *prometheus.CounterVec
	telegramRetries  *prometheus.CounterVec
	telegramFailures *prometheus.CounterVec

	connections *prometheus.GaugeVec
	llm         llmMetrics

	// mu guards convs, lastPrune and queue. Only the follow goroutine
	// changes convs; scrapes read it.
	mu        sync.Mutex
	convs     map[string]*conversation
	lastPrune time.Time
	queue     Queue

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Buckets, in the metric's base unit.
var (
	// A turn is a store append, a search and one or two more appends:
	// about a millisecond with a fast disk, tens with a slow one.
	turnBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	// Search plus decision: 0.2 ms typical, 1 ms p99 on CLINC150.
	searchBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25}
	// A commit is one fsync, shared by the acts of a group commit.
	commitBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}
	actsBuckets   = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}
	// The web channel's send queue holds 256 frames by default.
	depthBuckets = []float64{0, 1, 2, 4, 8, 16, 32, 64, 128, 256}
	// Bot API calls; getUpdates long-polls for up to 50 s by design.
	telegramBuckets = []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	// From entering the waiting queue to an agent taking the ticket.
	waitBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600}
)

// New returns Metrics with the Go and process collectors and every
// Frontdesk family registered. The label values that dashboards and
// alerts rely on (feedback, survey scores, Telegram retries and failures,
// connections by channel) start at zero, so that their series exist
// before the first event.
func New(opts Options) *Metrics {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Metrics{reg: prometheus.NewRegistry(), opts: opts, convs: map[string]*conversation{}}
	histogram := func(name, help string, buckets []float64) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
		m.reg.MustRegister(h)
		return h
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	m.turn = histogram("frontdesk_turn_duration_seconds",
		"Time from a customer message being stored to the bot's reply being stored.", turnBuckets)
	m.search = histogram("frontdesk_search_duration_seconds",
		"Knowledge-base search plus decision, per question.", searchBuckets)
	m.commit = histogram("frontdesk_store_commit_duration_seconds",
		"Store commits (one fsync each), from the start of the transaction to durable.", commitBuckets)
	m.commitActs = histogram("frontdesk_store_commit_acts",
		"Acts per store commit: the group-commit batch size.", actsBuckets)
	m.sendQueue = histogram("frontdesk_websocket_send_queue_depth",
		"Frames already waiting in a customer websocket's send queue when another is queued.", depthBuckets)
	m.queueWait = histogram("frontdesk_queue_wait_seconds",
		"Time tickets waited in the queue before an agent took them.", waitBuckets)
	m.telegram = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "frontdesk_telegram_request_duration_seconds",
		Help: "Telegram Bot API requests, to the response headers, by method.", Buckets: telegramBuckets}, []string{"method"})
	m.reg.MustRegister(m.telegram)

	m.messages = counter("frontdesk_messages_total", "Messages stored, by channel and sender.", "channel", "from")
	m.states = counter("frontdesk_state_changes_total", "Conversation owner changes, by new state.", "state")
	m.decisions = counter("frontdesk_decisions_total", "Bot messages by decision kind.", "kind")
	m.handoffs = counter("frontdesk_handoffs_total", "Conversations handed to people, by reason.", "reason")
	m.feedback = counter("frontdesk_answer_feedback_total", `Answers to "Was this helpful?", by answer.`, "helpful")
	m.survey = counter("frontdesk_survey_ratings_total", "Satisfaction survey ratings, by score (1-5).", "score")
	m.errors = counter("frontdesk_errors_total", "Errors reported to clients (websocket error frames, agent API error responses) and failed searches, by channel and code.", "channel", "code")
	m.refusals = counter("frontdesk_refusals_total", "Input refused at the edge, by channel and reason (rate_limited, too_large, origin).", "channel", "reason")
	m.queueEvents = counter("frontdesk_queue_events_total", "Agent queue events, by kind (queued, assigned, transferred, escalated, resolved, returned, sla_breach, presence).", "kind")
	m.telegramErrors = counter("frontdesk_telegram_request_errors_total", "Telegram Bot API requests that failed (network error or error status), by method.", "method")
	m.telegramRetries = counter("frontdesk_telegram_send_retries_total", "Telegram sends tried again, by reason (rate_limited, unavailable).", "reason")
	m.telegramFailures = counter("frontdesk_telegram_send_failures_total", "Telegram sends given up, by reason (refused, blocked).", "reason")

	m.connections = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "frontdesk_connections",
		Help: "Open websocket connections, by channel (web: customers, console: agents)."}, []string{"channel"})
	m.reg.MustRegister(m.connections)
	m.registerLLM()

	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), scraper{m})

	for _, v := range []string{"yes", "no"} {
		m.feedback.WithLabelValues(v)
	}
	for _, v := range []string{"1", "2", "3", "4", "5"} {
		m.survey.WithLabelValues(v)
	}
	for _, v := range []string{"rate_limited", "unavailable"} {
		m.telegramRetries.WithLabelValues(v)
	}
	for _, v := range []string{"refused", "blocked"} {
		m.telegramFailures.WithLabelValues(v)
	}
	for _, v := range []string{"web", "console"} {
		m.connections.WithLabelValues(v)
	}
	return m
}

// Routes registers the Prometheus endpoint on mux:
//
//	GET /metrics   the text exposition format (or OpenMetrics, on request)
func (m *Metrics) Routes(mux *http.ServeMux) {
	mux.Handle("GET /metrics", m.Handler())
}

// Handler serves the metrics. A source that fails during a scrape (the
// queue's store) is logged and left out; the rest is still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.opts.Log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Close stops following events and waits for the goroutine Follow
// started. It is safe to call more than once, and without Follow.
func (m *Metrics) Close() {
	m.mu.Lock()
	cancel := m.cancel
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.wg.Wait()
}
