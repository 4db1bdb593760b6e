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

// load reads the counts from the store the first time it is called.
// It runs outside any transaction.
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

// topics returns up to n articles the bot can answer, most asked first,
// then in the knowledge base's order; none that always hand off, and no
// segment variants.
func (e *Engine) topics(n int) []kb.Article {
	l, ok := e.kb.(articleLister)
	if !ok {
		return nil
	}
	var arts []kb.Article
	for _, a := range l.Articles() {
		if !a.Handoff && a.VariantOf == "" {
			arts = append(arts, a)
		}
	}
	e.asked.mu.Lock()
	counts := make(map[string]int, len(arts))
	for _, a := range arts {
		counts[a.ID] = e.asked.n[a.ID]
	}
	e.asked.mu.Unlock()
	sort.SliceStable(arts, func(i, j int) bool { return counts[arts[i].ID] > counts[arts[j].ID] })
	return arts[:min(n, len(arts))]
}
