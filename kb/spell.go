package kb

import "sort"

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

// correct returns the known word closest to w, or "" when none is one
// edit away; known words are returned as they are. See candidates.
func (s *speller) correct(w string) string {
	if c := s.candidates(w); len(c) > 0 {
		return c[0]
	}
	return ""
}

// maxSpellCandidates is how many corrections one unknown word may add.
const maxSpellCandidates = 3

// candidates returns the known words one edit away from w, best first:
// those that keep w's first letter (people rarely mistype the first
// letter), then the more frequent. When several keep the first letter,
// up to three are returned ("mony" -> money, many): the search weighs
// them against the rest of the question better than a guess can. A known
// word is returned as it is; nil when nothing is close.
func (s *speller) candidates(w string) []string {
	if _, ok := s.freq[w]; ok {
		return []string{w}
	}
	if len(w) < minSpellLen {
		return nil
	}
	seen := map[string]bool{}
	var cands []string
	consider := func(cs []string) {
		for _, c := range cs {
			if !seen[c] && oneEdit(w, c) {
				seen[c] = true
				cands = append(cands, c)
			}
		}
	}
	consider(s.deletes[w])
	for _, d := range oneDeletes(w) {
		consider(s.deletes[d])
	}
	sameFirst := func(c string) bool { return c[0] == w[0] }
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if sameFirst(a) != sameFirst(b) {
			return sameFirst(a)
		}
		if s.freq[a] != s.freq[b] {
			return s.freq[a] > s.freq[b]
		}
		return a < b
	})
	n := 0
	for n < len(cands) && n < maxSpellCandidates && sameFirst(cands[n]) {
		n++
	}
	return cands[:max(n, min(1, len(cands)))]
}

// shortTypo returns the known word that w, a word of three letters the
// content never uses, is a typo of: the most frequent of the four-letter
// words with the same first letter that w is with one letter inside left
// out ("gft" -> gift, "sod" -> sold; not "car" -> card, which is a letter
// added at the end). "" when there is none.
func (s *speller) shortTypo(w string) string {
	if len(w) != minSpellLen-1 {
		return ""
	}
	if _, ok := s.freq[w]; ok {
		return ""
	}
	best := ""
	for _, c := range s.deletes[w] {
		if len(c) == minSpellLen && c[0] == w[0] && !endEdit(w, c) &&
			(best == "" || s.freq[c] > s.freq[best] || (s.freq[c] == s.freq[best] && c < best)) {
			best = c
		}
	}
	return best
}

// shorthand are chat abbreviations and the words they stand for. A
// question reads with the word ("wat payment do u take" as "what
// payment do you take") unless the content uses the abbreviation.
var shorthand = map[string]string{
	"u": "you", "ya": "you", "ur": "your", "r": "are",
	"wat": "what", "wot": "what", "wut": "what",
	"abt": "about", "bc": "because", "cuz": "because", "coz": "because",
	"b4": "before", "thru": "through", "tho": "though",
	"tmrw": "tomorrow", "tmr": "tomorrow", "2day": "today", "nite": "night",
	"acct": "account", "pw": "password", "pwd": "password", "addr": "address",
	"msg": "message", "pic": "picture", "pics": "pictures",
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
