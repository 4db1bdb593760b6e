package kb

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// Example is one labelled question: the article (intent) that should
// answer it, or OutOfScope.
type Example struct {
	Text   string `json:"text"`
	Intent string `json:"intent"`
}

// OutOfScope is the label of questions no article should answer.
const OutOfScope = "oos"

// ReadExamples reads JSON Lines of {"text": ..., "intent": ...}. Blank
// lines are skipped; any other line that is not such an object is an error
// naming the line.
func ReadExamples(r io.Reader, name string) ([]Example, error) {
	var out []Example
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e Example
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s:%d: not a JSON object {\"text\", \"intent\"}: %v", name, n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s:%d: more than one JSON value on the line", name, n)
		}
		e.Text, e.Intent = strings.TrimSpace(e.Text), strings.TrimSpace(e.Intent)
		if e.Text == "" || e.Intent == "" {
			return nil, fmt.Errorf("%s:%d: both \"text\" and \"intent\" must be non-empty strings", name, n)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no examples", name)
	}
	return out, nil
}

// ContentFromExamples builds content with one article per intent, whose
// questions are the intent's texts; out-of-scope texts become negatives.
func ContentFromExamples(train []Example) *Content {
	c := &Content{}
	byIntent := map[string]int{}
	for _, e := range train {
		if e.Intent == OutOfScope {
			c.Negatives = append(c.Negatives, e.Text)
			continue
		}
		i, ok := byIntent[e.Intent]
		if !ok {
			i = len(c.Articles)
			byIntent[e.Intent] = i
			c.Articles = append(c.Articles, Article{
				ID:    e.Intent,
				Title: strings.ReplaceAll(e.Intent, "_", " "),
				Body:  "(answer for " + e.Intent + ")",
			})
		}
		c.Articles[i].Questions = append(c.Articles[i].Questions, e.Text)
	}
	return c
}

// Result is the outcome of an evaluation. Fractions are in [0, 1].
type Result struct {
	NTest           int     `json:"n_test"`
	NInScope        int     `json:"n_in_scope"`
	NOutOfScope     int     `json:"n_out_of_scope"`
	InScopeAccuracy float64 `json:"in_scope_accuracy"`
	OOSRecall       float64 `json:"oos_recall"`
	Accuracy        float64 `json:"accuracy"`
	AnswerRate      float64 `json:"answer_rate"`
	AnswerPrecision float64 `json:"answer_precision"`
	ClarifyRate     float64 `json:"clarify_rate"`
	// ClarifyHitRate is the share of Clarify decisions on in-scope
	// questions whose candidates included the right article.
	ClarifyHitRate float64     `json:"clarify_hit_rate"`
	Thresholds     Thresholds  `json:"thresholds"`
	ThresholdsFrom string      `json:"thresholds_from"`
	BuildSeconds   float64     `json:"build_seconds"`
	SearchP50Ms    float64     `json:"search_p50_ms"`
	SearchP99Ms    float64     `json:"search_p99_ms"`
	Table          []TableRow  `json:"threshold_table"`
	Confused       []Confusion `json:"confused,omitempty"`
	Calibration    []CalibBin  `json:"calibration"`
}

// TableRow is how the decision behaves at one answer threshold.
type TableRow struct {
	Answer          float64 `json:"answer_threshold"`
	InScopeAccuracy float64 `json:"in_scope_accuracy"`
	OOSRecall       float64 `json:"oos_recall"`
	Accuracy        float64 `json:"accuracy"`
	AnswerRate      float64 `json:"answer_rate"`
	AnswerPrecision float64 `json:"answer_precision"`
}

// Confusion is a pair of labels the KB mixes up, with how often.
type Confusion struct {
	Want  string `json:"want"`
	Got   string `json:"got"`
	Count int    `json:"count"`
}

// CalibBin compares confidence with reality: of the questions whose top
// confidence fell in [Low, High), the share whose top hit was right.
type CalibBin struct {
	Low       float64 `json:"low"`
	High      float64 `json:"high"`
	N         int     `json:"n"`
	MeanConf  float64 `json:"mean_confidence"`
	Precision float64 `json:"precision"`
}

