package kb

import (
	"math"
	"path/filepath"
	"testing"
)

// TestQualityAddons adds a second scorer's class scores to the fused
// logits of the shipped model: class prototypes (cosine to the class's
// mean phrasing vector) and multinomial naive Bayes over the tf-idf
// vectors.
func TestQualityAddons(t *testing.T) {
	dir := qualityData(t)
	clincTrain := readSet(t, filepath.Join(dir, "clinc150/train.jsonl"))
	clincVal := readSet(t, filepath.Join(dir, "clinc150/val.jsonl"))
	bank := readSet(t, filepath.Join(dir, "banking77/train.jsonl"))
	bankVal, bankTrain := everyNth(bank, 5, 4)
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
			fixed, _ := k.correct(e.Text)
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
	dir := qualityData(t)
	clincTrain := readSet(t, filepath.Join(dir, "clinc150/train.jsonl"))
	clincVal := readSet(t, filepath.Join(dir, "clinc150/val.jsonl"))
	bank := readSet(t, filepath.Join(dir, "banking77/train.jsonl"))
	bankVal, bankTrain := everyNth(bank, 5, 4)
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
