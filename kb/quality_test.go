package kb

// Quality experiments on the shared labelled sets. They take minutes, so
// they run only when FRONTDESK_DATA names the directory of the sets
// (../shared/data):
//
//	FRONTDESK_DATA=../../shared/data go test -run TestQuality -v -timeout 30m ./kb/

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

func qualityData(t *testing.T) string {
	dir := os.Getenv("FRONTDESK_DATA")
	if dir == "" {
		t.Skip("FRONTDESK_DATA not set")
	}
	return dir
}

// qualitySets reads the labelled sets the quality studies use: CLINC150's
// training and validation sets, and Banking77's training set split into
// four fifths to train on and one to validate.
func qualitySets(t *testing.T) (clincTrain, clincVal, bankTrain, bankVal []Example) {
	dir := qualityData(t)
	clincTrain = readSet(t, filepath.Join(dir, "clinc150/train.jsonl"))
	clincVal = readSet(t, filepath.Join(dir, "clinc150/val.jsonl"))
	bankVal, bankTrain = everyNth(readSet(t, filepath.Join(dir, "banking77/train.jsonl")), 5, 4)
	return clincTrain, clincVal, bankTrain, bankVal
}

func readSet(t *testing.T, name string) []Example {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ex, err := ReadExamples(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// everyNth splits set into lines i%n==r and the rest.
func everyNth(set []Example, n, r int) (in, out []Example) {
	for i, e := range set {
		if i%n == r {
			in = append(in, e)
		} else {
			out = append(out, e)
		}
	}
	return in, out
}

// probe is what the parts of the KB say about one question.
type probe struct {
	want  int // class, or -1 for out of scope
	clf   []float32
	bleve []float32 // normalised Bleve score by class
}

func (k *KB) probe(ctx context.Context, e Example) probe {
	p := probe{want: -1}
	if i, ok := k.byID[e.Intent]; ok {
		p.want = i
	}
	n := k.model.nClass
	p.clf, p.bleve = make([]float32, n), make([]float32, n)
	sp := k.correct(e.Text)
	words := k.feat.words(sp.model)
	if len(words) == 0 {
		return p
	}
	scores, err := retrieve(ctx, k.index, k.bleveQuery(sp.search), sp.fuzzy, retrieveK)
	if err != nil {
		panic(err)
	}
	x := k.feat.withDense(k.feat.vector(rawFeatures(words, nil)), words)
	k.model.logits(x, p.clf)
	var top float64
	for _, s := range scores {
		top = math.Max(top, s)
	}
	for id, s := range scores {
		p.bleve[k.byID[id]] = float32(s / top)
	}
	return p
}

type fusion struct{ bleve float64 }

// fuse returns the probabilities of the classes under weights f.
func (p probe) fuse(f fusion) []float32 {
	z := make([]float32, len(p.clf))
	for i := range z {
		z[i] = p.clf[i] + float32(f.bleve)*p.bleve[i]
	}
	softmax(z)
	return z
}

func argmax(z []float32) int {
	b := 0
	for i, v := range z {
		if v > z[b] {
			b = i
		}
	}
	return b
}

// top1 is the in-scope accuracy when every question is answered with
// the best article.
func top1(ps []probe, f fusion, nArt int) float64 {
	ok, n := 0, 0
	for _, p := range ps {
		if p.want < 0 {
			continue
		}
		n++
		z := p.fuse(f)
		if argmax(z[:nArt]) == p.want {
			ok++
		}
	}
	return float64(ok) / float64(n)
}

func buildFrom(t *testing.T, train []Example) *KB {
	start := time.Now()
	k, err := Build(context.Background(), ContentFromExamples(train), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d articles in %v", len(k.articles), time.Since(start))
	return k
}

// askBoth builds knowledge bases from CLINC150's and BANKING77's
// training sets and asks them their validation questions with ask
// (probeAll, searchSet): CLINC150 val's halves a and b, and BANKING77's
// held-out fifth.
func askBoth[T any](t *testing.T, clincTrain, valA, valB, bankTrain, bankVal []Example, ask func(*testing.T, *KB, []Example) []T) (a, b, bank []T) {
	kc := buildFrom(t, clincTrain)
	a, b = ask(t, kc, valA), ask(t, kc, valB)
	kc.Close()
	kbk := buildFrom(t, bankTrain)
	bank = ask(t, kbk, bankVal)
	kbk.Close()
	return a, b, bank
}

func probeAll(t *testing.T, k *KB, set []Example) []probe {
	start := time.Now()
	ps := make([]probe, len(set))
	for i, e := range set {
		ps[i] = k.probe(context.Background(), e)
	}
	t.Logf("probed %d in %v", len(set), time.Since(start))
	return ps
}

func TestQualityRanking(t *testing.T) {
	clincTrain, clincVal, bankTrain, bankVal := qualitySets(t)
	valA, valB := everyNth(clincVal, 2, 0)

	pa, pb, pk := askBoth(t, clincTrain, valA, valB, bankTrain, bankVal, probeAll)

	for _, b := range []float64{0, 0.5, 1, 1.5, 2} {
		f := fusion{bleve: b}
		t.Logf("bleve %.1f  clincA %.2f%%  clincB %.2f%%  bank %.2f%%", b,
			100*top1(pa, f, 150), 100*top1(pb, f, 150), 100*top1(pk, f, 77))
	}
}

// outcome is one question's hits and signals, and whether the top hit is
// the right answer.
type outcome struct {
	want  string
	hits  []Hit
	sig   *Signals
	right bool
}

func searchSet(t *testing.T, k *KB, set []Example) []outcome {
	start := time.Now()
	out := make([]outcome, len(set))
	for i, e := range set {
		hits, s, err := k.search(context.Background(), e.Text)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = outcome{want: e.Intent, hits: hits, sig: s, right: len(hits) > 0 && hits[0].ID == e.Intent}
	}
	t.Logf("searched %d in %v", len(set), time.Since(start))
	return out
}

// rescored turns outcomes into scored questions with the confidence
// computed by conf from the signals (nil: as searched).
func rescored(os []outcome, conf func(*Signals) float64) []scored {
	out := make([]scored, len(os))
	for i, o := range os {
		hits := append([]Hit(nil), o.hits...)
		if conf != nil && len(hits) > 0 {
			rescale(hits, conf(o.sig))
		}
		out[i] = scored{want: o.want, hits: hits}
	}
	return out
}

// fitLogistic fits weights (then a bias) of a logistic regression of ys on
// xs by Newton's method with a small ridge penalty.
func fitLogistic(xs [][]float64, ys []bool, wt []float64, ridge float64) []float64 {
	d := len(xs[0]) + 1
	w := make([]float64, d)
	row := func(x []float64) []float64 { return append(append([]float64(nil), x...), 1) }
	for iter := 0; iter < 30; iter++ {
		g := make([]float64, d)
		h := make([][]float64, d)
		for i := range h {
			h[i] = make([]float64, d+1)
		}
		for n, x := range xs {
			r := row(x)
			z := 0.0
			for i := range r {
				z += w[i] * r[i]
			}
			p := 1 / (1 + math.Exp(-z))
			y := 0.0
			if ys[n] {
				y = 1
			}
			for i := range r {
				g[i] += wt[n] * (p - y) * r[i]
				for j := range r {
					h[i][j] += wt[n] * p * (1 - p) * r[i] * r[j]
				}
			}
		}
		for i := 0; i < d-1; i++ {
			g[i] += ridge * w[i]
			h[i][i] += ridge
		}
		// Solve h * step = g by Gaussian elimination.
		for i := range h {
			h[i][d] = g[i]
		}
		for c := 0; c < d; c++ {
			piv := c
			for r := c + 1; r < d; r++ {
				if math.Abs(h[r][c]) > math.Abs(h[piv][c]) {
					piv = r
				}
			}
			h[c], h[piv] = h[piv], h[c]
			for r := 0; r < d; r++ {
				if r == c {
					continue
				}
				f := h[r][c] / h[c][c]
				for j := c; j <= d; j++ {
					h[r][j] -= f * h[c][j]
				}
			}
		}
		change := 0.0
		for i := 0; i < d; i++ {
			step := h[i][d] / h[i][i]
			w[i] -= step
			change = math.Max(change, math.Abs(step))
		}
		if change < 1e-6 {
			break
		}
	}
	return w
}

func halves(t *testing.T, name string, a, b []scored) {
	ta, tb := calibrate(a), calibrate(b)
	ra, rb := score(b, ta), score(a, tb)
	t.Logf("%-28s A->B: answer %.3f  in %.2f%%  oos %.1f%%  prec %.2f%%  |  B->A: answer %.3f  in %.2f%%  oos %.1f%%  prec %.2f%%", name,
		ta.Answer, 100*ra.InScopeAccuracy, 100*ra.OOSRecall, 100*ra.AnswerPrecision,
		tb.Answer, 100*rb.InScopeAccuracy, 100*rb.OOSRecall, 100*rb.AnswerPrecision)
}

func atDefaults(t *testing.T, name string, set []scored) {
	r := score(set, DefaultThresholds)
	t.Logf("%-28s defaults: in %.2f%%  oos %.1f%%  prec %.2f%%  answered %.1f%%  clarify %.1f%% (hit %.1f%%)", name,
		100*r.InScopeAccuracy, 100*r.OOSRecall, 100*r.AnswerPrecision, 100*r.AnswerRate, 100*r.ClarifyRate, 100*r.ClarifyHitRate)
}

func logLoss(set []outcome, conf func(*Signals) float64) float64 {
	var l float64
	n := 0
	for _, o := range set {
		if o.sig == nil {
			continue
		}
		p := math.Min(math.Max(conf(o.sig), 1e-6), 1-1e-6)
		if o.right {
			l -= math.Log(p)
		} else {
			l -= math.Log(1 - p)
		}
		n++
	}
	return l / float64(n)
}

// TestQualityCalibration learns the calibration weights on out-of-fold
// questions of CLINC150's training split (five folds: each fifth is
// searched in a knowledge base built from the other four), then measures
// on CLINC150's validation halves and on BANKING77.
func TestQualityCalibration(t *testing.T) {
	// oosWeight counts each out-of-scope question as this many: the
	// training split has 100 among 15,000, far fewer than customers ask.
	const oosWeight = 10
	clincTrain, clincVal, bankTrain, bankVal := qualitySets(t)
	valA, valB := everyNth(clincVal, 2, 0)

	saved, savedLarge := calibWeights, calibWeightsLarge
	calibWeights, calibWeightsLarge = nil, nil
	defer func() { calibWeights, calibWeightsLarge = saved, savedLarge }()
	current := func(s *Signals) float64 {
		calibWeights, calibWeightsLarge = saved, savedLarge
		defer func() { calibWeights, calibWeightsLarge = nil, nil }()
		return s.confidence()
	}

	var oof []outcome
	folds := 5
	if s := os.Getenv("FRONTDESK_FOLDS"); s != "" {
		fmt.Sscan(s, &folds)
	}
	for f := 0; f < folds; f++ {
		held, rest := everyNth(clincTrain, 5, f)
		k := buildFrom(t, rest)
		oof = append(oof, searchSet(t, k, held)...)
		k.Close()
	}
	// Small knowledge bases (10 phrasings an article, like real content)
	// meet unknown words far more often: add their out-of-fold questions.
	var small []outcome
	if os.Getenv("FRONTDESK_SMALL") != "" {
		for _, r := range []int{0, 5} {
			held, rest := everyNth(clincTrain, 10, r)
			k := buildFrom(t, held)
			sample, _ := everyNth(rest, 7, 0)
			small = append(small, searchSet(t, k, sample)...)
			k.Close()
		}
		describe(t, "small", small)
	}
	describe(t, "oof", oof)
	oa, ob, ok := askBoth(t, clincTrain, valA, valB, bankTrain, bankVal, searchSet)
	describe(t, "val", append(oa, ob...))

	model := func(s *Signals) float64 { return s.Model }
	report := func(name string, confA, confB func(*Signals) float64) {
		// confA is fit without half A (used to score A), confB without B.
		t.Logf("%s: log loss clinc A %.4f B %.4f  bank %.4f", name, logLoss(oa, confA), logLoss(ob, confB), logLoss(ok, confA))
		halves(t, "clinc halves "+name, rescored(oa, confA), rescored(ob, confB))
		atDefaults(t, "clinc A "+name, rescored(oa, confA))
		atDefaults(t, "clinc B "+name, rescored(ob, confB))
		atDefaults(t, "bank "+name, rescored(ok, confA))
	}
	report("model", model, model)
	fit := func(set []outcome, cols []int, oosWeight float64) func(*Signals) float64 {
		return fitConfidence(t, set, cols, oosWeight)
	}
	// Tried (README): all features or {0,3,4,5}, {0,3}, {0,4}, {0,5};
	// out-of-scope weights 1, 10 and 30; fit out of fold or on a val half.
	all := []int{0, 1, 2, 3, 4, 5, 6, 7}
	report("current", current, current)
	for _, cols := range [][]int{all} {
		for _, ow := range []float64{oosWeight} {
			oofFit := fit(oof, cols, ow)
			report(fmt.Sprintf("oof %v oosw %.0f", cols, ow), oofFit, oofFit)
			fitB, fitA := fit(ob, cols, ow), fit(oa, cols, ow)
			report(fmt.Sprintf("val %v oosw %.0f", cols, ow), fitB, fitA)
			capped := func(f func(*Signals) float64) func(*Signals) float64 {
				return func(s *Signals) float64 { return f(s) * s.KnownWords }
			}
			report(fmt.Sprintf("val %v oosw %.0f x known", cols, ow), capped(fitB), capped(fitA))
			// Thresholds for the defaults, on confidences fit on the
			// other half.
			for _, c := range []struct {
				name   string
				fa, fb func(*Signals) float64
			}{{"model", model, model}, {"learnt", fitB, fitA}, {"learnt x known", capped(fitB), capped(fitA)},
				{"current", current, current}, {"current min without", minWithout(current), minWithout(current)},
				{"learnt min without", minWithout(fitB), minWithout(fitA)}} {
				cross := append(rescored(oa, c.fa), rescored(ob, c.fb)...)
				bk := rescored(ok, c.fa)
				for _, a := range []float64{0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4} {
					th := Thresholds{Answer: a, Clarify: 0.1}
					r, rb := score(cross, th), score(bk, th)
					t.Logf("%-16s answer %.2f: clinc in %.2f%% oos %.1f%% prec %.2f%% | bank in %.2f%% prec %.2f%%", c.name, a,
						100*r.InScopeAccuracy, 100*r.OOSRecall, 100*r.AnswerPrecision, 100*rb.InScopeAccuracy, 100*rb.AnswerPrecision)
				}
			}
			// The shipped weights: fit on all of val.
			fit(append(append([]outcome(nil), oa...), ob...), cols, ow)
			if small != nil {
				report("small", fit(small, cols, ow), fit(small, cols, ow))
				sb, sa := fit(append(append([]outcome(nil), ob...), small...), cols, ow), fit(append(append([]outcome(nil), oa...), small...), cols, ow)
				report("val+small", sb, sa)
				for _, a := range []float64{0.15, 0.2, 0.25, 0.3} {
					th := Thresholds{Answer: a, Clarify: 0.1}
					r, rb := score(append(rescored(oa, sb), rescored(ob, sa)...), th), score(rescored(ok, sa), th)
					t.Logf("val+small answer %.2f: clinc in %.2f%% oos %.1f%% prec %.2f%% | bank in %.2f%% prec %.2f%%", a,
						100*r.InScopeAccuracy, 100*r.OOSRecall, 100*r.AnswerPrecision, 100*rb.InScopeAccuracy, 100*rb.AnswerPrecision)
				}
				fit(append(append(append([]outcome(nil), oa...), ob...), small...), cols, ow)
			}
		}
	}
}

// fitConfidence learns a logistic combination of the signals' features
// cols (indexes into Signals.features) on set, each out-of-scope
// question counted oosWeight times, and returns it as a confidence.
func fitConfidence(t *testing.T, set []outcome, cols []int, oosWeight float64) func(*Signals) float64 {
	return fitOnFeatures(t, set, func(s *Signals) []float64 {
		f := s.features()
		x := make([]float64, len(cols))
		for i, c := range cols {
			x[i] = f[c]
		}
		return x
	}, oosWeight)
}

// fitOnFeatures is fitConfidence on the features feats gives.
func fitOnFeatures(t *testing.T, set []outcome, feats func(*Signals) []float64, oosWeight float64) func(*Signals) float64 {
	var xs [][]float64
	var ys []bool
	var wt []float64
	for _, o := range set {
		if o.sig == nil {
			continue
		}
		xs = append(xs, feats(o.sig))
		ys = append(ys, o.right)
		w := 1.0
		if o.want == OutOfScope {
			w = oosWeight
		}
		wt = append(wt, w)
	}
	w := fitLogistic(xs, ys, wt, 1)
	t.Logf("weights (oos counted %g times): %#v", oosWeight, w)
	return func(s *Signals) float64 {
		x := feats(s)
		z := w[len(x)]
		for i, v := range x {
			z += w[i] * v
		}
		return 1 / (1 + math.Exp(-z))
	}
}

// minWithout caps a confidence at the model's probability without the
// unknown words.
func minWithout(f func(*Signals) float64) func(*Signals) float64 {
	return func(s *Signals) float64 { return math.Min(f(s), s.WithoutUnknown) }
}

// auc is the probability that a random positive scores above a random
// negative.
func auc(pos, neg []float64) float64 {
	sort.Float64s(neg)
	var s float64
	for _, p := range pos {
		lo := sort.SearchFloat64s(neg, p)
		hi := sort.Search(len(neg), func(i int) bool { return neg[i] > p })
		s += float64(lo) + float64(hi-lo)/2
	}
	return s / float64(len(pos)*len(neg))
}

func describe(t *testing.T, name string, os []outcome) {
	names := []string{"logit", "margin", "oos", "knownW", "knownWt", "nearest", "agree", "bleve", "without"}
	var groups [3][][]float64 // right, wrong in scope, oos
	for _, o := range os {
		if o.sig == nil {
			continue
		}
		g := 0
		switch {
		case o.want == OutOfScope:
			g = 2
		case !o.right:
			g = 1
		}
		groups[g] = append(groups[g], o.sig.features())
	}
	for j, n := range names {
		col := func(g int) []float64 {
			var c []float64
			for _, x := range groups[g] {
				c = append(c, x[j])
			}
			return c
		}
		if j >= len(groups[0][0]) {
			continue
		}
		mean := func(c []float64) float64 {
			s := 0.0
			for _, v := range c {
				s += v
			}
			return s / float64(len(c))
		}
		t.Logf("%s %-8s right %.3f wrong %.3f oos %.3f  AUC right>wrong %.3f right>oos %.3f", name, n,
			mean(col(0)), mean(col(1)), mean(col(2)), auc(col(0), col(1)), auc(col(0), col(2)))
	}
}

func TestQualityDemoSignals(t *testing.T) {
	qualityData(t)
	c, err := Load(os.DirFS("../content"))
	if err != nil {
		t.Fatal(err)
	}
	k := buildShop(t, c)
	for _, q := range []string{"i need a new charger for my device", "how do i fix my car engine", "i want my refnd",
		"how long does delivry take", "my lamp flickers", "can i pay with paypal", "where is my parcel", "what is the capital of germany"} {
		hits, s, err := k.search(context.Background(), q)
		if err != nil || s == nil {
			t.Fatal(q, err)
		}
		t.Logf("%-40q %-24s conf %.2f  %+v", q, hits[0].ID, hits[0].Confidence, *s)
	}
}

// TestQualityTraining compares training settings by top-1 in-scope
// accuracy (every question answered with its best article).
func TestQualityTraining(t *testing.T) {
	clincTrain, clincVal, bankTrain, bankVal := qualitySets(t)
	valA, valB := everyNth(clincVal, 2, 0)
	saved, savedWW, savedMin, savedMax := defaultTrain, wordWeight, minGram, maxGram
	defer func() { defaultTrain, wordWeight, minGram, maxGram = saved, savedWW, savedMin, savedMax }()
	for _, c := range []struct {
		opt        trainOptions
		ww         float64
		minG, maxG int
	}{
		// Tried first: 10 epochs at rate 3, 16 at 3 (the default), 10 at
		// 6, 16 at 2, 24 at 3; word weight 1, 1.5 (the default) and 2.
		{trainOptions{epochs: 16, rate: 3, seed: 1}, 1.5, 2, 6},
		{trainOptions{epochs: 16, rate: 3, seed: 1}, 1.5, 3, 5},
	} {
		defaultTrain, wordWeight, minGram, maxGram = c.opt, c.ww, c.minG, c.maxG
		pa, pb, pk := askBoth(t, clincTrain, valA, valB, bankTrain, bankVal, probeAll)
		f := fusion{bleve: bleveWeight}
		t.Logf("%+v word %.1f grams %d-%d: clincA %.2f%%  clincB %.2f%%  bank %.2f%%", c.opt, c.ww, c.minG, c.maxG,
			100*top1(pa, f, 150), 100*top1(pb, f, 150), 100*top1(pk, f, 77))
	}
}

// TestQualityEnsemble compares one classifier with the average of two
// trained from different seeds.
func TestQualityEnsemble(t *testing.T) {
	clincTrain, clincVal, bankTrain, bankVal := qualitySets(t)
	saved := defaultTrain
	defer func() { defaultTrain = saved }()
	var pc, pk [][]probe
	for _, seed := range []int64{1, 2} {
		defaultTrain = trainOptions{epochs: 16, rate: 3, seed: seed}
		kc := buildFrom(t, clincTrain)
		pc = append(pc, probeAll(t, kc, clincVal))
		kc.Close()
		kbk := buildFrom(t, bankTrain)
		pk = append(pk, probeAll(t, kbk, bankVal))
		kbk.Close()
	}
	avg := func(ps [][]probe) []probe {
		out := make([]probe, len(ps[0]))
		for i := range out {
			p := ps[0][i]
			q := probe{want: p.want, bleve: p.bleve, clf: make([]float32, len(p.clf))}
			for j := range q.clf {
				q.clf[j] = (p.clf[j] + ps[1][i].clf[j]) / 2
			}
			out[i] = q
		}
		return out
	}
	f := fusion{bleve: bleveWeight}
	split := func(ps []probe) ([]probe, []probe) {
		var a, b []probe
		for i, p := range ps {
			if i%2 == 0 {
				a = append(a, p)
			} else {
				b = append(b, p)
			}
		}
		return a, b
	}
	for i, name := range []string{"seed 1", "seed 2", "average"} {
		var c, k []probe
		if i < 2 {
			c, k = pc[i], pk[i]
		} else {
			c, k = avg(pc), avg(pk)
		}
		a, b := split(c)
		t.Logf("%s: clincA %.2f%%  clincB %.2f%%  bank %.2f%%", name, 100*top1(a, f, 150), 100*top1(b, f, 150), 100*top1(k, f, 77))
	}
}

// TestQualitySpeed times Search against the fused model alone (probe:
// spelling, Bleve, classifier), interleaved so that the machine's load
// hits both alike.
func TestQualitySpeed(t *testing.T) {
	dir := qualityData(t)
	k := buildFrom(t, readSet(t, filepath.Join(dir, "clinc150/train.jsonl")))
	defer k.Close()
	val := readSet(t, filepath.Join(dir, "clinc150/val.jsonl"))
	ctx := context.Background()
	var ts, tp []time.Duration
	for round := 0; round < 2; round++ {
		for _, e := range val {
			start := time.Now()
			k.probe(ctx, e)
			tp = append(tp, time.Since(start))
			start = time.Now()
			if _, err := k.Decide(ctx, e.Text); err != nil {
				t.Fatal(err)
			}
			ts = append(ts, time.Since(start))
		}
	}
	q := func(d []time.Duration, f float64) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[int(f*float64(len(d)-1))]
	}
	t.Logf("fused model alone: p50 %v p90 %v p99 %v", q(tp, 0.5), q(tp, 0.9), q(tp, 0.99))
	t.Logf("search + decision: p50 %v p90 %v p99 %v", q(ts, 0.5), q(ts, 0.9), q(ts, 0.99))
}
