package kb

import "sync"

// phrasings keeps the tf-idf vector of every stored phrasing, by class, to
// find how close a question comes to the phrasings of an article.
type phrasings struct {
	byClass [][]sparse
	dense   sync.Pool // *[]float32 of one weight per feature column, all zero
}

func newPhrasings(xs []sparse, ys []int, nClass, nFeat int) *phrasings {
	p := &phrasings{byClass: make([][]sparse, nClass)}
	for i, x := range xs {
		p.byClass[ys[i]] = append(p.byClass[ys[i]], x)
	}
	p.dense.New = func() any {
		d := make([]float32, nFeat)
		return &d
	}
	return p
}

// nearest is the highest cosine similarity of x to a phrasing of class c
// (the vectors are L2-normalised). x is spread into a dense vector, so
// each phrasing costs one lookup per feature it has.
func (p *phrasings) nearest(x sparse, c int) float64 {
	dp := p.dense.Get().(*[]float32)
	d := *dp
	for i, col := range x.idx {
		d[col] = x.val[i]
	}
	var best float32
	for _, y := range p.byClass[c] {
		var s float32
		for i, col := range y.idx {
			s += d[col] * y.val[i]
		}
		if s > best {
			best = s
		}
	}
	for _, col := range x.idx {
		d[col] = 0
	}
	p.dense.Put(dp)
	return float64(best)
}
