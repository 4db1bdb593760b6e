package metrics

import (
	"context"
	"time"

	"github.com/frontdesk/frontdesk/kb"
)

// Decider is what the bot engine asks of the knowledge base (the methods
// of bot.Answerer).
type Decider interface {
	Decide(ctx context.Context, q string) (kb.Decision, error)
	Article(id string) (*kb.Article, bool)
}

// Answerer is a Decider whose decisions are timed: each Decide (search
// plus decision) is observed in frontdesk_search_duration_seconds, and a
// failed one counted as an "internal" error of the "bot" channel. It
// satisfies bot.Answerer, so the engine is timed without knowing it.
type Answerer struct {
	Decider
	m *Metrics
}

// Answerer returns d with its decisions timed.
func (m *Metrics) Answerer(d Decider) Answerer { return Answerer{Decider: d, m: m} }

// Decide calls the wrapped Decider's Decide and times it.
func (a Answerer) Decide(ctx context.Context, q string) (kb.Decision, error) {
	start := time.Now()
	d, err := a.Decider.Decide(ctx, q)
	a.m.ObserveSearch(time.Since(start))
	if err != nil && ctx.Err() == nil {
		a.m.Error("bot", "internal")
	}
	return d, err
}

// Variant returns the wrapped Decider's segment variant of an article,
// if it keeps variants (as *kb.KB does).
func (a Answerer) Variant(id, segment string) (*kb.Article, bool) {
	if v, ok := a.Decider.(interface {
		Variant(id, segment string) (*kb.Article, bool)
	}); ok {
		return v.Variant(id, segment)
	}
	return nil, false
}

// Articles returns the wrapped Decider's articles, if it lists them (as
// *kb.KB and *kb.Live do), so that the bot can name what it helps with.
func (a Answerer) Articles() []kb.Article {
	if l, ok := a.Decider.(interface{ Articles() []kb.Article }); ok {
		return l.Articles()
	}
	return nil
}
