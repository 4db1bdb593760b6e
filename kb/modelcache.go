package kb

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"sync"
)

// trained keeps the classifiers trained last in this process, by a hash
// of everything they were trained from. Building content whose phrasings
// are as they were (a live reload after an edit to an article's body, a
// test that builds one content many times) reuses the model instead of
// training it again: training is deterministic, so it is the model
// training would give. Two are kept, the newest first.
var trained struct {
	mu     sync.Mutex
	keys   [2][sha256.Size]byte
	models [2]*classifier
}

// trainCached is trainClassifier, reusing a model trained from the same
// examples, classes, columns and options.
func trainCached(xs []sparse, ys []int, nClass, nFeat, dense int, opt trainOptions) *classifier {
	key := trainKey(xs, ys, nClass, nFeat, dense, opt)
	trained.mu.Lock()
	for i, k := range trained.keys {
		if k == key && trained.models[i] != nil {
			m := trained.models[i]
			trained.mu.Unlock()
			return m
		}
	}
	trained.mu.Unlock()
	m := trainClassifier(xs, ys, nClass, nFeat, dense, opt)
	trained.mu.Lock()
	trained.keys[1], trained.models[1] = trained.keys[0], trained.models[0]
	trained.keys[0], trained.models[0] = key, m
	trained.mu.Unlock()
	return m
}

// trainKey hashes trainClassifier's arguments.
func trainKey(xs []sparse, ys []int, nClass, nFeat, dense int, opt trainOptions) [sha256.Size]byte {
	h := sha256.New()
	var b []byte
	put := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	for _, v := range []int{nClass, nFeat, dense, len(xs), opt.epochs, int(opt.seed), opt.seeds} {
		put(uint64(v))
	}
	for _, f := range []float64{opt.rate, opt.minGrad, opt.smooth, opt.drop} {
		put(math.Float64bits(f))
	}
	for i, x := range xs {
		put(uint64(ys[i]))
		put(uint64(len(x.idx)))
		for j, col := range x.idx {
			put(uint64(col)<<32 | uint64(math.Float32bits(x.val[j])))
		}
		h.Write(b)
		b = b[:0]
	}
	h.Write(b)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}
