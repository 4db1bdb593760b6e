package kb

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
)

// KB is a searchable knowledge base: the articles, their Bleve index and
// the classifier learnt from their question phrasings. A KB is safe for
// concurrent use by many goroutines.
type KB struct {
	articles []Article
	byID     map[string]int
	// variants are the segment variants of articles (see Variant).
	variants map[string]*Article
	index    bleve.Index
	// retr searches index (see retriever).
	retr  *retriever
	feat  *featurizer
	model *classifier
	// large: the model was trained with largeTrain, and its confidence
	// is calibrated by calibWeightsLarge.
	large bool
	// phrasings are the training vectors by class, for Signals.Nearest.
	phrasings *phrasings
	// oos is the classifier's class for out-of-scope questions, or -1 when
	// the content had no negative examples. Article i is class i.
	oos int
	// spell corrects words the content never uses.
	spell *speller
	// stems are the Snowball stems of the articles' words: a word the
	// content never uses but whose stem it does ("transfers") is known.
	stems map[string]bool
	// titled maps word stems to the articles whose titles use them
	// (titledBy), for broad questions.
	titled map[string][]string
	// framing holds the framing phrases (framingPhrases) some article's
	// title or questions use: those stay in a question.
	framing    map[string]bool
	thresholds Thresholds
	// rr re-ranks searches once vectors holds the articles' embeddings
	// (Reranker.Prepare stores them); nil without a Reranker.
	rr      *Reranker
	vectors atomic.Pointer[articleVectors]
	// BuildTime is how long building took (zero when an index was reused).
	BuildTime time.Duration
	// Reused says whether a stored index and model were reused.
	Reused bool
}

// Hit is an article proposed for a question.
type Hit struct {
	Article *Article `json:"-"`
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	// Score is Bleve's relevance score (0 when Bleve did not retrieve the
	// article and only the classifier proposed it).
	Score float64 `json:"score"`
	// Confidence is the estimated probability, in [0, 1], that this
	// article is the right answer.
	Confidence float64 `json:"confidence"`
}

// Options configure building a KB.
type Options struct {
	// Thresholds for Decide; the zero value means DefaultThresholds.
	Thresholds Thresholds
	// Progress, when set, is called as articles are indexed and the
	// classifier is trained (the two run at once; the calls come one at
	// a time); with total 0 it is a notice for the operator (a damaged
	// store rebuilt, an interrupted build removed).
	Progress func(stage string, done, total int)
	// Reranker, if set, embeds the articles once the KB is built or
	// opened and re-ranks every search with the question's embedding
	// (see Reranker). If the articles cannot be embedded, the KB is
	// returned all the same and ranks without embeddings.
	Reranker *Reranker
}

// bleveWeight is how much Bleve's normalised score adds to the
// classifier's logit of an article: retrieval and the learnt model see
// different evidence, and the sum beats either alone.
const bleveWeight = 1

// maxHits is how many hits Search returns.
const maxHits = 5

// Build indexes the content in memory and trains the classifier.
func Build(ctx context.Context, c *Content, opts Options) (*KB, error) {
	k, err := build(ctx, "", c, opts)
	if err == nil {
		k.embed(ctx)
	}
	return k, err
}

// embed prepares k's Reranker, if it has one. Its failure is the
// Reranker's to report and retry: k serves without embeddings meanwhile.
func (k *KB) embed(ctx context.Context) {
	if k.rr != nil {
		_ = k.rr.Prepare(ctx, k)
	}
}

func build(ctx context.Context, dir string, c *Content, opts Options) (*KB, error) {
	if len(c.Articles) == 0 {
		return nil, errors.New("build knowledge base: no articles")
	}
	start := time.Now()
	k := newKB(c, opts)
	idx, err := newIndex(dir)
	if err != nil {
		return nil, err
	}
	var progress func(done, total int)
	if opts.Progress != nil {
		// The two stages report at once: one call at a time.
		var mu sync.Mutex
		report := opts.Progress
		opts.Progress = func(stage string, done, total int) {
			mu.Lock()
			defer mu.Unlock()
			report(stage, done, total)
		}
		progress = func(done, total int) { opts.Progress("index", done, total) }
	}
	// Indexing and training share nothing but the articles they read:
	// the index is filled on a goroutine of its own while the classifier
	// trains, which leaves a core idle for much of its time.
	indexed := make(chan error, 1)
	go func() {
		err := fillIndex(ctx, idx, c.Articles, c.Synonyms, progress)
		if err == nil {
			err = k.setIndex(idx)
		}
		indexed <- err
	}()
	err = k.train(ctx, c, opts)
	if ierr := <-indexed; err == nil {
		err = ierr
	}
	if err != nil {
		idx.Close()
		return nil, err
	}
	k.BuildTime = time.Since(start)
	return k, nil
}