// scored is one test question with its hits and the signals behind the
// top one.
type scored struct {
	want string
	hits []Hit
	sig  *Signals
}

// searchAll runs Decide's search on every example and times each call
// of the decision (search + decide), single goroutine.
func (k *KB) searchAll(ctx context.Context, set []Example) ([]scored, []time.Duration, error) {
	return k.searchAllWith(ctx, set, k.search)
}

// searchAllPlain is searchAll without re-ranking.
func (k *KB) searchAllPlain(ctx context.Context, set []Example) ([]scored, []time.Duration, error) {
	return k.searchAllWith(ctx, set, k.searchPlain)
}

func (k *KB) searchAllWith(ctx context.Context, set []Example, search func(context.Context, string) ([]Hit, *Signals, error)) ([]scored, []time.Duration, error) {
	out := make([]scored, len(set))
	times := make([]time.Duration, len(set))
	for i, e := range set {
		start := time.Now()
		hits, sig, err := search(ctx, e.Text)
		if err != nil {
			return nil, nil, err
		}
		_ = decide(hits, k.thresholds, sig)
		times[i] = time.Since(start)
		out[i] = scored{want: e.Intent, hits: hits, sig: sig}
	}
	return out, times, nil
}

// predict is the label the bot's decision amounts to: the answered article,
// or OutOfScope for Clarify and NoAnswer.
func predict(s scored, t Thresholds) (string, Decision) {
	d := decide(s.hits, t, s.sig)
	if d.Kind == Answer {
		return d.Article.ID, d
	}
	return OutOfScope, d
}

// score computes the metrics of one threshold setting.
func score(set []scored, t Thresholds) Result {
	var r Result
	var inOK, oosOK, answered, answeredOK, clar, clarIn, clarHit int
	for _, s := range set {
		got, d := predict(s, t)
		if s.want == OutOfScope {
			r.NOutOfScope++
			if got == OutOfScope {
				oosOK++
			}
		} else {
			r.NInScope++
			if got == s.want {
				inOK++
			}
		}
		switch d.Kind {
		case Answer:
			answered++
			if got == s.want {
				answeredOK++
			}
		case Clarify:
			clar++
			if s.want != OutOfScope {
				clarIn++
				if hasHit(d.Candidates, s.want) {
					clarHit++
				}
			}
		}
	}
	r.NTest = len(set)
	r.InScopeAccuracy = frac(inOK, r.NInScope)
	r.OOSRecall = frac(oosOK, r.NOutOfScope)
	r.Accuracy = frac(inOK+oosOK, r.NTest)
	r.AnswerRate = frac(answered, r.NTest)
	r.AnswerPrecision = frac(answeredOK, answered)
	r.ClarifyRate = frac(clar, r.NTest)
	r.ClarifyHitRate = frac(clarHit, clarIn)
	r.Thresholds = t
	return r
}

