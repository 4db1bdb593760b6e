package kb

import (
	"math/rand"
	"runtime"
	"slices"
	"testing"
)

// TestSmallContentIsTrainedOnSeveralSeeds: small content gets up to
// maxSeeds models, fewer as it grows, large content one.
func TestSmallContentIsTrainedOnSeveralSeeds(t *testing.T) {
	for _, tc := range []struct{ n, seeds int }{{60, 8}, {700, 8}, {1500, 4}, {1999, 3}, {2000, 1}, {15000, 1}} {
		opt, large := trainFor(tc.n)
		if got := max(opt.seeds, 1); got != tc.seeds || large != (tc.n >= largeFrom) {
			t.Errorf("trainFor(%d): %d seeds (large %v), want %d", tc.n, got, large, tc.seeds)
		}
	}
}

// TestAnEnsembleIsTheMeanOfItsModels trains three seeds together and one
// by one: the ensemble's weights are the mean of the three models', to
// the bit, however many seeds train at once (one, two, or all three).
func TestAnEnsembleIsTheMeanOfItsModels(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	const nFeat, nClass = 40, 4
	var xs []sparse
	var ys []int
	for i := range 120 {
		x := sparse{}
		for col := range int32(nFeat) {
			if rng.Intn(5) == 0 {
				x.idx = append(x.idx, col)
				x.val = append(x.val, rng.Float32())
			}
		}
		xs, ys = append(xs, x), append(ys, i%nClass)
	}
	opt := defaultTrain
	opt.seeds = 3
	var got *classifier
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		m := trainClassifier(xs, ys, nClass, nFeat, 0, opt)
		if got != nil && (!slices.Equal(got.w, m.w) || !slices.Equal(got.b, m.b)) {
			t.Errorf("with %d processors the ensemble differs from the one with 1", procs)
		}
		got = m
	}
	sumW, sumB := make([]float32, nFeat*nClass), make([]float32, nClass)
	var first []float32
	for s := range int64(3) {
		o := defaultTrain
		o.seed += s
		m := trainOne(xs, ys, nClass, nFeat, 0, o)
		if first == nil {
			first = m.w
		}
		axpy(sumW, m.w, 1)
		axpy(sumB, m.b, 1)
	}
	divide(sumW, 3)
	divide(sumB, 3)
	if !slices.Equal(got.w, sumW) || !slices.Equal(got.b, sumB) {
		t.Error("the ensemble's weights are not the mean of its models'")
	}
	if slices.Equal(got.w, first) {
		t.Error("the ensemble is its first model: the seeds made no difference")
	}
}

// TestBuildingTheSamePhrasingsAgainReusesTheModel: a second build of the
// shop's content, and one with an article's body edited, reuse the
// trained model; a changed phrasing trains a new one.
func TestBuildingTheSamePhrasingsAgainReusesTheModel(t *testing.T) {
	first := buildShop(t, shop(t))
	again := buildShop(t, shop(t))
	if again.model != first.model {
		t.Error("the same content was trained again")
	}
	c := shop(t)
	c.Articles[0].Body += "\n\nOne more sentence."
	if k := buildShop(t, c); k.model != first.model {
		t.Error("an edit to a body, which the classifier does not learn from, trained it again")
	}
	c = shop(t)
	c.Articles[0].Questions = append(c.Articles[0].Questions, "a phrasing never seen before")
	k := buildShop(t, c)
	if k.model == first.model {
		t.Fatal("a new phrasing reused the old model")
	}
	if slices.Equal(k.model.w, first.model.w) {
		t.Error("the new phrasing trained the same weights")
	}
}