func newKB(c *Content, opts Options) *KB {
	k := &KB{
		articles:   c.Articles,
		byID:       make(map[string]int, len(c.Articles)),
		feat:       newFeaturizer(c.Synonyms),
		oos:        -1,
		thresholds: opts.Thresholds,
		rr:         opts.Reranker,
	}
	if k.thresholds == (Thresholds{}) {
		k.thresholds = DefaultThresholds
	}
	k.addVariants(c.Variants)
	freq := map[string]int{}
	count := func(texts ...string) {
		for _, t := range texts {
			for _, w := range tokenize(t) {
				freq[w]++
			}
		}
	}
	for i := range k.articles {
		a := &k.articles[i]
		k.byID[a.ID] = i
		count(a.Title, a.Body)
		count(a.Questions...)
		count(a.Tags...)
	}
	for _, g := range c.Synonyms {
		count(g...)
	}
	// Stems come from the articles and synonyms only: a word that only
	// the negatives use is not one the content answers about.
	k.stems = make(map[string]bool, len(freq))
	for w := range freq {
		k.stems[stem(w)] = true
	}
	k.framing = framingIn(k.articles)
	k.titled = titledBy(k.feat, k.articles)
	count(c.Negatives...)
	k.spell = newSpeller(freq)
	if len(c.Negatives) > 0 {
		k.oos = len(k.articles)
	}
	return k
}

// examples lists the classifier's training texts: each question and the
// title of each article, and the negatives as the out-of-scope class.
func (k *KB) examples(c *Content) ([]string, []int) {
	var texts []string
	var ys []int
	for i, a := range k.articles {
		texts = append(texts, a.Title)
		ys = append(ys, i)
		for _, q := range a.Questions {
			texts = append(texts, q)
			ys = append(ys, i)
		}
	}
	for _, q := range c.Negatives {
		texts = append(texts, q)
		ys = append(ys, k.oos)
	}
	return texts, ys
}

