package kb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/internal/tick"
)

// Embedder computes embeddings: one vector per text, in order, all of
// the same length. The llm package implements it over an
// OpenAI-compatible /embeddings endpoint.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// RerankOptions configure a Reranker.
type RerankOptions struct {
	// Model names the embedding model: vectors a cache file holds for
	// another model are not reused.
	Model string
	// CacheFile keeps the articles' vectors between runs, by content
	// hash ("": in memory only). See embedCache.
	CacheFile string
	// Weight is how much a candidate's cosine similarity to the question
	// adds to the log of its confidence (default, and in place of 0 or
	// less, DefaultRerankWeight).
	Weight float64
	// Batch is how many texts one request embeds (default 64).
	Batch int
	// QuestionTimeout bounds the embedding of a question (default 2 s):
	// past it the question is ranked without embeddings.
	QuestionTimeout time.Duration
	// Pause is how long questions are ranked without embeddings after a
	// question's embedding failed (default 30 s): a server that is down
	// does not slow every turn.
	Pause time.Duration
	// Observe, if set, is told each question's outcome: "reranked", or
	// "fallback" (ranked without embeddings: the endpoint failed or is
	// paused, or the articles are not embedded yet).
	Observe func(outcome string)
	Log     *slog.Logger
}

// DefaultRerankWeight is the Weight when none is given. It is a middle
// value, not a measured one: `frontdesk eval --llm --val` learns the
// weight for a given embedding model and labelled set.
const DefaultRerankWeight = 5

// Reranker re-ranks a knowledge base's candidates with embeddings: the
// question's cosine similarity to each candidate article (the best over
// the article's title and body, its question phrasings and its segment
// variants) moves the candidates' confidences, their sum kept, so the
// share left for "none of them" and the decision thresholds keep their
// meaning. Articles are embedded when a KB is built or opened with the
// Reranker (Options.Reranker), each distinct text once: vectors are
// cached by content hash, in CacheFile across restarts. When the
// embeddings endpoint fails, questions are ranked as without a
// Reranker, with a warning in the log and Observe told "fallback".
// A Reranker is safe for concurrent use.
type Reranker struct {
	emb  Embedder
	opts RerankOptions

	// prep serialises Prepare (a reload and a retry of an earlier
	// failure); it orders work on the cache file and is held across
	// its requests and its fsync, never by a question.
	prep sync.Mutex

	mu          sync.Mutex // guards the fields below; never held across a request
	cache       *embedCache
	pausedUntil time.Time
	// latest is the KB Prepare was last called for; pending is it while
	// its articles failed to embed, for Run to retry.
	latest, pending *KB
	// err is why the last Prepare failed (nil after a success).
	err   error
	stats EmbedStats
}

// EmbedStats count the Reranker's work on articles since it was made.
type EmbedStats struct {
	// Texts is how many distinct article texts the last Prepare needed,
	// Cached how many of them the cache held.
	Texts  int `json:"texts"`
	Cached int `json:"cached"`
	// Embedded is how many texts were sent, in Requests requests.
	Embedded int `json:"embedded"`
	Requests int `json:"requests"`
}

