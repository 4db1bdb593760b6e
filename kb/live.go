package kb

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Live is a knowledge base whose content can change while it serves: a
// reload builds a whole new KB beside the current one and swaps the
// pointer, so a question is always answered by one complete index, old
// or new, never a half-built one. A file that no longer parses does not
// take its article away: the article's previous version keeps serving,
// and the file is reported in Status until it is fixed. Live is safe for
// concurrent use; reloads run one at a time.
type Live struct {
	cur  atomic.Pointer[liveKB]
	opts Options

	mu      sync.Mutex // serialises Reload; guards content and status
	content *Content
	status  LiveStatus
}

// liveKB is one generation of the knowledge base with a count of its
// users: the generation's index closes once it is replaced and the last
// search on it has finished.
type liveKB struct {
	k *KB
	// refs counts Live's own reference (while current) and the searches
	// running on it; at zero the index is closed.
	refs atomic.Int64
}

func (g *liveKB) release() {
	if g.refs.Add(-1) == 0 {
		g.k.Close()
	}
}

// LiveStatus is what the last reload found.
type LiveStatus struct {
	// Loaded is when the serving knowledge base was built (or given).
	Loaded time.Time `json:"loaded"`
	// Articles is how many articles serve.
	Articles int `json:"articles"`
	// Problems are the content's problems at the last reload.
	Problems []Problem `json:"problems"`
	// Kept are the ids of articles whose file is broken and whose previous
	// version still serves.
	Kept []string `json:"kept,omitempty"`
	// Err is why the last reload failed, if it did (the previous knowledge
	// base still serves).
	Err string `json:"error,omitempty"`
}

// NewLive serves k, built from c, and reloads with opts.
func NewLive(k *KB, c *Content, opts Options) *Live {
	l := &Live{opts: opts, content: c}
	if opts.Thresholds == (Thresholds{}) {
		l.opts.Thresholds = k.Thresholds()
	}
	g := &liveKB{k: k}
	g.refs.Store(1)
	l.cur.Store(g)
	l.status = LiveStatus{Loaded: time.Now(), Articles: len(k.Articles()), Problems: c.Problems}
	return l
}

// acquire returns the current generation with a reference held; the
// caller releases it.
func (l *Live) acquire() *liveKB {
	for {
		g := l.cur.Load()
		n := g.refs.Load()
		if n > 0 && g.refs.CompareAndSwap(n, n+1) {
			return g
		}
		// Retired and closed between Load and CompareAndSwap: the new
		// generation is in place; take that one.
	}
}

// Current returns the serving knowledge base. It stays usable for
// article lookups; for searches use Live's methods, which keep it open.
func (l *Live) Current() *KB { return l.cur.Load().k }

// Decide is KB.Decide on the current generation.
func (l *Live) Decide(ctx context.Context, q string) (Decision, error) {
	g := l.acquire()
	defer g.release()
	return g.k.Decide(ctx, q)
}

// Search is KB.Search on the current generation.
func (l *Live) Search(ctx context.Context, q string) ([]Hit, error) {
	g := l.acquire()
	defer g.release()
	return g.k.Search(ctx, q)
}

// Fingerprint is KB.Fingerprint on the current generation.
func (l *Live) Fingerprint(q string) Fingerprint { return l.cur.Load().k.Fingerprint(q) }

// Article is KB.Article on the current generation.
func (l *Live) Article(id string) (*Article, bool) { return l.cur.Load().k.Article(id) }

// Articles is KB.Articles on the current generation.
func (l *Live) Articles() []Article { return l.cur.Load().k.Articles() }

// Status returns what the last reload found.
func (l *Live) Status() LiveStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.status
	s.Problems = append([]Problem(nil), s.Problems...)
	s.Kept = append([]string(nil), s.Kept...)
	return s
}

// Close closes the serving generation once its searches end.
func (l *Live) Close() error {
	l.cur.Load().release()
	return nil
}

// Reload loads the content from fsys and, if it changed, builds a new
// knowledge base and swaps it in. An article whose file is still there
// but no longer parses keeps its previous version. When Reload returns
// nil, new questions are answered from the new content; a failed build
// leaves the previous knowledge base serving and is reported in Status.
func (l *Live) Reload(ctx context.Context, fsys fs.FS) (LiveStatus, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, err := Load(fsys)
	if err == nil {
		var kept []string
		c, kept = keepBroken(l.content, c)
		if c.Hash == l.content.Hash && len(kept) == len(l.status.Kept) {
			l.status.Problems, l.status.Err = c.Problems, ""
			return l.status, nil
		}
		var k *KB
		if k, err = Build(ctx, c, l.opts); err == nil {
			g := &liveKB{k: k}
			g.refs.Store(1)
			old := l.cur.Swap(g)
			old.release()
			l.content = c
			l.status = LiveStatus{Loaded: time.Now(), Articles: len(k.Articles()), Problems: c.Problems, Kept: kept}
			return l.status, nil
		}
	}
	l.status.Err = err.Error()
	return l.status, fmt.Errorf("reload content: %w", err)
}

// keepBroken adds to next the articles of prev whose file is still in
// next but broken (it yielded no article), unless their id is taken: a
// typo while editing never takes an answer away. It returns the ids kept.
func keepBroken(prev, next *Content) (*Content, []string) {
	if prev == nil {
		return next, nil
	}
	loaded := map[string]bool{}
	ids := map[string]bool{}
	for _, a := range next.Articles {
		loaded[a.File] = true
		ids[a.ID] = true
	}
	broken := map[string]bool{}
	for _, p := range next.Problems {
		if !loaded[p.File] && strings.HasSuffix(p.File, ".md") {
			broken[p.File] = true
		}
	}
	var kept []string
	for _, a := range prev.Articles {
		if broken[a.File] && !ids[a.ID] {
			next.Articles = append(next.Articles, a)
			ids[a.ID] = true
			kept = append(kept, a.ID)
		}
	}
	if len(kept) > 0 {
		// The served content differs from the files: say so in the hash,
		// so that fixing the file rebuilds.
		next.Hash += "+kept:" + strings.Join(kept, ",")
	}
	return next, kept
}