func frac(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// grid is the answer thresholds tried when calibrating.
func grid() []float64 {
	var g []float64
	for t := 0.0; t <= 0.951; t += 0.025 {
		g = append(g, math.Round(t*1000)/1000)
	}
	return g
}

// Calibrate chooses thresholds on a labelled validation set. The answer
// threshold maximises accuracy with out-of-scope as a class of its own
// (ties go to the higher threshold: fewer wrong answers). Below it, Clarify
// and NoAnswer both count as out of scope, so accuracy cannot choose the
// clarify threshold. It is chosen to make the questions left unanswered
// go best: a Clarify that offers the right article scores 2, a NoAnswer
// on a question no offer would have helped (out of scope, or the right
// article not among the candidates) scores 1, anything else 0. A useful
// "did you mean" is worth more than a correct "I don't know", because a
// customer shown a wrong suggestion can still say "none of these".
func (k *KB) Calibrate(ctx context.Context, val []Example) (Thresholds, error) {
	set, _, err := k.searchAll(ctx, val)
	if err != nil {
		return Thresholds{}, err
	}
	return calibrate(set), nil
}

func calibrate(set []scored) Thresholds {
	best := Thresholds{Answer: 1}
	bestAcc := -1.0
	for _, a := range grid() {
		r := score(set, Thresholds{Answer: a, Clarify: a})
		if r.Accuracy >= bestAcc {
			best, bestAcc = Thresholds{Answer: a, Clarify: a}, r.Accuracy
		}
	}
	bestScore := -1
	for _, c := range grid() {
		if c > best.Answer {
			break
		}
		t := Thresholds{Answer: best.Answer, Clarify: c}
		total := 0
		for _, s := range set {
			switch d := decide(s.hits, t, s.sig); d.Kind {
			case Clarify:
				if hasHit(d.Candidates, s.want) {
					total += 2
				}
			case NoAnswer:
				if s.want == OutOfScope || !hasHit(decide(s.hits, Thresholds{Answer: 2}, s.sig).Candidates, s.want) {
					total++
				}
			}
		}
		if total > bestScore {
			best.Clarify, bestScore = c, total
		}
	}
	return best
}

func hasHit(hits []Hit, id string) bool {
	for _, h := range hits {
		if h.ID == id {
			return true
		}
	}
	return false
}

// Evaluate decides every test question with the KB's thresholds and
// reports the metrics, a per-threshold table, the calibration of the
// confidence and the most confused pairs.
func (k *KB) Evaluate(ctx context.Context, test []Example) (Result, error) {
	set, times, err := k.searchAll(ctx, test)
	if err != nil {
		return Result{}, err
	}
	return k.evaluate(set, times, k.thresholds), nil
}

// evaluate is Evaluate's report on searched questions with thresholds t.
func (k *KB) evaluate(set []scored, times []time.Duration, t Thresholds) Result {
	r := score(set, t)
	for _, a := range grid() {
		if math.Mod(a*1000, 50) != 0 {
			continue
		}
		s := score(set, Thresholds{Answer: a, Clarify: math.Min(a, t.Clarify)})
		r.Table = append(r.Table, TableRow{Answer: a, InScopeAccuracy: s.InScopeAccuracy, OOSRecall: s.OOSRecall,
			Accuracy: s.Accuracy, AnswerRate: s.AnswerRate, AnswerPrecision: s.AnswerPrecision})
	}
	r.Calibration = calibration(set)
	r.Confused = confusions(set, t, 10)
	times = append([]time.Duration(nil), times...)
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	r.SearchP50Ms = ms(times[len(times)/2])
	r.SearchP99Ms = ms(times[min(len(times)-1, len(times)*99/100)])
	r.BuildSeconds = k.BuildTime.Seconds()
	return r
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// calibration bins the questions by their top confidence.
func calibration(set []scored) []CalibBin {
	bins := make([]CalibBin, 10)
	var sum [10]float64
	var ok [10]int
	for i := range bins {
		bins[i].Low, bins[i].High = float64(i)/10, float64(i+1)/10
	}
	for _, s := range set {
		if len(s.hits) == 0 {
			continue
		}
		c := s.hits[0].Confidence
		b := min(int(c*10), 9)
		bins[b].N++
		sum[b] += c
		if s.hits[0].ID == s.want {
			ok[b]++
		}
	}
	for i := range bins {
		bins[i].MeanConf = frac(0, 1)
		if bins[i].N > 0 {
			bins[i].MeanConf = sum[i] / float64(bins[i].N)
		}
		bins[i].Precision = frac(ok[i], bins[i].N)
	}
	return bins
}

// confusions lists the most frequent (want, got) pairs among wrong
// decisions.
func confusions(set []scored, t Thresholds, n int) []Confusion {
	count := map[[2]string]int{}
	for _, s := range set {
		got, _ := predict(s, t)
		if got != s.want {
			count[[2]string{s.want, got}]++
		}
	}
	var out []Confusion
	for p, c := range count {
		out = append(out, Confusion{Want: p[0], Got: p[1], Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Want+out[i].Got < out[j].Want+out[j].Got
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
