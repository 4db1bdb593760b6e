package kb

import (
	"context"
	"math"
	"math/rand"
	"sort"
	"testing"
	"time"
)

// TestQualityAddons adds a second scorer's class scores to the fused
// logits of the shipped model: class prototypes (cosine to the class's
// mean phrasing vector) and multinomial naive Bayes over the tf-idf
// vectors.
func TestQualityAddons(t *testing.T) {
	clincTrain, clincVal, bankTrain, bankVal := qualitySets(t)
	type scoredSet struct {
		ps        []probe
		proto, nb [][]float32
		nArt      int
	}
	var sets []scoredSet
	for _, s := range []struct{ train, val []Example }{{clincTrain, clincVal}, {bankTrain, bankVal}} {
		c := ContentFromExamples(s.train)
		k := buildFrom(t, s.train)
		defer k.Close()
		ps := probeAll(t, k, s.val)
		texts, ys := k.examples(c)
		nC, nF := k.model.nClass, len(k.feat.idf)
		cent := make([][]float64, nC)
		cnt := make([][]float64, nC)
		for i := range cent {
			cent[i] = make([]float64, nF)
			cnt[i] = make([]float64, nF)
		}
		for i, tx := range texts {
			x := k.feat.transform(tx)
			for j, col := range x.idx {
				cent[ys[i]][col] += float64(x.val[j])
				cnt[ys[i]][col] += float64(x.val[j])
			}
		}
		for c := range cent {
			var n float64
			for _, v := range cent[c] {
				n += v * v
			}
			n = math.Sqrt(n)
			for j := range cent[c] {
				cent[c][j] /= n
			}
			var tot float64
			for _, v := range cnt[c] {
				tot += v
			}
			for j := range cnt[c] {
				cnt[c][j] = math.Log((cnt[c][j] + 0.1) / (tot + 0.1*float64(nF)))
			}
		}
		ss := scoredSet{ps: ps, nArt: len(k.articles)}
		for _, e := range s.val {
			fixed := k.correct(e.Text).model
			pr, nb := make([]float32, nC), make([]float32, nC)
			if w := k.feat.words(fixed); len(w) > 0 {
				x := k.feat.vector(rawFeatures(w, nil))
				for c := 0; c < nC; c++ {
					var a, b float64
					for j, col := range x.idx {
						a += float64(x.val[j]) * cent[c][col]
						b += float64(x.val[j]) * cnt[c][col]
					}
					pr[c], nb[c] = float32(a), float32(b)
				}
			}
			ss.proto, ss.nb = append(ss.proto, pr), append(ss.nb, nb)
		}
		sets = append(sets, ss)
	}
	eval := func(name string, wp, wn float32) {
		var res []float64
		for si, s := range sets {
			ps := make([]probe, len(s.ps))
			for i, p := range s.ps {
				q := probe{want: p.want, bleve: p.bleve, clf: append([]float32(nil), p.clf...)}
				for c := range q.clf {
					q.clf[c] += wp*s.proto[i][c] + wn*s.nb[i][c]
				}
				ps[i] = q
			}
			if si == 0 {
				a, b := everyNthProbe(ps)
				res = append(res, top1(a, fusion{bleveWeight}, s.nArt), top1(b, fusion{bleveWeight}, s.nArt))
			} else {
				res = append(res, top1(ps, fusion{bleveWeight}, s.nArt))
			}
		}
		t.Logf("%-10s %4.2f %4.2f clincA %.2f%%  clincB %.2f%%  bank %.2f%%", name, wp, wn, 100*res[0], 100*res[1], 100*res[2])
	}
	eval("base", 0, 0)
	for _, w := range []float32{2, 4, 8, 16} {
		eval("proto", w, 0)
	}
	for _, w := range []float32{0.5, 1, 2, 4} {
		eval("nb", 0, w)
	}
}

func everyNthProbe(ps []probe) (a, b []probe) {
	for i, p := range ps {
		if i%2 == 0 {
			a = append(a, p)
		} else {
			b = append(b, p)
		}
	}
	return a, b
}

