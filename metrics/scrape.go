package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// scrapeTimeout bounds the queue's store reads during one scrape.
const scrapeTimeout = 5 * time.Second

var (
	queueLengthDesc = prometheus.NewDesc("frontdesk_queue_length",
		"Tickets waiting in the queue for an agent.", nil, nil)
	oldestWaitDesc = prometheus.NewDesc("frontdesk_queue_oldest_wait_seconds",
		"How long the longest-waiting ticket has waited (0 when none waits).", nil, nil)
	conversationsDesc = prometheus.NewDesc("frontdesk_conversations",
		"Conversations by owner: queued and agent count every open hand-off; bot counts the conversations with the bot that had a message in the last 30 minutes.", []string{"state"}, nil)
	agentsDesc = prometheus.NewDesc("frontdesk_agents",
		"Agents signed in to the console, by presence.", []string{"presence"}, nil)
	articlesDesc = prometheus.NewDesc("frontdesk_kb_articles",
		"Articles in the knowledge base.", nil, nil)
)

// scraper computes the gauges that are facts about now (the queue, the
// agents, the active conversations) at scrape time, from their sources,
// rather than keeping copies that could drift.
type scraper struct{ m *Metrics }

func (s scraper) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueLengthDesc, oldestWaitDesc, conversationsDesc, agentsDesc, articlesDesc} {
		ch <- d
	}
}

func (s scraper) Collect(ch chan<- prometheus.Metric) {
	m := s.m
	now := m.opts.Now()
	articles := m.opts.Articles
	if m.opts.ArticleCount != nil {
		articles = m.opts.ArticleCount()
	}
	ch <- prometheus.MustNewConstMetric(articlesDesc, prometheus.GaugeValue, float64(articles))
	m.mu.Lock()
	q := m.queue
	withBot := m.activeWithBot(now)
	m.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(conversationsDesc, prometheus.GaugeValue, float64(withBot), string(bot.StateBot))
	if q == nil {
		return
	}

	online, away := 0, 0
	for _, p := range q.Presences() {
		switch p {
		case handoff.PresenceOnline:
			online++
		case handoff.PresenceAway:
			away++
		}
	}
	ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(online), string(handoff.PresenceOnline))
	ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(away), string(handoff.PresenceAway))

	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	open, err := q.Tickets(ctx, handoff.Filter{})
	if err != nil {
		// Leaving the queue gauges out beats reporting an empty queue.
		m.opts.Log.Warn("metrics: read the queue", "err", err)
		return
	}
	waiting, assigned := 0, 0
	var oldest time.Duration
	for _, t := range open {
		switch {
		case t.Waiting():
			waiting++
			oldest = max(oldest, now.Sub(t.QueuedAt))
		case t.Status == handoff.StatusAssigned:
			assigned++
		}
	}
	ch <- prometheus.MustNewConstMetric(queueLengthDesc, prometheus.GaugeValue, float64(waiting))
	ch <- prometheus.MustNewConstMetric(oldestWaitDesc, prometheus.GaugeValue, oldest.Seconds())
	ch <- prometheus.MustNewConstMetric(conversationsDesc, prometheus.GaugeValue, float64(waiting), string(bot.StateQueued))
	ch <- prometheus.MustNewConstMetric(conversationsDesc, prometheus.GaugeValue, float64(assigned), string(bot.StateAgent))
}