func (k *KB) train(ctx context.Context, c *Content, opts Options) error {
	texts, ys := k.examples(c)
	minDF := 2
	if len(texts) < 2000 {
		// A small knowledge base cannot spare its rare words.
		minDF = 1
	}
	k.feat.fit(texts, minDF)
	k.feat.fitWords(texts)
	xs, full := make([]sparse, len(texts)), make([]sparse, len(texts))
	for i, t := range texts {
		ws := k.feat.words(t)
		xs[i] = k.feat.vector(rawFeatures(ws, nil))
		full[i] = k.feat.withDense(xs[i], ws)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	nClass := len(k.articles)
	if k.oos >= 0 {
		nClass++
	}
	if opts.Progress != nil {
		opts.Progress("train", 0, len(texts))
	}
	opt, large := trainFor(len(full))
	k.model, k.large = trainCached(full, ys, nClass, k.feat.columns(), k.feat.columns()-len(k.feat.idf), opt), large
	k.phrasings = newPhrasings(xs, ys, nClass, len(k.feat.idf))
	if opts.Progress != nil {
		opts.Progress("train", len(texts), len(texts))
	}
	return nil
}

// setIndex makes idx the KB's index.
func (k *KB) setIndex(idx bleve.Index) error {
	r, err := newRetriever(idx)
	if err != nil {
		return err
	}
	k.index, k.retr = idx, r
	return nil
}

// Close releases the index.
func (k *KB) Close() error { return k.index.Close() }

// Articles returns the articles in the order they were loaded.
func (k *KB) Articles() []Article { return k.articles }

// Article returns the article with the given id.
func (k *KB) Article(id string) (*Article, bool) {
	i, ok := k.byID[id]
	if !ok {
		return nil, false
	}
	return &k.articles[i], true
}

// Thresholds returns the thresholds Decide uses.
func (k *KB) Thresholds() Thresholds { return k.thresholds }

// SetThresholds changes the thresholds Decide uses. It is not safe to call
// while other goroutines search.
func (k *KB) SetThresholds(t Thresholds) { k.thresholds = t }

// Search returns up to five articles for the question q, best first, each
// with its Bleve score and a confidence. Bleve retrieves candidates with
// field boosts, synonyms and typo tolerance; the classifier trained on the
// question phrasings re-ranks them; the confidence of the top article
// combines their probability with the other Signals. Confidences of all
// articles (and of "none of them") sum to at most 1. Search never asks
// the Reranker: agents' article searches and the insights' grouping of
// unanswered questions cost no embedding requests; Decide, which answers
// customers, re-ranks.
func (k *KB) Search(ctx context.Context, q string) ([]Hit, error) {
	hits, _, err := k.searchPlain(ctx, q)
	return hits, err
}

// search is Decide's search: Search's hits re-ranked by the Reranker, if
// the KB has one, with the signals behind the top confidence of the
// plain ranking (nil when there are no hits).
func (k *KB) search(ctx context.Context, q string) ([]Hit, *Signals, error) {
	hits, s, err := k.searchPlain(ctx, q)
	if err != nil || k.rr == nil || len(hits) == 0 {
		return hits, s, err
	}
	return k.rr.rerank(ctx, k, q, hits), s, nil
}

// searchPlain is Search, with the signals behind the top confidence (nil
// when there are no hits).
func (k *KB) searchPlain(ctx context.Context, q string) ([]Hit, *Signals, error) {
	q, filler := k.withoutFiller(q)
	sp := k.correct(q)
	words := k.feat.words(sp.model)
	if len(words) == 0 {
		return nil, nil, nil
	}
	scores, err := k.retr.retrieve(ctx, k.bleveQuery(sp.search), sp.fuzzy, retrieveK)
	if err != nil {
		return nil, nil, err
	}
	z := make([]float32, k.model.nClass)
	x, known := k.feat.vectorKnown(rawFeatures(words, make([]uint64, 0, 256)))
	k.model.logits(k.feat.withDense(x, words), z)
	var top float64
	bleveBest := ""
	for id, s := range scores {
		if s > top || (s == top && id < bleveBest) {
			top, bleveBest = s, id
		}
	}
	bleve := make([]float32, len(z))
	for id, s := range scores {
		bleve[k.byID[id]] = bleveWeight * float32(s/top)
	}
	axpy(z, bleve, 1)
	softmax(z)
	hits := make([]Hit, 0, maxHits)
	for i := range k.articles {
		p := float64(z[i])
		if len(hits) == maxHits && p <= hits[maxHits-1].Confidence {
			continue
		}
		a := &k.articles[i]
		h := Hit{Article: a, ID: a.ID, Title: a.Title, Score: scores[a.ID], Confidence: p}
		if len(hits) < maxHits {
			hits = append(hits, h)
		} else {
			hits[maxHits-1] = h
		}
		slices.SortStableFunc(hits, byConfidence)
	}
	best, second := hits[0], 0.0
	if len(hits) > 1 {
		second = hits[1].Confidence
	}
	s := &Signals{
		Model:       best.Confidence,
		Margin:      best.Confidence - second,
		KnownWeight: known,
		Nearest:     k.phrasings.nearest(x, k.byID[best.ID]),
		BleveAgrees: best.ID == bleveBest,
		large:       k.large,
	}
	if top > 0 {
		s.Bleve = best.Score / top
	}
	if k.oos >= 0 {
		s.OutOfScope = float64(z[k.oos])
	}
	s.Filler = filler
	s.Broad = k.broad(words)
	k.knownWords(q, s)
	s.WithoutUnknown = s.Model
	if len(s.Unknown) > 0 {
		s.WithoutUnknown = 0
		// The same question without its unknown words (and so without
		// their spelling corrections), Bleve's scores unchanged.
		if words := k.feat.words(k.correct(withoutWords(q, s.Unknown)).model); len(words) > 0 {
			z := make([]float32, k.model.nClass)
			k.model.logits(k.feat.withDense(k.feat.vector(rawFeatures(words, make([]uint64, 0, 256))), words), z)
			axpy(z, bleve, 1)
			softmax(z)
			s.WithoutUnknown = float64(z[k.byID[best.ID]])
		}
	}
	rescale(hits, s.calibrated())
	return hits, s, nil
}

// byConfidence orders hits by descending confidence.
func byConfidence(a, b Hit) int {
	switch {
	case a.Confidence > b.Confidence:
		return -1
	case a.Confidence < b.Confidence:
		return 1
	}
	return 0
}

// rescale gives the top hit confidence c and keeps the others in order
// and the sum at most 1: when c is below the model's probability all
// shrink by the same factor; when above, the others share what is left.
func rescale(hits []Hit, c float64) {
	p := hits[0].Confidence
	f := c / p
	if c > p {
		f = (1 - c) / (1 - p)
	}
	hits[0].Confidence = c
	for i := 1; i < len(hits); i++ {
		hits[i].Confidence *= f
	}
}

// bleveQuery expands multi-word synonyms, which Bleve's synonym support
// (one term at a time) does not cover: "money back" also searches "refund".
func (k *KB) bleveQuery(q string) string {
	if len(k.feat.phrases) == 0 {
		return q
	}
	words := tokenize(q)
	var extra []string
	for i := range words {
		for _, p := range k.feat.phrases {
			if i+len(p.words) <= len(words) && equalWords(words[i:i+len(p.words)], p.words) {
				extra = append(extra, p.canon)
			}
		}
	}
	if len(extra) == 0 {
		return q
	}
	return q + " " + strings.Join(extra, " ")
}

// spelling is a question with the words the content never uses
// corrected, in the forms the knowledge base searches with.
type spelling struct {
	// search is the question with the known words one edit away from each
	// unknown word added at the end ("refnd" -> "refnd refund"): Bleve
	// scores the original too, so a rare but right word keeps its
	// evidence.
	search string
	// model is the question the classifier reads: a typo replaced where
	// it stands ("hwo do i retrun a lampp" -> "how do i return a lamp"),
	// so that its word pairs stay whole and its letters add no noise. A
	// word stays, with its neighbours added at the end, when it is an
	// English word itself (it has a word vector: "info", whose neighbour
	// is "into") or its neighbours all differ from it at the end
	// ("charger": charge) or in the first letter ("drain": rain): such
	// pairs are more often two words than a slip.
	model string
	// fuzzy are the unknown words with no neighbour one edit away, for
	// Bleve to match with more edits.
	fuzzy []string
}

// correct spells q against the words the content uses. A word of three
// letters is corrected only when it is no English word and one letter
// inside it is missing ("gft" -> gift, "fes" -> fees): short words have
// many neighbours, and a letter missing inside a short word is the
// common slip.
func (k *KB) correct(q string) spelling {
	words := tokenize(q)
	search := words
	model := slices.Clone(words)
	var sp spelling
	for i, w := range words {
		if _, known := k.spell.freq[w]; known {
			continue
		}
		if sh := shorthand[w]; sh != "" {
			model[i] = sh
			search = append(search, sh)
			continue
		}
		english := englishWord(w)
		if !english {
			if sw := stopWordSlip(w); sw != "" {
				model[i] = sw
				continue
			}
		}
		if len(w) < minSpellLen {
			if c := k.spell.shortTypo(w); c != "" && !english {
				search = append(search, c)
				model[i] = c
			}
			continue
		}
		cs := k.spell.candidates(w)
		if len(cs) == 0 {
			if len(w) > minSpellLen {
				sp.fuzzy = append(sp.fuzzy, w)
			}
			continue
		}
		search = append(search, cs...)
		if c := typoOf(w, cs); c != "" && c[0] == w[0] && !english {
			model[i] = c
		} else {
			model = append(model, cs...)
		}
	}
	sp.search = strings.Join(search, " ")
	sp.model = strings.Join(model, " ")
	return sp
}
