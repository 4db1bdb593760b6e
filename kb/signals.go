package kb

import (
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"
)

// Signals are the evidence behind the top hit's confidence. The
// confidence is a logistic combination of them (calibWeights below),
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
	// words, nor slips on them: "hwo", "wher"), each
	// weighed by its idf (an unseen word weighs the most), that the
	// content uses somewhere, or that are a typo of such a word (one edit
	// away, but not at the end: "charger" is not a typo of "charge" or
	// "charged"; a doubled last letter is: "lampp").
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
	// WithoutUnknown is Model with the unknown words left out of the
	// question: low when the top article rests on a word the content
	// never uses ("charger" matching "charge"). Equal to Model when all
	// words are known. Not an input of the logistic combination; below
	// restFloor it caps the confidence (RestsOnUnknown).
	WithoutUnknown float64 `json:"without_unknown"`
	// RestsOnUnknown says that the top article has next to no support
	// without the unknown words (WithoutUnknown below restFloor), so the
	// confidence is capped at WithoutUnknown.
	RestsOnUnknown bool `json:"rests_on_unknown,omitempty"`
	// Unknown lists the content words the content never uses (typos
	// aside).
	Unknown []string `json:"unknown_words,omitempty"`
	// Filler lists the greetings and courtesies ("hello", "thanks") the
	// content never uses, set aside before the search (see
	// withoutFiller).
	Filler []string `json:"filler_words,omitempty"`
	// Broad lists the articles whose titles use the question's one
	// word, when the question is that word alone ("order", "my refund")
	// and two articles or more use it: the decision then asks which of
	// them the customer means instead of answering.
	Broad []string `json:"broad,omitempty"`

	// large: the knowledge base's model was trained with largeTrain, so
	// calibWeightsLarge combine the signals.
	large bool
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
		if len(w) < 2 || stopWords[w] || stopWordSlip(w) != "" || stopWords[shorthand[w]] || strings.IndexFunc(w, unicode.IsLetter) < 0 {
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
	var known, total float64
	for _, w := range words {
		weight := float64(k.feat.unknownIDF)
		c := w
		if cw, ok := k.feat.canon[w]; ok {
			c = cw
		}
		if col, ok := k.feat.vocab[hashAdd(hashByte(fnvOffset, 'w'), c)|wordBit]; ok {
			weight = float64(k.feat.idf[col])
		}
		total += weight
		if k.knowsWord(w) {
			known += weight
		} else {
			s.Unknown = append(s.Unknown, w)
		}
	}
	s.KnownWords = known / total
}

// knowsWord says whether the articles (their titles, questions, tags,
// bodies and the synonyms) use w, a word of the same stem ("transfers",
// "transferring" for "transfer"; not "charger" for "charge"), or w is a
// typo of a word they use. Words only the negatives use are not known:
// they say a question is off-topic ("my phone screen cracked").
func (k *KB) knowsWord(w string) bool {
	if k.stems[stem(w)] {
		return true
	}
	if sh := shorthand[w]; sh != "" {
		return k.knowsWord(sh)
	}
	c := ""
	if len(w) < minSpellLen {
		c = k.spell.shortTypo(w)
	} else {
		c = typoOf(w, k.spell.candidates(w))
	}
	return c != "" && k.stems[stem(c)]
}

// typoOf returns the first of w's neighbours cs (the speller's
// candidates, best first) that w is a typo of: one that differs from w
// other than at its end, or by a doubled last letter. "" when none is.
// A different end ("charger": charge) more often makes another word than
// a slip does.
func typoOf(w string, cs []string) string {
	for _, c := range cs {
		if c != w && (!endEdit(w, c) || doubledEnd(w, c)) {
			return c
		}
	}
	return ""
}

// doubledEnd says whether w is c with its last letter typed twice
// ("lampp", "invoicee"): an edit at the end that is a typo, not another
// word.
func doubledEnd(w, c string) bool {
	n := len(w)
	return n == len(c)+1 && n >= 3 && strings.HasPrefix(w, c) && w[n-1] == w[n-2]
}

