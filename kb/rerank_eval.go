package kb

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Comparison measures the plain ranking and the re-ranked one on the
// same test questions (see KB.CompareReranking).
type Comparison struct {
	Plain    Result `json:"plain"`
	Reranked Result `json:"reranked"`
	// Weight is the cosine similarity's weight the re-ranked result used:
	// learnt on the validation set (WeightFrom "val") or the Reranker's
	// (WeightFrom "options").
	Weight     float64 `json:"weight"`
	WeightFrom string  `json:"weight_from"`
	// Weights are the weights tried on the validation set, with the
	// accuracy each reached at thresholds calibrated for it.
	Weights []WeightRow `json:"weights,omitempty"`
	// Questions is how many questions (validation and test) were embedded,
	// in QuestionRequests requests that took QuestionSeconds in all.
	Questions        int     `json:"questions_embedded"`
	QuestionRequests int     `json:"question_requests"`
	QuestionSeconds  float64 `json:"question_seconds"`
	// Articles is what embedding the articles took.
	Articles EmbedStats `json:"articles"`
}

// WeightRow is how one weight did on the validation set.
type WeightRow struct {
	Weight     float64    `json:"weight"`
	Accuracy   float64    `json:"accuracy"`
	Thresholds Thresholds `json:"thresholds"`
}

// rerankWeights are the weights CompareReranking tries on a validation
// set; 0 is the plain ranking.
var rerankWeights = []float64{0, 0.5, 1, 2, 3, 5, 8, 12, 20, 30, 50}

// CompareReranking evaluates the plain ranking and the ranking re-ranked
// with embeddings on test, as Evaluate does. With a validation set, each
// ranking's thresholds are calibrated on it (as Calibrate) and the
// weight of the embeddings is learnt on it: the one whose calibrated
// accuracy is best, the smallest on a tie (0 when embeddings do not
// help); without one, both use the KB's thresholds and the Reranker's
// weight. Questions are embedded in batches; a failed request is an
// error here, not a silent fallback. The KB must have been built or
// opened with a Reranker whose Prepare succeeded.
func (k *KB) CompareReranking(ctx context.Context, val, test []Example) (Comparison, error) {
	var c Comparison
	if k.rr == nil {
		return c, errors.New("compare rankings: the knowledge base has no Reranker")
	}
	av := k.vectors.Load()
	if av == nil {
		return c, errors.New("compare rankings: the articles are not embedded (see the log for why)")
	}
	c.Articles = k.rr.Stats()
	testSet, times, err := k.searchAllPlain(ctx, test)
	if err != nil {
		return c, err
	}
	testVecs, testDur, err := k.embedQuestions(ctx, &c, av, test)
	if err != nil {
		return c, err
	}
	plainT, rerT := k.thresholds, k.thresholds
	c.Weight, c.WeightFrom = k.rr.opts.Weight, "options"
	if len(val) > 0 {
		valSet, _, err := k.searchAllPlain(ctx, val)
		if err != nil {
			return c, err
		}
		valVecs, _, err := k.embedQuestions(ctx, &c, av, val)
		if err != nil {
			return c, err
		}
		plainT = calibrate(valSet)
		best := -1.0
		for _, w := range rerankWeights {
			set := k.rerankSet(av, valSet, valVecs, w)
			t := calibrate(set)
			acc := score(set, t).Accuracy
			c.Weights = append(c.Weights, WeightRow{Weight: w, Accuracy: acc, Thresholds: t})
			if acc > best {
				best, c.Weight, rerT = acc, w, t
			}
		}
		c.WeightFrom = "val"
	}
	c.Plain = k.evaluate(testSet, times, plainT)
	start := time.Now()
	rer := k.rerankSet(av, testSet, testVecs, c.Weight)
	mixEach := time.Since(start) / time.Duration(len(test))
	rtimes := make([]time.Duration, len(times))
	for i, d := range times {
		rtimes[i] = d + mixEach + testDur[i]
	}
	c.Reranked = k.evaluate(rer, rtimes, rerT)
	return c, nil
}

// embedQuestions embeds the questions of set in batches, as unit
// vectors, with each question's share of its batch's time; it counts
// the work in c.
func (k *KB) embedQuestions(ctx context.Context, c *Comparison, av *articleVectors, set []Example) ([][]float32, []time.Duration, error) {
	out := make([][]float32, len(set))
	durs := make([]time.Duration, len(set))
	n := k.rr.opts.Batch
	for start := 0; start < len(set); start += n {
		end := min(start+n, len(set))
		texts := make([]string, 0, end-start)
		for _, e := range set[start:end] {
			texts = append(texts, e.Text)
		}
		t0 := time.Now()
		vecs, err := k.rr.emb.Embed(ctx, texts)
		if err == nil {
			err = checkVectors(vecs, len(texts), av.dims)
		}
		d := time.Since(t0)
		c.QuestionRequests++
		c.QuestionSeconds += d.Seconds()
		if err != nil {
			return nil, nil, fmt.Errorf("embed questions: %w", err)
		}
		for i, v := range vecs {
			out[start+i] = unit(v)
			durs[start+i] = d / time.Duration(len(texts))
		}
		c.Questions += len(texts)
	}
	return out, durs, nil
}

// rerankSet re-ranks each question's plain hits with weight w.
func (k *KB) rerankSet(av *articleVectors, set []scored, vecs [][]float32, w float64) []scored {
	out := make([]scored, len(set))
	for i, s := range set {
		out[i] = s
		if len(s.hits) >= 2 {
			out[i].hits = mix(s.hits, similarities(av, k, vecs[i], s.hits), w)
		}
	}
	return out
}