// TestQualityUnknown compares ways to keep the bot from answering on the
// strength of a word the content never uses, on CLINC150 val halves
// (thresholds chosen on the other half) and at the default thresholds.
// The shipped search caps at restFloor (0.1); "as is" undoes the cap.
func TestQualityUnknown(t *testing.T) {
	clincTrain, clincVal, bankTrain, bankVal := qualitySets(t)
	valA, valB := everyNth(clincVal, 2, 0)
	kc := buildFrom(t, clincTrain)
	defer kc.Close()
	kbk := buildFrom(t, bankTrain)
	defer kbk.Close()
	oa, ob, ok := searchSet(t, kc, valA), searchSet(t, kc, valB), searchSet(t, kbk, bankVal)
	unk, rests := 0, 0
	for _, o := range append(append(oa, ob...), ok...) {
		if o.sig != nil && len(o.sig.Unknown) > 0 {
			unk++
		}
		if o.sig != nil && o.sig.RestsOnUnknown {
			rests++
		}
	}
	t.Logf("%d questions with unknown words, %d resting on them", unk, rests)
	for _, c := range []struct {
		name string
		conf func(*Signals) float64
	}{
		{"as is", func(s *Signals) float64 { return s.confidence() }},
		{"min without", func(s *Signals) float64 { return math.Min(s.confidence(), s.WithoutUnknown) }},
		{"without<0.05 cap", capRest(0.05)},
		{"without<0.1 cap", capRest(0.1)},
		{"without<0.2 cap", capRest(0.2)},
	} {
		a, b, k := rescored(oa, c.conf), rescored(ob, c.conf), rescored(ok, c.conf)
		halves(t, c.name, a, b)
		atDefaults(t, c.name+" clinc", append(a, b...))
		atDefaults(t, c.name+" bank", k)
	}
}

// capRest caps the confidence at the model's probability without the
// unknown words when that is below rest.
func capRest(rest float64) func(*Signals) float64 {
	return func(s *Signals) float64 {
		c := s.confidence()
		if len(s.Unknown) > 0 && s.WithoutUnknown < rest {
			return math.Min(c, s.WithoutUnknown)
		}
		return c
	}
}

