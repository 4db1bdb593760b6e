package kb

import (
	"maps"
	"math"
	"strings"

	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// Fingerprint is a question as the knowledge base's matching reads it: the
// classifier's features (words with the content's synonyms folded, then
// stemmed and without stop words; word pairs; character n-grams inside words), weighted by sublinear tf and the
// content's idf. Unlike the classifier's own vector it keeps the words the
// content never uses, weighted as rare: two questions about something the
// knowledge base lacks ("gift cards") still resemble each other, which is
// what grouping unanswered questions needs.
type Fingerprint map[uint64]float32

// plainWords say nothing about what a question is about: the English
// stop words (stopWords) and the courtesies and contractions questions
// are wrapped in. Every question shares them, so they only blur the
// difference between two.
var plainWords = func() map[string]bool {
	m := maps.Clone(stopWords)
	for _, w := range strings.Fields(`please hi hello thanks any some im ive id dont doesnt cant wont isnt arent`) {
		m[w] = true
	}
	return m
}()

// Fingerprint returns q's fingerprint, L2-normalised (empty when q has no
// words).
func (k *KB) Fingerprint(q string) Fingerprint {
	var words []string
	for _, w := range k.feat.words(q) {
		if !plainWords[w] {
			// Stemmed as Bleve stems the index: "lamps" and "lamp",
			// "installing" and "install" are one word.
			words = append(words, porterstemmer.StemString(w))
		}
	}
	raw := rawFeatures(words, nil)
	f := make(Fingerprint, len(raw))
	counts := map[uint64]int{}
	for _, h := range raw {
		counts[h]++
	}
	var norm float64
	for h, n := range counts {
		tf := 1 + math.Log(float64(n))
		if h&wordBit != 0 {
			tf *= wordWeight
		}
		idf := k.feat.unknownIDF
		if col, ok := k.feat.vocab[h]; ok {
			idf = k.feat.idf[col]
		}
		w := tf * float64(idf)
		f[h] = float32(w)
		norm += w * w
	}
	f.scale(norm)
	return f
}

func (f Fingerprint) scale(norm float64) {
	if norm <= 0 {
		return
	}
	inv := float32(1 / math.Sqrt(norm))
	for h := range f {
		f[h] *= inv
	}
}

// Similarity is the cosine of f and g: 1 for the same question, 0 for
// questions that share no feature. Both must be normalised (as
// KB.Fingerprint and Centroid return them).
func (f Fingerprint) Similarity(g Fingerprint) float64 {
	if len(g) < len(f) {
		f, g = g, f
	}
	var dot float64
	for h, w := range f {
		dot += float64(w) * float64(g[h])
	}
	return dot
}

// Centroid returns the normalised mean of the fingerprints: what a group
// of questions has in common.
func Centroid(fs ...Fingerprint) Fingerprint {
	c := Fingerprint{}
	for _, f := range fs {
		for h, w := range f {
			c[h] += w
		}
	}
	var norm float64
	for _, w := range c {
		norm += float64(w) * float64(w)
	}
	c.scale(norm)
	return c
}
