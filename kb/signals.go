package kb

import (
	"math"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"
)

// Signals are the evidence behind the top hit's confidence. The
// confidence is a logistic combination of them (see calibrate below),
// learnt on labelled sets; Signals says why it is high or low.
type Signals struct {
	// Model is the top article's probability from the classifier and
	// Bleve together (the fused softmax), before calibration.
	Model float64 `json:"model"`
	// Margin is Model minus the second article's probability.
	Margin float64 `json:"margin"`
	// OutOfScope is the fused probability of the "none of them" class
	// learnt from the negatives (0 without negatives).
	OutOfScope float64 `json:"out_of_scope"`
	// KnownWords is the share of the question's content words (not stop
	// words) that the content uses somewhere.
	KnownWords float64 `json:"known_words"`
	// KnownWeight is the share of the question's feature weight (tf-idf,
	// words and character n-grams) that the classifier has learnt.
	KnownWeight float64 `json:"known_weight"`
	// Nearest is the cosine similarity of the question to the closest
	// stored phrasing of the top article (1 for one of its own phrasings).
	Nearest float64 `json:"nearest"`
	// BleveAgrees says whether Bleve's best article is the top one.
	BleveAgrees bool `json:"bleve_agrees"`
	// Bleve is the top article's Bleve score relative to Bleve's best.
	Bleve float64 `json:"bleve"`
	// Unknown lists the content words the content never uses.
	Unknown []string `json:"unknown_words,omitempty"`
}

// stopWords are Bleve's English stop words (Snowball's list), tokenized
// as questions are.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(string(en.EnglishStopWords), "\n") {
		if i := strings.IndexByte(line, '|'); i >= 0 {
			line = line[:i]
		}
		for _, w := range tokenize(line) {
			m[w] = true
		}
	}
	return m
}()

// contentWords returns the words of q that carry meaning: not stop words,
// not numbers, at least two letters.
func contentWords(q string) []string {
	var out []string
	for _, w := range tokenize(q) {
		if len(w) < 2 || stopWords[w] || strings.IndexFunc(w, unicode.IsLetter) < 0 {
			continue
		}
		out = append(out, w)
	}
	return out
}

// knownWords fills s.KnownWords and s.Unknown for question q.
func (k *KB) knownWords(q string, s *Signals) {
	words := contentWords(q)
	if len(words) == 0 {
		s.KnownWords = 1
		return
	}
	known := 0
	for _, w := range words {
		if _, ok := k.spell.freq[w]; ok {
			known++
		} else {
			s.Unknown = append(s.Unknown, w)
		}
	}
	s.KnownWords = float64(known) / float64(len(words))
}

// logit is the inverse of the logistic function, clamped away from ±∞.
func logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-4), 1-1e-4)
	return math.Log(p / (1 - p))
}

// features are the inputs of the calibration.
func (s *Signals) features() []float64 {
	agree := 0.0
	if s.BleveAgrees {
		agree = 1
	}
	return []float64{logit(s.Model), s.Margin, s.OutOfScope, s.KnownWords, s.KnownWeight, s.Nearest, agree, s.Bleve}
}

// calibWeights is the logistic combination of the signals' features into
// the confidence: weights in the order of features, then the bias.
// Learnt by TestQualityCalibration; see the README, "How the knowledge
// base decides". Nil means the model's probability as it is.
var calibWeights []float64

// confidence is the calibrated probability that the top article is right.
func (s *Signals) confidence() float64 {
	if calibWeights == nil {
		return s.Model
	}
	x := s.features()
	z := calibWeights[len(x)]
	for i, v := range x {
		z += calibWeights[i] * v
	}
	return 1 / (1 + math.Exp(-z))
}