// TestQualityFusion compares ways to fuse Bleve's scores with the
// classifier's logits: how many of Bleve's articles count, and how their
// score relative to the best is transformed.
func TestQualityFusion(t *testing.T) {
	clincTrain, clincVal, bankTrain, bankVal := qualitySets(t)
	type raw struct {
		want  int
		clf   []float32
		bleve []float64 // raw Bleve score by class, 0 when not retrieved
	}
	type set struct {
		rs   []raw
		nArt int
		k    *KB
	}
	var sets []set
	for _, s := range []struct{ train, val []Example }{{clincTrain, clincVal}, {bankTrain, bankVal}} {
		k := buildFrom(t, s.train)
		defer k.Close()
		st := set{nArt: len(k.articles), k: k}
		for _, e := range s.val {
			r := raw{want: -1, clf: make([]float32, k.model.nClass), bleve: make([]float64, k.model.nClass)}
			if i, ok := k.byID[e.Intent]; ok {
				r.want = i
			}
			sp := k.correct(e.Text)
			if w := k.feat.words(sp.model); len(w) > 0 {
				k.model.logits(k.feat.withDense(k.feat.vector(rawFeatures(w, nil)), w), r.clf)
				scores, err := retrieve(context.Background(), k.index, k.bleveQuery(sp.search), sp.fuzzy, 40)
				if err != nil {
					t.Fatal(err)
				}
				for id, sc := range scores {
					r.bleve[k.byID[id]] = sc
				}
			}
			st.rs = append(st.rs, r)
		}
		sets = append(sets, st)
	}
	eval := func(name string, topK int, w float64, f func(float64) float64) {
		var res []float64
		for si, s := range sets {
			var ps []probe
			for _, r := range s.rs {
				sorted := append([]float64(nil), r.bleve...)
				sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
				cut, top := sorted[min(topK, len(sorted))-1], sorted[0]
				p := probe{want: r.want, clf: r.clf, bleve: make([]float32, len(r.clf))}
				for c, sc := range r.bleve {
					if sc > 0 && sc >= cut && top > 0 {
						p.bleve[c] = float32(f(sc / top))
					}
				}
				ps = append(ps, p)
			}
			if si == 0 {
				a, b := everyNthProbe(ps)
				res = append(res, top1(a, fusion{w}, s.nArt), top1(b, fusion{w}, s.nArt))
			} else {
				res = append(res, top1(ps, fusion{w}, s.nArt))
			}
		}
		t.Logf("%-8s top %2d w %.2f clincA %.2f%%  clincB %.2f%%  bank %.2f%%", name, topK, w, 100*res[0], 100*res[1], 100*res[2])
	}
	id := func(x float64) float64 { return x }
	for _, k := range []int{5, 10, 20, 40} {
		eval("ratio", k, 1, id)
	}
	for _, w := range []float64{1, 1.5, 2, 3} {
		eval("square", 10, w, func(x float64) float64 { return x * x })
		eval("log", 10, w, func(x float64) float64 { return 1 + math.Log(x) })
	}
	eval("sqrt", 10, 1, math.Sqrt)
	// The most confused pairs on BANKING77 with the shipped fusion.
	s := sets[1]
	conf := map[[2]int]int{}
	for _, r := range s.rs {
		p := probe{want: r.want, clf: r.clf, bleve: make([]float32, len(r.clf))}
		sorted := append([]float64(nil), r.bleve...)
		sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
		for c, sc := range r.bleve {
			if sc > 0 && sc >= sorted[9] {
				p.bleve[c] = float32(sc / sorted[0])
			}
		}
		if g := argmax(p.fuse(fusion{1})[:s.nArt]); g != r.want {
			conf[[2]int{r.want, g}]++
		}
	}
	type pair struct {
		k [2]int
		n int
	}
	var pairs []pair
	for k, n := range conf {
		pairs = append(pairs, pair{k, n})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].n > pairs[j].n })
	for _, p := range pairs[:min(15, len(pairs))] {
		t.Logf("%3d  %s -> %s", p.n, s.k.articles[p.k[0]].ID, s.k.articles[p.k[1]].ID)
	}
}

// TestQualityViews adds to the shipped classifier's logits those of
// classifiers trained on one view of the features: words only (unigrams
// and bigrams) or character n-grams only.
func TestQualityViews(t *testing.T) {
	clincTrain, clincVal, bankTrain, bankVal := qualitySets(t)
	view := func(raw []uint64, words bool) []uint64 {
		out := raw[:0]
		for _, h := range raw {
			if (h&wordBit != 0) == words {
				out = append(out, h)
			}
		}
		return out
	}
	type set struct {
		ps          []probe
		word, chars [][]float32
		nArt        int
	}
	var sets []set
	for _, s := range []struct{ train, val []Example }{{clincTrain, clincVal}, {bankTrain, bankVal}} {
		c := ContentFromExamples(s.train)
		k := buildFrom(t, s.train)
		defer k.Close()
		st := set{ps: probeAll(t, k, s.val), nArt: len(k.articles)}
		texts, ys := k.examples(c)
		for _, words := range []bool{true, false} {
			xs := make([]sparse, len(texts))
			for i, tx := range texts {
				xs[i] = k.feat.vector(view(rawFeatures(k.feat.words(tx), nil), words))
			}
			m := trainClassifier(xs, ys, k.model.nClass, len(k.feat.idf), 0, defaultTrain)
			var out [][]float32
			for _, e := range s.val {
				z := make([]float32, m.nClass)
				fixed := k.correct(e.Text).model
				if w := k.feat.words(fixed); len(w) > 0 {
					m.logits(k.feat.vector(view(rawFeatures(w, nil), words)), z)
				}
				out = append(out, z)
			}
			if words {
				st.word = out
			} else {
				st.chars = out
			}
		}
		sets = append(sets, st)
	}
	eval := func(main, ww, wc float32) {
		var res []float64
		for si, s := range sets {
			ps := make([]probe, len(s.ps))
			for i, p := range s.ps {
				q := probe{want: p.want, bleve: p.bleve, clf: make([]float32, len(p.clf))}
				for c := range q.clf {
					q.clf[c] = main*p.clf[c] + ww*s.word[i][c] + wc*s.chars[i][c]
				}
				ps[i] = q
			}
			if si == 0 {
				a, b := everyNthProbe(ps)
				res = append(res, top1(a, fusion{bleveWeight}, s.nArt), top1(b, fusion{bleveWeight}, s.nArt))
			} else {
				res = append(res, top1(ps, fusion{bleveWeight}, s.nArt))
			}
		}
		t.Logf("main %.2f words %.2f chars %.2f: clincA %.2f%%  clincB %.2f%%  bank %.2f%%", main, ww, wc, 100*res[0], 100*res[1], 100*res[2])
	}
	for _, w := range [][3]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0.5, 0.25, 0.25}, {0.34, 0.33, 0.33}, {1, 0.5, 0}, {1, 0.5, 0.5}, {0, 0.5, 0.5}} {
		eval(w[0], w[1], w[2])
	}
}

