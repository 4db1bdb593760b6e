package bot

import (
	"context"
	"sort"
	"sync"

	"github.com/frontdesk/frontdesk/kb"
)

// fallbackTopics is how many topics the bot offers when it did not
// understand a question.
const fallbackTopics = 3

// articleLister is a knowledge base that can list its articles (kb.KB
// and kb.Live can; metrics.Answerer passes it on). With one, the bot's
// "not understood" reply names topics it can help with.
type articleLister interface {
	Articles() []kb.Article
}

// topicCounter is a store that counts, for each article, the customers
// who asked about it (store/bolt's DB can).
type topicCounter interface {
	TopicCounts(ctx context.Context) (map[string]int, error)
}

// asked counts how often each article answered a customer: what
// customers ask about most, offered when the bot did not understand. It
// is read from the store once (if the store counts topics), then kept up
// to date as answers commit. It holds one number an article.
type asked struct {
	once sync.Once
	mu   sync.Mutex
	n    map[string]int
}

// loadAsked reads the counts from the store the first time it is called
// (the first customer message after start: one read of every customer,
// as the widget's first screen does once a minute), outside any
// transaction. A failure is logged: the counts then start from zero.
func (e *Engine) loadAsked(ctx context.Context) {
	e.asked.once.Do(func() {
		tc, ok := e.store.(topicCounter)
		if !ok {
			return
		}
		counts, err := tc.TopicCounts(ctx)
		if err != nil {
			e.opts.Log.Warn("count topics for the fallback reply", "err", err)
			return
		}
		e.asked.mu.Lock()
		defer e.asked.mu.Unlock()
		for id, n := range counts {
			e.asked.add(id, n)
		}
	})
}

// add counts n more questions about the article; the caller holds mu.
func (a *asked) add(id string, n int) {
	if a.n == nil {
		a.n = map[string]int{}
	}
	a.n[id] += n
}

// answered counts one more answer with the article.
func (a *asked) answered(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.add(id, 1)
}

// topics returns up to n articles the bot can answer, most asked first
// (see Popular).
func (e *Engine) topics(n int) []kb.Article {
	l, ok := e.kb.(articleLister)
	if !ok {
		return nil
	}
	e.asked.mu.Lock()
	defer e.asked.mu.Unlock()
	return Popular(l.Articles(), e.asked.n, n)
}

// Popular returns up to n of the articles customers asked about most
// (counts: customers or answers per article id), for the widget's first
// screen and the bot's "not understood" reply. Before anything is counted,
// and among articles counted alike, the articles that others name as
// related most come first (the knowledge base's central topics), then
// the knowledge base's order. Articles that always hand off and segment
// variants are left out.
func Popular(articles []kb.Article, counts map[string]int, n int) []kb.Article {
	linked := map[string]int{}
	var out []kb.Article
	for _, a := range articles {
		for _, id := range a.Related {
			linked[id]++
		}
		if !a.Handoff && a.VariantOf == "" {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].ID, out[j].ID
		if counts[a] != counts[b] {
			return counts[a] > counts[b]
		}
		return linked[a] > linked[b]
	})
	return out[:min(n, len(out))]
}