// NewReranker returns a Reranker embedding through emb, with the cache
// file (if any) read. A cache file that cannot be read is reported and
// started afresh: it only saves requests.
func NewReranker(emb Embedder, opts RerankOptions) *Reranker {
	if opts.Weight <= 0 {
		opts.Weight = DefaultRerankWeight
	}
	if opts.Batch <= 0 {
		opts.Batch = 64
	}
	if opts.QuestionTimeout <= 0 {
		opts.QuestionTimeout = 2 * time.Second
	}
	if opts.Pause <= 0 {
		opts.Pause = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	r := &Reranker{emb: emb, opts: opts}
	c, err := readEmbedCache(opts.CacheFile, opts.Model)
	if err != nil {
		opts.Log.Warn("embeddings cache unreadable; articles will be embedded again", "file", opts.CacheFile, "err", err)
	}
	r.cache = c
	return r
}

// Weight returns the weight of the cosine similarity.
func (r *Reranker) Weight() float64 { return r.opts.Weight }

// Stats returns what Prepare has done.
func (r *Reranker) Stats() EmbedStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// articleTexts lists the texts embedded for each article of k: title and
// body, each question phrasing, and each segment variant's title and
// body.
func articleTexts(k *KB) [][]string {
	out := make([][]string, len(k.articles))
	for i, a := range k.articles {
		out[i] = append(out[i], titleBody(&a))
		out[i] = append(out[i], a.Questions...)
	}
	seen := map[*Article]bool{}
	for _, v := range k.variants {
		if seen[v] {
			continue
		}
		seen[v] = true
		if i, ok := k.byID[v.VariantOf]; ok {
			out[i] = append(out[i], titleBody(v))
		}
	}
	return out
}

// maxEmbedBody is how much of an article's body is embedded: the start
// says what it is about, and models cap their input.
const maxEmbedBody = 2000

func titleBody(a *Article) string {
	b := a.Body
	if len(b) > maxEmbedBody {
		b = b[:maxEmbedBody]
		for len(b) > 0 && b[len(b)-1]&0xC0 == 0x80 {
			b = b[:len(b)-1] // not inside a UTF-8 sequence
		}
		if len(b) > 0 && b[len(b)-1] >= 0xC0 {
			b = b[:len(b)-1]
		}
	}
	return a.Title + "\n\n" + b
}

func textKey(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Prepare embeds the articles of k that the cache does not hold yet and
// gives k their vectors; from then on k's searches are re-ranked. The
// cache keeps only k's texts afterwards (vectors of removed or changed
// articles are dropped) and is written to CacheFile. When Prepare
// returns nil the cache file is on disk (fsync'd). On error k keeps
// ranking without embeddings, and Run tries again.
func (r *Reranker) Prepare(ctx context.Context, k *KB) error {
	r.prep.Lock()
	defer r.prep.Unlock()
	r.mu.Lock()
	r.latest = k
	r.mu.Unlock()
	return r.prepare(ctx, k)
}

// prepare is Prepare; r.prep is held.
func (r *Reranker) prepare(ctx context.Context, k *KB) error {
	texts := articleTexts(k)
	keys := make([][]string, len(texts))
	var missing []string
	need := map[string]bool{}
	r.mu.Lock()
	cached := 0
	for i, ts := range texts {
		for _, t := range ts {
			key := textKey(t)
			keys[i] = append(keys[i], key)
			if need[key] {
				continue
			}
			need[key] = true
			if _, ok := r.cache.get(key); ok {
				cached++
			} else {
				missing = append(missing, t)
			}
		}
	}
	r.stats.Texts, r.stats.Cached = len(need), cached
	r.mu.Unlock()
	err := r.embedArticles(ctx, missing)
	if err == nil {
		err = r.attach(k, keys, need)
	}
	r.mu.Lock()
	if err != nil {
		r.pending = k
		err = fmt.Errorf("embed articles: %w", err)
	} else {
		r.pending = nil
	}
	r.err = err
	r.mu.Unlock()
	if err != nil {
		r.opts.Log.Warn("embedding the articles failed; questions are ranked without embeddings until it works", "err", err)
	}
	return err
}

// Err returns why the last Prepare failed, or nil if it succeeded.
func (r *Reranker) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// embedArticles embeds texts in batches into the cache.
func (r *Reranker) embedArticles(ctx context.Context, texts []string) error {
	for start := 0; start < len(texts); start += r.opts.Batch {
		batch := texts[start:min(start+r.opts.Batch, len(texts))]
		vecs, err := r.emb.Embed(ctx, batch)
		r.mu.Lock()
		r.stats.Requests++
		if err == nil && len(vecs) > 0 && r.cache.dims != 0 && len(vecs[0]) != r.cache.dims {
			// The model changed behind its name: the cached vectors no
			// longer compare. Start afresh; the texts this Prepare
			// thought cached are embedded on the retry.
			r.opts.Log.Warn("embedding size changed; the embeddings cache starts afresh", "was", r.cache.dims, "now", len(vecs[0]))
			r.cache = &embedCache{model: r.opts.Model, vecs: map[string][]float32{}}
		}
		if err == nil {
			if err = checkVectors(vecs, len(batch), r.cache.dims); err == nil {
				for i, t := range batch {
					r.cache.put(textKey(t), vecs[i])
				}
				r.stats.Embedded += len(batch)
			}
		}
		r.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// attach gives k its articles' vectors from the cache, keeps only keep
// in the cache, and saves it.
func (r *Reranker) attach(k *KB, keys [][]string, keep map[string]bool) error {
	r.mu.Lock()
	av := &articleVectors{byArticle: make([][][]float32, len(keys)), dims: r.cache.dims}
	for i, ks := range keys {
		for _, key := range ks {
			v, ok := r.cache.get(key)
			if !ok {
				r.mu.Unlock()
				return errors.New("a vector went missing from the cache")
			}
			av.byArticle[i] = append(av.byArticle[i], unit(v))
		}
	}
	changed := r.cache.keepOnly(keep)
	snapshot := r.cache.clone()
	r.mu.Unlock()
	k.vectors.Store(av)
	if changed {
		if err := snapshot.write(r.opts.CacheFile); err != nil {
			// The vectors serve; only the next start re-embeds.
			r.opts.Log.Warn("embeddings cache not saved", "file", r.opts.CacheFile, "err", err)
		}
	}
	return nil
}

// errDims is checkVectors' error for vectors of another size.
var errDims = errors.New("embeddings: vectors of different sizes")

// checkVectors reports vectors that do not fit n texts of dims
// dimensions (dims 0: any, all alike).
func checkVectors(vecs [][]float32, n, dims int) error {
	if len(vecs) != n {
		return fmt.Errorf("embeddings: %d vectors for %d texts", len(vecs), n)
	}
	for _, v := range vecs {
		if dims == 0 {
			dims = len(v)
		}
		if len(v) == 0 || len(v) != dims {
			return fmt.Errorf("%w: %d and %d", errDims, dims, len(v))
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return errors.New("embeddings: a value is not a number")
			}
		}
	}
	return nil
}

// Run retries, every interval, embedding the articles of a KB whose
// Prepare failed, until it succeeds for the newest such KB or ctx ends.
func (r *Reranker) Run(ctx context.Context, every time.Duration) {
	tick.Every(ctx, every, func() { r.retry(ctx) })
}

// retry prepares the latest KB again if its Prepare failed.
func (r *Reranker) retry(ctx context.Context) {
	r.prep.Lock()
	defer r.prep.Unlock()
	r.mu.Lock()
	k := r.pending
	stale := k == nil || k != r.latest
	r.mu.Unlock()
	if stale {
		return
	}
	if err := r.prepare(ctx, k); err == nil {
		r.opts.Log.Info("articles embedded; questions are re-ranked with embeddings again", "articles", len(k.articles))
	}
}

// articleVectors are the unit vectors of a KB's articles, by article
// index; fixed once stored.
type articleVectors struct {
	byArticle [][][]float32
	dims      int
}

// similarity is the best cosine similarity of unit vector q to article i.
func (av *articleVectors) similarity(q []float32, i int) float64 {
	best := -1.0
	for _, v := range av.byArticle[i] {
		var s float32
		for j := range v {
			s += v[j] * q[j]
		}
		best = math.Max(best, float64(s))
	}
	return best
}

func unit(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	inv := 1 / math.Sqrt(n)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

// rerank re-ranks hits (k's plain ranking of q) with q's embedding, or
// returns them as they are when that cannot be had.
func (r *Reranker) rerank(ctx context.Context, k *KB, q string, hits []Hit) []Hit {
	av := k.vectors.Load()
	if len(hits) < 2 || av == nil {
		if len(hits) >= 2 {
			r.observe("fallback")
		}
		return hits
	}
	r.mu.Lock()
	paused := time.Now().Before(r.pausedUntil)
	r.mu.Unlock()
	if paused {
		r.observe("fallback")
		return hits
	}
	qctx, cancel := context.WithTimeout(ctx, r.opts.QuestionTimeout)
	vecs, err := r.emb.Embed(qctx, []string{q})
	cancel()
	if err == nil {
		err = checkVectors(vecs, 1, av.dims)
	}
	if err != nil {
		if ctx.Err() != nil {
			return hits // the asker is gone: nothing to warn about
		}
		r.mu.Lock()
		r.pausedUntil = time.Now().Add(r.opts.Pause)
		if errors.Is(err, errDims) {
			// The model changed behind its name: embed the articles
			// afresh (Run retries the latest KB).
			r.cache = &embedCache{model: r.opts.Model, vecs: map[string][]float32{}}
			r.pending = r.latest
		}
		r.mu.Unlock()
		r.opts.Log.Warn("question embedding failed; ranking without embeddings", "pause", r.opts.Pause.String(), "err", err)
		r.observe("fallback")
		return hits
	}
	r.observe("reranked")
	return mix(hits, similarities(av, k, unit(vecs[0]), hits), r.opts.Weight)
}

func (r *Reranker) observe(outcome string) {
	if r.opts.Observe != nil {
		r.opts.Observe(outcome)
	}
}

// similarities are q's cosine similarities to the hits' articles.
func similarities(av *articleVectors, k *KB, q []float32, hits []Hit) []float64 {
	sims := make([]float64, len(hits))
	for i, h := range hits {
		sims[i] = av.similarity(q, k.byID[h.ID])
	}
	return sims
}

// mix moves the hits' confidences by their similarities: confidence c_i
// becomes m * softmax_i(log c_i + w*s_i), where m is the hits' total
// confidence, so the share of "none of them" is kept. Weight 0 leaves
// the hits as they were. It returns a new slice, best first.
func mix(hits []Hit, sims []float64, w float64) []Hit {
	out := append([]Hit(nil), hits...)
	var mass float64
	z := make([]float64, len(out))
	top := math.Inf(-1)
	for i, h := range out {
		mass += h.Confidence
		z[i] = math.Log(math.Max(h.Confidence, 1e-12)) + w*sims[i]
		top = math.Max(top, z[i])
	}
	var sum float64
	for i := range z {
		z[i] = math.Exp(z[i] - top)
		sum += z[i]
	}
	for i := range out {
		out[i].Confidence = mass * z[i] / sum
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Confidence > out[j].Confidence })
	return out
}