// trainHinge fits a multiclass (Crammer-Singer) hinge-loss linear model
// by averaged stochastic subgradient descent: for each example, the best
// wrong class within margin 1 of the right one is pushed down and the
// right one up.
func trainHinge(xs []sparse, ys []int, nClass, nFeat, epochs int, rate float32, seed int64) *classifier {
	m := &classifier{nClass: nClass, w: make([]float32, nFeat*nClass), b: make([]float32, nClass)}
	avg := &classifier{nClass: nClass, w: make([]float32, nFeat*nClass), b: make([]float32, nClass)}
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewSource(seed))
	z := make([]float32, nClass)
	for epoch := 0; epoch < epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		r := rate / float32(1+epoch)
		for _, n := range order {
			x, y := xs[n], ys[n]
			m.logits(x, z)
			worst := -1
			for c := range z {
				if c != y && (worst < 0 || z[c] > z[worst]) {
					worst = c
				}
			}
			if z[y]-z[worst] < 1 {
				m.b[y] += r
				m.b[worst] -= r
				for j, col := range x.idx {
					m.w[int(col)*nClass+y] += r * x.val[j]
					m.w[int(col)*nClass+worst] -= r * x.val[j]
				}
			}
		}
		if epoch >= epochs/2 {
			axpy(avg.w, m.w, 1)
			axpy(avg.b, m.b, 1)
		}
	}
	return avg
}

// TestQualityHinge compares the shipped classifier with a hinge-loss one,
// alone and added to it, fused with Bleve.
func TestQualityHinge(t *testing.T) {
	clincTrain, clincVal, bankTrain, bankVal := qualitySets(t)
	type set struct {
		ps   []probe
		h    [][]float32
		nArt int
	}
	var sets []set
	for _, s := range []struct{ train, val []Example }{{clincTrain, clincVal}, {bankTrain, bankVal}} {
		c := ContentFromExamples(s.train)
		k := buildFrom(t, s.train)
		defer k.Close()
		st := set{ps: probeAll(t, k, s.val), nArt: len(k.articles)}
		texts, ys := k.examples(c)
		xs := make([]sparse, len(texts))
		for i, tx := range texts {
			xs[i] = k.feat.transform(tx)
		}
		m := trainHinge(xs, ys, k.model.nClass, len(k.feat.idf), 12, 0.5, 1)
		for _, e := range s.val {
			z := make([]float32, m.nClass)
			fixed := k.correct(e.Text).model
			if w := k.feat.words(fixed); len(w) > 0 {
				m.logits(k.feat.vector(rawFeatures(w, nil)), z)
			}
			st.h = append(st.h, z)
		}
		sets = append(sets, st)
	}
	// The hinge scores' scale is arbitrary: scale them so that their
	// spread (standard deviation over classes, averaged) matches the
	// logistic logits'.
	for si := range sets {
		s := &sets[si]
		var sl, sh float64
		for i, p := range s.ps {
			sl += stddev(p.clf)
			sh += stddev(s.h[i])
		}
		f := float32(sl / sh)
		for i := range s.h {
			for c := range s.h[i] {
				s.h[i][c] *= f
			}
		}
	}
	eval := func(main, wh float32) {
		var res []float64
		for si, s := range sets {
			ps := make([]probe, len(s.ps))
			for i, p := range s.ps {
				q := probe{want: p.want, bleve: p.bleve, clf: make([]float32, len(p.clf))}
				for c := range q.clf {
					q.clf[c] = main*p.clf[c] + wh*s.h[i][c]
				}
				ps[i] = q
			}
			if si == 0 {
				a, b := everyNthProbe(ps)
				res = append(res, top1(a, fusion{bleveWeight}, s.nArt), top1(b, fusion{bleveWeight}, s.nArt))
			} else {
				res = append(res, top1(ps, fusion{bleveWeight}, s.nArt))
			}
		}
		t.Logf("main %.2f hinge %.2f: clincA %.2f%%  clincB %.2f%%  bank %.2f%%", main, wh, 100*res[0], 100*res[1], 100*res[2])
	}
	for _, w := range [][2]float32{{1, 0}, {0, 1}, {0.5, 0.5}, {0.75, 0.25}, {0, 0.5}, {0, 2}} {
		eval(w[0], w[1])
	}
}

