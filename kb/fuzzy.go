package kb

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// A question's fuzzy words (those the speller could not place) are
// matched against the questions' terms with Bleve's fuzzy queries
// (fuzzyQueries). Bleve finds their candidate terms by building a
// Levenshtein automaton for every word, which took most of a fuzzy
// question's 1–4 ms on CLINC150. The retriever finds the same candidates
// in a trie of the field's terms and, when it can mirror Bleve's scoring
// of them, scores the question on the postings instead.
//
// Bleve's fuzzy query on a word (a match query with fuzziness), which
// the retriever mirrors:
//   - the word is analysed by the questions' analyser; no tokens is a
//     match-none query; otherwise a disjunction of one fuzzy searcher a
//     token;
//   - a token's candidates are the field's terms within the fuzziness
//     (Levenshtein distance), in the dictionary's order, then the
//     thesaurus keys within it that are not among them;
//   - no candidate, or the token alone, is a term query on the token at
//     the query's boost; otherwise a disjunction of a term query a
//     candidate, at the boost divided by its distance plus one;
//   - a term query on a thesaurus key is the disjunction of the key and
//     its synonyms, as everywhere (see postings).

// fuzzyTrie holds a field's terms for finding those within an edit
// distance of a word. It is read-only once built.
type fuzzyTrie struct {
	nodes []trieNode // nodes[0] is the root
}

// trieNode is one rune of a path; term is set where a term ends.
type trieNode struct {
	r     rune
	term  string
	first int32 // children: nodes[first : first+n], in rune order
	n     int32
}

// newFuzzyTrie builds the trie of terms.
func newFuzzyTrie(terms []string) *fuzzyTrie {
	terms = slices.Clone(terms)
	slices.Sort(terms)
	terms = slices.Compact(terms)
	if len(terms) > 0 && terms[0] == "" {
		terms = terms[1:] // no term is empty
	}
	t := &fuzzyTrie{nodes: []trieNode{{}}}
	t.fill(0, terms, 0)
	return t
}

// fill adds the children of node i: terms, sorted, share their first
// depth bytes (the path to i).
func (t *fuzzyTrie) fill(i int, terms []string, depth int) {
	if len(terms) > 0 && len(terms[0]) == depth {
		t.nodes[i].term = terms[0]
		terms = terms[1:]
	}
	// Group by the next rune; sorted bytes are sorted runes.
	type group struct {
		r     rune
		terms []string
		size  int
	}
	var groups []group
	for len(terms) > 0 {
		r, size := utf8.DecodeRuneInString(terms[0][depth:])
		j := 1
		for j < len(terms) && strings.HasPrefix(terms[j][depth:], terms[0][depth:depth+size]) {
			j++
		}
		groups = append(groups, group{r, terms[:j], size})
		terms = terms[j:]
	}
	first := int32(len(t.nodes))
	t.nodes[i].first, t.nodes[i].n = first, int32(len(groups))
	for _, g := range groups {
		t.nodes = append(t.nodes, trieNode{r: g.r})
	}
	for k, g := range groups {
		t.fill(int(first)+k, g.terms, depth+g.size)
	}
}

// within calls visit for every term within distance d of word, in
// sorted order, with its distance: the edit distance over runes in which
// swapping two neighbouring runes is one edit (the optimal string
// alignment distance), as Bleve's Levenshtein automata count.
func (t *fuzzyTrie) within(word string, d int, visit func(term string, dist int)) {
	w := []rune(word)
	rows := [][]int{make([]int, len(w)+1)}
	for j := range rows[0] {
		rows[0][j] = j
	}
	var walk func(i, depth int, parent rune)
	walk = func(i, depth int, parent rune) {
		n := t.nodes[i]
		for c := n.first; c < n.first+n.n; c++ {
			child := t.nodes[c]
			if len(rows) <= depth+1 {
				rows = append(rows, make([]int, len(w)+1))
			}
			prev, cur := rows[depth], rows[depth+1]
			cur[0] = prev[0] + 1
			best := cur[0]
			for j := 1; j <= len(w); j++ {
				cost := 1
				if w[j-1] == child.r {
					cost = 0
				}
				cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
				if depth > 0 && j > 1 && w[j-1] == parent && w[j-2] == child.r {
					cur[j] = min(cur[j], rows[depth-1][j-2]+1)
				}
				best = min(best, cur[j])
			}
			if child.term != "" && cur[len(w)] <= d {
				visit(child.term, cur[len(w)])
			}
			if best <= d {
				walk(int(c), depth+1, child.r)
			}
		}
	}
	walk(0, 0, 0)
}

