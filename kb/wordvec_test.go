package kb

import (
	"context"
	"math"
	"os"
	"slices"
	"testing"
)

// vectorOf is w's word vector, dequantised.
func vectorOf(t *testing.T, w string) []float64 {
	t.Helper()
	d := make([]float32, wordDim)
	if !loadWords().add(d, w, 1) {
		t.Fatalf("no vector for %q", w)
	}
	v := make([]float64, wordDim)
	for i, x := range d {
		v[i] = float64(x)
	}
	return v
}

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

func TestWordVectorsPutWordsOfOneMeaningTogether(t *testing.T) {
	for _, c := range []struct{ w, near, far string }{
		{"parcel", "package", "password"},
		{"refund", "reimbursement", "delivery"},
		{"cancel", "cancellation", "lamp"},
		{"canada", "germany", "invoice"},
	} {
		near, far := cosine(vectorOf(t, c.w), vectorOf(t, c.near)), cosine(vectorOf(t, c.w), vectorOf(t, c.far))
		if near <= far+0.1 {
			t.Errorf("%s: %s at %.2f, %s at %.2f; want the first clearly nearer", c.w, c.near, near, c.far, far)
		}
	}
	if loadWords().add(make([]float32, wordDim), "qzxv", 1) {
		t.Error("a made-up word has a vector")
	}
}

// A word the content never uses, but whose neighbours it does, carries
// the question: the demo content names countries it delivers to, not
// Canada. Without the word vectors the bot only offered candidates.
func TestWordVectorsCarryAWordTheContentLacks(t *testing.T) {
	c, err := Load(os.DirFS("../content"))
	if err != nil {
		t.Fatal(err)
	}
	k := buildShop(t, c)
	d, err := k.Decide(context.Background(), "do you ship to canada")
	if err != nil {
		t.Fatal(err)
	}
	if d.Signals == nil || !slices.Equal(d.Signals.Unknown, []string{"canada"}) {
		t.Fatalf("signals %+v: the test needs canada unknown to the content", d.Signals)
	}
	if d.Kind != Answer || d.Article.ID != "delivery-countries" {
		t.Errorf("decision %s %v, want an answer with delivery-countries", d.Kind, d.Hits)
	}
}

// The dense columns follow the sparse ones, with norm denseWeight, and
// leave the sparse part as it was.
func TestWithDenseAppendsTheMeanWordVector(t *testing.T) {
	f := newFeaturizer(nil)
	f.fit([]string{"where is my parcel", "how do i get a refund"}, 1)
	f.fitWords([]string{"where is my parcel", "how do i get a refund"})
	words := f.words("where is my parcel")
	x := f.vector(rawFeatures(words, nil))
	n := len(x.idx)
	y := f.withDense(x, words)
	if len(x.idx) != n || len(y.idx) != n+wordDim || f.columns() != len(f.idf)+wordDim {
		t.Fatalf("sparse %d, with dense %d, columns %d", n, len(y.idx), f.columns())
	}
	var norm float64
	for i, col := range y.idx[n:] {
		if int(col) != len(f.idf)+i {
			t.Fatalf("dense column %d at %d", i, col)
		}
		norm += float64(y.val[n+i]) * float64(y.val[n+i])
	}
	if math.Abs(math.Sqrt(norm)-denseWeight) > 1e-4 {
		t.Errorf("dense norm %.4f, want %.2f", math.Sqrt(norm), denseWeight)
	}
	if z := f.withDense(x, []string{"qzxv"}); len(z.idx) != n {
		t.Errorf("words without vectors added %d columns", len(z.idx)-n)
	}
}