// stopWordSlip returns the stop word that w is a slip of the keyboard
// on: two neighbouring letters swapped ("hwo", "teh"), a letter typed
// twice ("whhat", "thhe") or, in a word of four letters or more, a
// letter left out ("wher", "shoud", "becuse"). Such a word carries no
// content; it is not an unknown word. A letter changed or added is left
// alone: those edits make real words too often ("hot" from "not",
// "theme" from "them"). "" when w is no such slip.
func stopWordSlip(w string) string {
	if stopWords[w] {
		return ""
	}
	if len(w) >= 4 {
		if sw := stopWordsLessALetter[w]; sw != "" {
			return sw
		}
	}
	// The first letter is tried last: people rarely slip on it ("hwo" is
	// "how" before it is "who"). The map is read with string(b), which
	// does not allocate; only a slip found is made a string.
	// No stop word is longer than 10 letters, so no slip on one longer
	// than 11; two copies of w fit in arr.
	var arr [24]byte
	if len(w) > 12 {
		return ""
	}
	b := append(arr[:0], w...)
	for j := 1; j <= len(b)-1; j++ {
		i := j % (len(b) - 1)
		if b[i] == b[i+1] {
			d := append(append(arr[len(w):len(w)], w[:i]...), w[i+1:]...)
			if stopWords[string(d)] {
				return string(d)
			}
			continue
		}
		b[i], b[i+1] = b[i+1], b[i]
		found := stopWords[string(b)]
		if found {
			return string(b)
		}
		b[i], b[i+1] = b[i+1], b[i]
	}
	return ""
}

// stopWordsLessALetter maps the stop words with one letter left out
// ("wher") to the stop word ("where"; the first in order when several
// give the same), except those that are stop words themselves ("here"
// from "there").
var stopWordsLessALetter = func() map[string]string {
	m := map[string]string{}
	for w := range stopWords {
		for _, d := range oneDeletes(w) {
			if !stopWords[d] && (m[d] == "" || w < m[d]) {
				m[d] = w
			}
		}
	}
	return m
}()

// endEdit says whether the one edit between a and b is at the end: a
// letter added, removed or changed there ("charger", "charge", "charged").
// Such pairs are more often two words than a typo.
func endEdit(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	return strings.HasPrefix(a, b) || (len(a) == len(b) && a[:len(a)-1] == b[:len(b)-1])
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
// Learnt by TestQualityCalibration on CLINC150's validation split, each
// out-of-scope question counting 10 times (see the README, "How the
// knowledge base decides"). Nil means the model's probability as it is.
var calibWeights = []float64{
	0.877,  // logit of the model's probability
	0.001,  // margin
	-2.637, // out of scope
	0.754,  // known words
	1.718,  // known weight
	1.015,  // nearest phrasing
	-0.567, // Bleve agrees
	0.795,  // Bleve's relative score
	-3.342, // bias
}

// calibWeightsLarge are calibWeights for a model trained with
// largeTrain (content of largeFrom examples or more), fit the same way
// on CLINC150's validation split with the knowledge base built by
// largeTrain.
var calibWeightsLarge = []float64{
	1.351,  // logit of the model's probability
	0.768,  // margin
	-2.624, // out of scope
	0.715,  // known words
	1.715,  // known weight
	0.462,  // nearest phrasing
	-0.372, // Bleve agrees
	-0.078, // Bleve's relative score
	-1.107, // bias
}

// confidence is the calibrated probability that the top article is right.
func (s *Signals) confidence() float64 {
	w := calibWeights
	if s.large {
		w = calibWeightsLarge
	}
	if w == nil {
		return s.Model
	}
	x := s.features()
	z := w[len(x)]
	for i, v := range x {
		z += w[i] * v
	}
	return 1 / (1 + math.Exp(-z))
}

// restFloor is the model probability of the top article without the
// unknown words below which that article rests on them: the confidence
// is then capped at that probability. Chosen on CLINC150 val halves
// (README): 0.05 and 0.1 cost no in-scope accuracy, 0.2 did.
const restFloor = 0.1

// calibrated is the confidence, capped at WithoutUnknown when the top
// article rests on unknown words; it sets RestsOnUnknown.
func (s *Signals) calibrated() float64 {
	c := s.confidence()
	s.RestsOnUnknown = len(s.Unknown) > 0 && s.WithoutUnknown < restFloor
	if s.RestsOnUnknown {
		c = math.Min(c, s.WithoutUnknown)
	}
	return c
}

// withoutWords returns q without the given words.
func withoutWords(q string, drop []string) string {
	var keep []string
	for _, w := range tokenize(q) {
		if !slices.Contains(drop, w) {
			keep = append(keep, w)
		}
	}
	return strings.Join(keep, " ")
}
