package kb

// speller corrects words the content never uses to the closest word it
// does, one edit away (insert, delete, substitute or swap two neighbours).
// It is a deletion index: a word and every string one deletion from it
// point to the known words that reduce to the same string.
type speller struct {
	freq    map[string]int      // known word -> occurrences in the content
	deletes map[string][]string // word or one-deletion variant -> known words
}

// minSpellLen is the shortest word worth correcting: short words have too
// many neighbours one edit away.
const minSpellLen = 4

func newSpeller(freq map[string]int) *speller {
	s := &speller{freq: freq, deletes: map[string][]string{}}
	for w := range freq {
		if len(w) < minSpellLen-1 {
			continue
		}
		s.deletes[w] = append(s.deletes[w], w)
		for _, d := range oneDeletes(w) {
			s.deletes[d] = append(s.deletes[d], w)
		}
	}
	return s
}

// oneDeletes returns w with each one of its bytes removed.
func oneDeletes(w string) []string {
	out := make([]string, 0, len(w))
	for i := range len(w) {
		d := w[:i] + w[i+1:]
		if i > 0 && w[i] == w[i-1] {
			continue // same as the previous deletion
		}
		out = append(out, d)
	}
	return out
}

// correct returns the known word closest to w, the most frequent one among
// equals, or "" when none is one edit away. Known words are returned as
// they are.
func (s *speller) correct(w string) string {
	if _, ok := s.freq[w]; ok {
		return w
	}
	if len(w) < minSpellLen {
		return ""
	}
	best, bestFreq := "", 0
	consider := func(cands []string) {
		for _, c := range cands {
			if s.freq[c] > bestFreq && oneEdit(w, c) {
				best, bestFreq = c, s.freq[c]
			}
		}
	}
	consider(s.deletes[w])
	for _, d := range oneDeletes(w) {
		consider(s.deletes[d])
	}
	return best
}

// oneEdit reports whether a and b differ by exactly one insertion,
// deletion, substitution or transposition of neighbours.
func oneEdit(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	switch len(b) - len(a) {
	case 0:
		diff := -1
		for i := range len(a) {
			if a[i] != b[i] {
				if diff >= 0 {
					// A second difference is fine only as a swap of neighbours.
					return i == diff+1 && a[diff] == b[i] && a[i] == b[diff] && a[i+1:] == b[i+1:]
				}
				diff = i
			}
		}
		return diff >= 0
	case 1:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		return a[i:] == b[i+1:]
	}
	return false
}
