package kb

// phrasings keeps the tf-idf vector of every stored phrasing, by class, to
// find how close a question comes to the phrasings of an article.
type phrasings [][]sparse

func newPhrasings(xs []sparse, ys []int, nClass int) phrasings {
	p := make(phrasings, nClass)
	for i, x := range xs {
		p[ys[i]] = append(p[ys[i]], x)
	}
	return p
}

// nearest is the highest cosine similarity of x to a phrasing of class c
// (the vectors are L2-normalised).
func (p phrasings) nearest(x sparse, c int) float64 {
	var best float32
	for _, y := range p[c] {
		if s := dot(x, y); s > best {
			best = s
		}
	}
	return float64(best)
}

// dot is the dot product of two sparse vectors.
func dot(a, b sparse) float32 {
	var s float32
	i, j := 0, 0
	for i < len(a.idx) && j < len(b.idx) {
		switch {
		case a.idx[i] < b.idx[j]:
			i++
		case a.idx[i] > b.idx[j]:
			j++
		default:
			s += a.val[i] * b.val[j]
			i++
			j++
		}
	}
	return s
}
