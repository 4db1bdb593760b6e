package kb

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
)

// sameTokens checks that asciiTokens splits q as Bleve's unicode
// tokenizer does, or declines it.
func sameTokens(t *testing.T, q string) (handled bool) {
	t.Helper()
	got, ok := asciiTokens([]byte(q))
	if !ok {
		return false
	}
	want := unicode.NewUnicodeTokenizer().Tokenize([]byte(q))
	if len(got) != len(want) {
		t.Errorf("%q: %d tokens %v, Bleve %d %v", q, len(got), got, len(want), want)
		return true
	}
	for i := range got {
		g, w := got[i], want[i]
		if string(g.Term) != string(w.Term) || g.Start != w.Start || g.End != w.End || g.Position != w.Position || g.Type != w.Type {
			t.Errorf("%q: token %d is %v, Bleve's %v", q, i, g, w)
		}
	}
	return true
}

func TestASCIITokensSplitAsBleve(t *testing.T) {
	for _, q := range []string{
		"", " ", "?!", "how long does delivery take to germany", "Where's my PARCEL?", "don't", "'quoted'",
		"e.g. www.example.com", "3.5 kg", "10,000 or 1,5", "1;2 a;b", "a.1 1.a a1.2 1a.b", "a..b", "a.'b",
		"x-ray (new) \"fast\" & /slow", "tab\tnew\nline", "ends with.", "'", "..", "1,", ",1",
	} {
		if !sameTokens(t, q) {
			t.Errorf("%q: not handled", q)
		}
	}
	for _, q := range []string{"a_b", "time: 10:30", "ana@example.com", "café", "#1", "a\rb"} {
		if _, ok := asciiTokens([]byte(q)); ok {
			t.Errorf("%q handled, want it left to Bleve", q)
		}
	}
	// Random text of the handled bytes, dense in the joining ones.
	const alphabet = "aZ09 .',;?!-\"()/&\t\n"
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		sameTokens(t, b.String())
	}
}

func FuzzASCIITokens(f *testing.F) {
	f.Add("Where's my parcel? 10,000 e.g. 3.5")
	f.Fuzz(func(t *testing.T, q string) { sameTokens(t, q) })
}
