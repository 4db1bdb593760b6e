package kb

import (
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// featurizer turns text into the sparse vector the classifier reads: word
// unigrams and bigrams and character n-grams inside words, weighted by
// sublinear tf-idf and L2-normalised. Synonyms are folded onto one
// canonical word first, so "parcel" and "package" share their features.
type featurizer struct {
	canon   map[string]string // single word -> canonical word
	phrases []phrase          // multi-word synonyms, longest first
	vocab   map[uint64]int32  // feature hash -> column
	idf     []float32         // by column
	// unknownIDF weighs features never seen in training. They have no
	// column, but they still count in the vector's norm, so a question made
	// mostly of unknown words gets small weights and a low confidence.
	unknownIDF float32
	// wordIDF weighs each word in a question's mean word vector (see
	// withDense); a word the training texts never use gets
	// wordUnknownIDF. Nil: no dense columns (a model stored before them).
	wordIDF        map[string]float32
	wordUnknownIDF float32
}

type phrase struct {
	words []string
	canon string
}

// Character n-gram lengths, taken inside each word padded with spaces.
var (
	minGram = 2
	maxGram = 5
	// wordWeight scales word features against the far more numerous
	// character n-grams.
	wordWeight = 1.5
)

func newFeaturizer(synonyms [][]string) *featurizer {
	f := &featurizer{canon: map[string]string{}}
	for _, g := range synonyms {
		// The canonical form is the group's first single word, or its
		// first phrase with the spaces removed.
		canon := ""
		for _, term := range g {
			if !strings.Contains(term, " ") {
				canon = term
				break
			}
		}
		if canon == "" {
			canon = strings.ReplaceAll(g[0], " ", "")
		}
		for _, term := range g {
			words := tokenize(term)
			switch len(words) {
			case 0:
			case 1:
				if _, taken := f.canon[words[0]]; !taken {
					f.canon[words[0]] = canon
				}
			default:
				f.phrases = append(f.phrases, phrase{words: words, canon: canon})
			}
		}
	}
	sort.SliceStable(f.phrases, func(i, j int) bool { return len(f.phrases[i].words) > len(f.phrases[j].words) })
	return f
}

// tokenize lower-cases s and splits it into words of letters and digits.
// Apostrophes vanish ("don't" -> "dont"); everything else separates words.
func tokenize(s string) []string {
	// The words are cut from one lower-cased copy of s: one string for
	// all of them rather than one per word.
	var arr [256]byte
	var ends [32]int
	buf, cuts, in := arr[:0], ends[:0], false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
			in = true
		case r == '\'' || r == '’':
		default:
			if in {
				cuts, in = append(cuts, len(buf)), false
			}
		}
	}
	if in {
		cuts = append(cuts, len(buf))
	}
	if len(cuts) == 0 {
		return nil
	}
	all := string(buf)
	words := make([]string, len(cuts))
	start := 0
	for i, end := range cuts {
		words[i], start = all[start:end], end
	}
	return words
}