func stddev(z []float32) float64 {
	var s, s2 float64
	for _, v := range z {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(len(z))
	return math.Sqrt(s2/n - (s/n)*(s/n))
}

// TestQualityDropout trains the classifier on each phrasing and on
// copies of it with one word left out (word dropout), so that no single
// word carries an article.
func TestQualityDropout(t *testing.T) {
	clincTrain, clincVal, bankTrain, bankVal := qualitySets(t)
	type set struct {
		ps   [][]probe
		nArt int
	}
	copiesList := []int{0, 1, 2}
	var sets []set
	for _, s := range []struct{ train, val []Example }{{clincTrain, clincVal}, {bankTrain, bankVal}} {
		c := ContentFromExamples(s.train)
		k := buildFrom(t, s.train)
		defer k.Close()
		base := probeAll(t, k, s.val)
		st := set{nArt: len(k.articles)}
		texts, ys := k.examples(c)
		for _, copies := range copiesList {
			rng := rand.New(rand.NewSource(7))
			var xs []sparse
			var yy []int
			for i, tx := range texts {
				w := k.feat.words(tx)
				xs = append(xs, k.feat.vector(rawFeatures(w, nil)))
				yy = append(yy, ys[i])
				if len(w) < 3 {
					continue
				}
				for n := 0; n < copies; n++ {
					drop := rng.Intn(len(w))
					v := append(append([]string(nil), w[:drop]...), w[drop+1:]...)
					xs = append(xs, k.feat.vector(rawFeatures(v, nil)))
					yy = append(yy, ys[i])
				}
			}
			start := time.Now()
			m := trainClassifier(xs, yy, k.model.nClass, len(k.feat.idf), 0, defaultTrain)
			t.Logf("copies %d: trained on %d in %v", copies, len(xs), time.Since(start))
			ps := make([]probe, len(base))
			for i, p := range base {
				q := probe{want: p.want, bleve: p.bleve, clf: make([]float32, m.nClass)}
				fixed := k.correct(s.val[i].Text).model
				if w := k.feat.words(fixed); len(w) > 0 {
					m.logits(k.feat.vector(rawFeatures(w, nil)), q.clf)
				}
				ps[i] = q
			}
			st.ps = append(st.ps, ps)
		}
		sets = append(sets, st)
	}
	for j, copies := range copiesList {
		a, b := everyNthProbe(sets[0].ps[j])
		f := fusion{bleveWeight}
		t.Logf("dropout copies %d: clincA %.2f%%  clincB %.2f%%  bank %.2f%%", copies,
			100*top1(a, f, sets[0].nArt), 100*top1(b, f, sets[0].nArt), 100*top1(sets[1].ps[j], f, sets[1].nArt))
	}
}
