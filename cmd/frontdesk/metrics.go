package main

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// metrics counts conversation events for Prometheus (/metrics, text
// exposition format). It follows the bus with its own goroutine.
type metrics struct {
	mu       sync.Mutex
	messages map[bot.Sender]int64
	states   map[bot.State]int64
	articles int
	handoffs map[string]int64 // by reason
	queue    *handoff.Queue
	started  time.Time
	stop     chan struct{}
	done     chan struct{}
}

func newMetrics(bus bot.Bus, q *handoff.Queue, articles int) *metrics {
	m := &metrics{messages: map[bot.Sender]int64{}, states: map[bot.State]int64{}, handoffs: map[string]int64{}, articles: articles,
		queue: q, started: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go m.follow(bus)
	return m
}

func (m *metrics) follow(bus bot.Bus) {
	defer close(m.done)
	for {
		sub := bus.Subscribe("", 1024)
	events:
		for {
			select {
			case e, ok := <-sub.C():
				if !ok {
					break events // lagged: subscribe again
				}
				m.mu.Lock()
				switch e.Kind {
				case bot.EventMessage:
					m.messages[e.Message.From]++
					if d := e.Message.Decision; d != nil && d.Kind == "handoff" {
						m.handoffs[d.Reason]++
					}
				case bot.EventState:
					m.states[e.State]++
				}
				m.mu.Unlock()
			case <-m.stop:
				sub.Close()
				return
			}
		}
	}
}

func (m *metrics) close() {
	close(m.stop)
	<-m.done
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# HELP frontdesk_messages_total Messages stored, by sender.\n# TYPE frontdesk_messages_total counter\n")
	for _, s := range sortedKeys(m.messages) {
		fmt.Fprintf(w, "frontdesk_messages_total{from=%q} %d\n", s, m.messages[bot.Sender(s)])
	}
	fmt.Fprintf(w, "# HELP frontdesk_state_changes_total Conversation state changes, by new state.\n# TYPE frontdesk_state_changes_total counter\n")
	for _, s := range sortedKeys(m.states) {
		fmt.Fprintf(w, "frontdesk_state_changes_total{state=%q} %d\n", s, m.states[bot.State(s)])
	}
	fmt.Fprintf(w, "# HELP frontdesk_handoffs_total Conversations handed to people, by reason.\n# TYPE frontdesk_handoffs_total counter\n")
	for _, reason := range sortedKeys(m.handoffs) {
		fmt.Fprintf(w, "frontdesk_handoffs_total{reason=%q} %d\n", reason, m.handoffs[reason])
	}
	if m.queue != nil {
		waiting, err := m.queue.Tickets(r.Context(), handoff.Filter{Status: handoff.StatusQueued})
		if err == nil {
			fmt.Fprintf(w, "# HELP frontdesk_queue_waiting Conversations waiting for a person.\n# TYPE frontdesk_queue_waiting gauge\nfrontdesk_queue_waiting %d\n", len(waiting))
		}
		online := 0
		for _, p := range m.queue.Presences() {
			if p == handoff.PresenceOnline {
				online++
			}
		}
		fmt.Fprintf(w, "# HELP frontdesk_agents_online Agents online in the console.\n# TYPE frontdesk_agents_online gauge\nfrontdesk_agents_online %d\n", online)
	}
	fmt.Fprintf(w, "# HELP frontdesk_kb_articles Articles in the knowledge base.\n# TYPE frontdesk_kb_articles gauge\nfrontdesk_kb_articles %d\n", m.articles)
	fmt.Fprintf(w, "# HELP frontdesk_uptime_seconds Seconds since start.\n# TYPE frontdesk_uptime_seconds gauge\nfrontdesk_uptime_seconds %.0f\n", time.Since(m.started).Seconds())
}

func sortedKeys[K ~string, V any](m map[K]V) []string {
	var out []string
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}