// words returns the tokens of s with synonyms folded.
func (f *featurizer) words(s string) []string {
	toks := tokenize(s)
	if len(f.phrases) == 0 && len(f.canon) == 0 {
		return toks
	}
	out := toks[:0:0]
	for i := 0; i < len(toks); {
		matched := false
		for _, p := range f.phrases {
			if i+len(p.words) <= len(toks) && equalWords(toks[i:i+len(p.words)], p.words) {
				out = append(out, p.canon)
				i += len(p.words)
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		if c, ok := f.canon[toks[i]]; ok {
			out = append(out, c)
		} else {
			out = append(out, toks[i])
		}
		i++
	}
	return out
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FNV-1a, inlined so that hashing a feature allocates nothing.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hashByte(h uint64, c byte) uint64 {
	h ^= uint64(c)
	return h * fnvPrime
}

// rawFeatures appends the hashes of every feature of the given words, with
// repetition (a feature that occurs twice is listed twice).
// wordBit marks the hashes of word features, which are weighted apart.
const wordBit = 1 << 63

func rawFeatures(words []string, dst []uint64) []uint64 {
	for i, w := range words {
		dst = append(dst, hashAdd(hashByte(fnvOffset, 'w'), w)|wordBit)
		if i+1 < len(words) {
			h := hashAdd(hashByte(fnvOffset, 'b'), w)
			h = hashAdd(hashByte(h, ' '), words[i+1])
			dst = append(dst, h|wordBit)
		}
		padded := " " + w + " "
		for n := minGram; n <= maxGram; n++ {
			for s := 0; s+n <= len(padded); s++ {
				if n == 2 && (s == 0 || s+n == len(padded)) && len(padded) > 4 {
					// Edge bigrams of long words say little; skip them.
					continue
				}
				dst = append(dst, hashAdd(hashByte(fnvOffset, byte('0'+n)), padded[s:s+n])&^wordBit)
			}
		}
	}
	return dst
}

// sparse is a feature vector: columns and their weights, sorted by column.
type sparse struct {
	idx []int32
	val []float32
}

// vector weighs raw feature hashes with the learnt vocabulary and idf.
func (f *featurizer) vector(raw []uint64) sparse {
	v, _ := f.vectorKnown(raw)
	return v
}

// vectorKnown is vector, and the share of the vector's squared norm that
// falls on learnt features (1 when every feature is known).
func (f *featurizer) vectorKnown(raw []uint64) (sparse, float64) {
	sort.Slice(raw, func(i, j int) bool { return raw[i] < raw[j] })
	var v sparse
	var norm, known float64
	for i := 0; i < len(raw); {
		j := i
		for j < len(raw) && raw[j] == raw[i] {
			j++
		}
		tf := 1 + math.Log(float64(j-i))
		if raw[i]&wordBit != 0 {
			tf *= wordWeight
		}
		col, ok := f.vocab[raw[i]]
		if ok {
			w := tf * float64(f.idf[col])
			v.idx = append(v.idx, col)
			v.val = append(v.val, float32(w))
			norm += w * w
			known += w * w
		} else {
			w := tf * float64(f.unknownIDF)
			norm += w * w
		}
		i = j
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range v.val {
			v.val[i] *= inv
		}
		known /= norm
	}
	return v, known
}

// fit learns the vocabulary and idf from the training texts. Features seen
// in fewer than minDF texts are dropped: they rarely generalise and they
// cost memory in every class.
func (f *featurizer) fit(texts []string, minDF int) {
	df := map[uint64]int{}
	var raw []uint64
	for _, t := range texts {
		raw = rawFeatures(f.words(t), raw[:0])
		sort.Slice(raw, func(i, j int) bool { return raw[i] < raw[j] })
		for i, h := range raw {
			if i == 0 || raw[i-1] != h {
				df[h]++
			}
		}
	}
	keys := make([]uint64, 0, len(df))
	for h, n := range df {
		if n >= minDF {
			keys = append(keys, h)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	f.vocab = make(map[uint64]int32, len(keys))
	f.idf = make([]float32, len(keys))
	for i, h := range keys {
		f.vocab[h] = int32(i)
		f.idf[i] = smoothIDF(len(texts), df[h])
	}
	f.unknownIDF = smoothIDF(len(texts), 0)
}

// fitWords learns the idf of whole words for withDense.
func (f *featurizer) fitWords(texts []string) {
	df := map[string]int{}
	for _, t := range texts {
		ws := f.words(t)
		for i, w := range ws {
			if !slices.Contains(ws[:i], w) {
				df[w]++
			}
		}
	}
	f.wordIDF = make(map[string]float32, len(df))
	for w, c := range df {
		f.wordIDF[w] = smoothIDF(len(texts), c)
	}
	f.wordUnknownIDF = smoothIDF(len(texts), 0)
}

// smoothIDF is the smoothed inverse document frequency of a feature found in
// df of n texts; df 0 gives the weight of one never seen.
func smoothIDF(n, df int) float32 {
	return float32(math.Log(float64(1+n)/float64(1+df)) + 1)
}

// columns is how many features the classifier reads: the sparse ones,
// then the dense ones.
func (f *featurizer) columns() int {
	if f.wordIDF == nil {
		return len(f.idf)
	}
	return len(f.idf) + wordDim
}

// withDense returns x with the dense columns added: the mean of the
// words' vectors (wordvec.go), each weighed by its idf, scaled to norm
// denseWeight. Words without a vector are left out; when none has one,
// x is returned as it is. x itself is not changed.
func (f *featurizer) withDense(x sparse, words []string) sparse {
	if f.wordIDF == nil {
		return x
	}
	var d [wordDim]float32
	vs := loadWords()
	for _, w := range words {
		idf, ok := f.wordIDF[w]
		if !ok {
			idf = f.wordUnknownIDF
		}
		vs.add(d[:], w, idf)
	}
	var norm float64
	for _, v := range d {
		norm += float64(v) * float64(v)
	}
	if norm == 0 { // no word has a vector
		return x
	}
	scale := float32(denseWeight / math.Sqrt(norm))
	n := len(x.idx)
	y := sparse{idx: make([]int32, n, n+wordDim), val: make([]float32, n, n+wordDim)}
	copy(y.idx, x.idx)
	copy(y.val, x.val)
	base := int32(len(f.idf))
	for i, v := range d {
		y.idx = append(y.idx, base+int32(i))
		y.val = append(y.val, v*scale)
	}
	return y
}

// transform is words + rawFeatures + vector for one text: its sparse
// part only.
func (f *featurizer) transform(text string) sparse {
	return f.vector(rawFeatures(f.words(text), nil))
}

// stem is the Snowball (Porter 2) English stem of a lower-case word.
func stem(w string) string {
	env := snowballstem.NewEnv(w)
	english.Stem(env)
	return env.Current()
}
