package main

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// metrics counts conversation events for Prometheus (/metrics, text
// exposition format). It follows the bus with its own goroutine.
type metrics struct {
	mu       sync.Mutex
	messages map[bot.Sender]int64
	states   map[bot.State]int64
	articles int
	started  time.Time
	stop     chan struct{}
	done     chan struct{}
}

func newMetrics(bus *bot.Bus, articles int) *metrics {
	m := &metrics{messages: map[bot.Sender]int64{}, states: map[bot.State]int64{}, articles: articles,
		started: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go m.follow(bus)
	return m
}

func (m *metrics) follow(bus *bot.Bus) {
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