// fuzzyCandidate is a term a fuzzy token matches, with its distance.
type fuzzyCandidate struct {
	term string
	dist int
}

// fuzzyToken is one token of a fuzzy word and its candidates.
type fuzzyToken struct {
	token string
	cands []fuzzyCandidate
}

// fuzzyWords analyses the fuzzy words as Bleve's fuzzy queries do and
// finds their candidates; ok is false when the postings cannot score
// them as Bleve does: a word that is not plain ASCII, a candidate that
// only the thesaurus has (Bleve adds those in map order), or more
// candidates than Bleve allows a disjunction.
func (r *retriever) fuzzyWords(words []string) (out [][]fuzzyToken, ok bool) {
	if r.fuzzy == nil {
		return nil, false
	}
	for _, w := range words {
		if !isASCII(w) {
			return nil, false
		}
		d := fuzziness(w)
		var toks []fuzzyToken
		for _, tok := range r.analyses[r.fields[r.questionsField]].Analyze([]byte(w)) {
			ft := fuzzyToken{token: string(tok.Term)}
			onlyThesaurus := false
			r.fuzzy.within(ft.token, d, func(term string, dist int) {
				if _, inField := r.postings.fields["questions"][term]; !inField {
					onlyThesaurus = true
				}
				ft.cands = append(ft.cands, fuzzyCandidate{term, dist})
			})
			if onlyThesaurus || len(ft.cands) > maxDisjuncts {
				return nil, false
			}
			toks = append(toks, ft)
		}
		out = append(out, toks)
	}
	return out, true
}

// fuzziness is the edit distance fuzzyQueries allows word.
func fuzziness(word string) int {
	if len(word) >= 8 {
		return 2
	}
	return 1
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// fuzzyNode makes the node of one fuzzy word's query (see fuzzyWords);
// synonyms are the questions' thesaurus.
func (t *tree) fuzzyNode(p *postings, toks []fuzzyToken, synonyms map[string][]string) (*node, bool) {
	if len(toks) == 0 {
		return t.node(node{}), true // match none
	}
	cs := t.children(len(toks))
	for i, ft := range toks {
		if alone(ft) {
			n, ok := t.term(p, "questions", []byte(ft.token), fuzzyBoost, synonyms[ft.token])
			if !ok {
				return nil, false
			}
			cs[i] = n
			continue
		}
		kids := t.children(len(ft.cands))
		for j, c := range ft.cands {
			n, ok := t.term(p, "questions", []byte(c.term), fuzzyBoost*(1/float64(c.dist+1)), synonyms[c.term])
			if !ok {
				return nil, false
			}
			kids[j] = n
		}
		n, ok := t.disjunction(kids)
		if !ok {
			return nil, false
		}
		cs[i] = n
	}
	return t.disjunction(cs)
}

// alone says Bleve searches the token itself: it has no candidate, or
// only itself.
func alone(ft fuzzyToken) bool {
	return len(ft.cands) == 0 || (len(ft.cands) == 1 && ft.cands[0].term == ft.token)
}

// fuzzyNodes counts the nodes and children fuzzyNode makes for words.
func fuzzyNodes(words [][]fuzzyToken, synonyms map[string][]string) (nodes, kids int) {
	term := func(term string) {
		nodes++
		if syn := synonyms[term]; len(syn) > 0 {
			nodes += 1 + len(syn)
			kids += 1 + len(syn)
		}
	}
	for _, toks := range words {
		nodes++
		kids += len(toks)
		for _, ft := range toks {
			if alone(ft) {
				term(ft.token)
				continue
			}
			nodes++
			kids += len(ft.cands)
			for _, c := range ft.cands {
				term(c.term)
			}
		}
	}
	return nodes, kids
}
