package kb

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// osa is the optimal string alignment distance of a and b over runes,
// computed in full: the reference for fuzzyTrie.within.
func osa(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// TestFuzzyTrieFindsWhatAFullComparisonFinds: for words near the terms
// and far from them, within finds exactly the terms a comparison with
// every term finds, with their distances, in sorted order.
func TestFuzzyTrieFindsWhatAFullComparisonFinds(t *testing.T) {
	k := buildShop(t, demo(t))
	var terms []string
	for term := range k.retr.postings.fields["questions"] {
		terms = append(terms, term)
	}
	terms = append(terms, "a", "ab", "ba", "café", "naïve")
	trie := newFuzzyTrie(append(terms, "")) // an empty term is left out
	slices.Sort(terms)
	terms = slices.Compact(terms)

	rng := rand.New(rand.NewPCG(1, 2))
	letters := []rune("abcdefghijklmnopqrstuvwxyzé")
	mutate := func(w string) string {
		r := []rune(w)
		for range 1 + rng.IntN(3) {
			switch i := rng.IntN(len(r) + 1); rng.IntN(4) {
			case 0: // insert
				r = slices.Insert(r, i, letters[rng.IntN(len(letters))])
			case 1: // delete
				if i < len(r) {
					r = slices.Delete(r, i, i+1)
				}
			case 2: // substitute
				if i < len(r) {
					r[i] = letters[rng.IntN(len(letters))]
				}
			case 3: // swap neighbours
				if i+1 < len(r) {
					r[i], r[i+1] = r[i+1], r[i]
				}
			}
		}
		return string(r)
	}
	queries := []string{"", "x", "refnud", "delivry", "xyzzyplugh", "caf", "naive"}
	for range 400 {
		queries = append(queries, mutate(terms[rng.IntN(len(terms))]))
	}
	found := 0
	for _, q := range queries {
		for d := 1; d <= 2; d++ {
			var got, want []string
			trie.within(q, d, func(term string, dist int) { got = append(got, fmt.Sprint(term, ":", dist)) })
			for _, term := range terms {
				if dist := osa(q, term); dist <= d {
					want = append(want, fmt.Sprint(term, ":", dist))
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("within(%q, %d) = %v, want %v", q, d, got, want)
			}
			found += len(got)
		}
	}
	if found < 400 {
		t.Errorf("only %d terms found for %d words: the comparison tests little", found, len(queries))
	}
}
