package kb

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// retriever asks a KB's Bleve index for the articles of a question. It
// builds the same query as retrieve and gets the same scores, with work
// done once per index instead of once per question: the analysers are
// looked up once, a question is tokenised once for all of them, and the
// synonyms of every term are read from the index when it is opened,
// rather than looked up in the index for every term and field of every
// question. The index must not change after newRetriever (a KB's never
// does: kb.Live swaps in a new KB). A retriever is safe for concurrent
// use.
type retriever struct {
	idx bleve.Index
	// tokenizer is the analysers' common tokenizer, or nil when they do
	// not share one (each then analyses the question itself).
	tokenizer analysis.Tokenizer
	// unicode says tokenizer is Bleve's unicode tokenizer, which
	// asciiTokens stands for on plain text.
	unicode bool
	// analyses are the distinct analysers of the fields; field i of
	// fieldBoosts uses analyses[fields[i]].
	analyses []analysis.Analyzer
	fields   []int
	// synonyms is the thesaurus by field and term, as Bleve extracts it
	// from a query's term queries; nil when the content has none.
	synonyms search.FieldTermSynonymMap
	// postings scores most questions without Bleve's searchers.
	postings *postings
	// fuzzy holds the questions' terms and thesaurus keys, for the
	// candidates of fuzzy words (see fuzzyWords); questionsField is the
	// questions' index in fieldBoosts.
	fuzzy          *fuzzyTrie
	questionsField int
}

func newRetriever(idx bleve.Index) (*retriever, error) {
	m := idx.Mapping()
	r := &retriever{idx: idx, fields: make([]int, len(fieldBoosts))}
	names := map[string]int{}
	for i, f := range fieldBoosts {
		name := m.AnalyzerNameForPath(f.name)
		j, ok := names[name]
		if !ok {
			a := m.AnalyzerNamed(name)
			if a == nil {
				return nil, fmt.Errorf("no analyzer %q for field %s", name, f.name)
			}
			j = len(r.analyses)
			names[name] = j
			r.analyses = append(r.analyses, a)
		}
		r.fields[i] = j
	}
	for i, a := range r.analyses {
		d, ok := a.(*analysis.DefaultAnalyzer)
		if !ok || len(d.CharFilters) > 0 || (i > 0 && d.Tokenizer != r.tokenizer) {
			r.tokenizer = nil
			break
		}
		r.tokenizer = d.Tokenizer
	}
	_, r.unicode = r.tokenizer.(*unicode.UnicodeTokenizer)
	syn, err := thesaurus(idx)
	if err != nil {
		return nil, err
	}
	if sm, ok := m.(mapping.SynonymMapping); ok && len(syn) > 0 {
		r.synonyms = search.FieldTermSynonymMap{}
		for _, f := range fieldBoosts {
			if sm.SynonymSourceForPath(f.name) == synonymSource {
				r.synonyms[f.name] = syn
			}
		}
	}
	fields := make([]string, len(fieldBoosts))
	for i, f := range fieldBoosts {
		fields[i] = f.name
	}
	if r.postings, err = readPostings(idx, fields); err != nil {
		return nil, err
	}
	r.questionsField = slices.Index(fields, "questions")
	if qs := r.postings.fields["questions"]; r.questionsField >= 0 && qs != nil {
		terms := slices.Collect(maps.Keys(qs))
		for key := range r.synonyms["questions"] {
			terms = append(terms, key)
		}
		r.fuzzy = newFuzzyTrie(terms)
	}
	return r, nil
}

// thesaurus reads every term of the content's synonym collection with its
// synonyms, in the order Bleve's synonym extraction lists them.
func thesaurus(idx bleve.Index) (map[string][]string, error) {
	ai, err := idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("read synonyms: %w", err)
	}
	ir, err := ai.Reader()
	if err != nil {
		return nil, fmt.Errorf("read synonyms: %w", err)
	}
	defer ir.Close()
	tr, ok := ir.(index.ThesaurusReader)
	if !ok {
		return nil, nil
	}
	keys, err := tr.ThesaurusKeys(synonymSource)
	if err != nil {
		return nil, fmt.Errorf("read synonyms: %w", err)
	}
	defer keys.Close()
	out := map[string][]string{}
	for {
		e, err := keys.Next()
		if err != nil {
			return nil, fmt.Errorf("read synonyms: %w", err)
		}
		if e == nil {
			break
		}
		syns, err := synonymsOf(tr, e.Term)
		if err != nil {
			return nil, err
		}
		if len(syns) > 0 {
			out[e.Term] = syns
		}
	}
	return out, nil
}

// synonymsOf reads term's synonyms as Bleve's query synonym extraction
// does.
func synonymsOf(tr index.ThesaurusReader, term string) ([]string, error) {
	r, err := tr.ThesaurusTermReader(context.Background(), synonymSource, []byte(term))
	if err != nil {
		return nil, fmt.Errorf("read synonyms of %q: %w", term, err)
	}
	defer r.Close()
	var out []string
	for {
		s, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("read synonyms of %q: %w", term, err)
		}
		if s == "" {
			return out, nil
		}
		out = append(out, s)
	}
}

// retrieve asks Bleve for the best k articles for q and returns their
// scores by article id, exactly as the package function retrieve does.
// Most queries, with or without fuzzy words, are scored on the postings,
// not by Bleve.
func (r *retriever) retrieve(ctx context.Context, q string, fuzzy []string, k int) (map[string]float64, error) {
	terms := r.analyse(q)
	if r.postings != nil {
		fz, ok := r.fuzzyWords(fuzzy)
		if ok || len(fuzzy) == 0 {
			if root, ok := r.tree(terms, fz); ok {
				return r.postings.score(root, k), nil
			}
		}
	}
	qs := make([]query.Query, 0, len(fieldBoosts)+len(fuzzy))
	for i, f := range fieldBoosts {
		ts := make([]string, len(terms[r.fields[i]]))
		for j, t := range terms[r.fields[i]] {
			ts[j] = string(t)
		}
		qs = append(qs, termsQuery(f.name, f.boost, ts))
	}
	req := bleve.NewSearchRequestOptions(nil, k, 0, false)
	if len(fuzzy) > 0 {
		// Fuzzy queries look up the synonyms of the words they expand to:
		// Bleve's own extraction covers them.
		qs = append(qs, fuzzyQueries(fuzzy)...)
	} else if r.synonyms != nil {
		req.PreSearchData = map[string]interface{}{search.SynonymPreSearchDataKey: r.synonyms}
	}
	req.Query = bleve.NewDisjunctionQuery(qs...)
	return searchScores(ctx, r.idx, req)
}

// tree is the query of retrieve for terms (by analyser) and the fuzzy
// words (see fuzzyWords) as postings scores it; ok is false when
// postings cannot score it as Bleve does.
func (r *retriever) tree(terms [][][]byte, fuzzy [][]fuzzyToken) (*node, bool) {
	// Room for every node: the root, a node per field, and per term a
	// leaf, or a disjunction of the term and its synonyms; then the
	// fuzzy words'.
	fn, fk := fuzzyNodes(fuzzy, r.synonyms["questions"])
	nodes, kids := 1+len(fieldBoosts)+fn, len(fieldBoosts)+len(fuzzy)+fk
	for i, f := range fieldBoosts {
		for _, t := range terms[r.fields[i]] {
			nodes++
			kids++
			if syn := r.synonyms[f.name][string(t)]; len(syn) > 0 {
				nodes += 1 + len(syn)
				kids += 1 + len(syn)
			}
		}
	}
	tr := newTree(nodes, kids)
	fields := tr.children(len(fieldBoosts) + len(fuzzy))
	for i, f := range fieldBoosts {
		ts := terms[r.fields[i]]
		if len(ts) == 0 {
			// A match-none query: no weight, no documents, but it counts
			// among the disjuncts.
			fields[i] = tr.node(node{})
			continue
		}
		cs := tr.children(len(ts))
		for j, t := range ts {
			c, ok := tr.term(r.postings, f.name, t, f.boost, r.synonyms[f.name][string(t)])
			if !ok {
				return nil, false
			}
			cs[j] = c
		}
		n, ok := tr.disjunction(cs)
		if !ok {
			return nil, false
		}
		fields[i] = n
	}
	for i, toks := range fuzzy {
		n, ok := tr.fuzzyNode(r.postings, toks, r.synonyms["questions"])
		if !ok {
			return nil, false
		}
		fields[len(fieldBoosts)+i] = n
	}
	return tr.disjunction(fields)
}

// analyse returns q's terms by analyser (see fields), q tokenised once
// for all of them when they share a tokenizer.
func (r *retriever) analyse(q string) [][][]byte {
	terms := make([][][]byte, len(r.analyses))
	var tokens analysis.TokenStream
	if r.tokenizer != nil {
		tokens = r.tokenize([]byte(q))
	}
	for i, a := range r.analyses {
		var ts analysis.TokenStream
		switch {
		case r.tokenizer == nil:
			ts = a.Analyze([]byte(q))
		case i == len(r.analyses)-1:
			ts = filter(a.(*analysis.DefaultAnalyzer), tokens)
		default:
			// Filters change tokens in place: the others get a copy.
			ts = filter(a.(*analysis.DefaultAnalyzer), copyTokens(tokens))
		}
		terms[i] = make([][]byte, len(ts))
		for j, tok := range ts {
			terms[i][j] = tok.Term
		}
	}
	return terms
}

// tokenize is the analysers' tokenizer, on plain text without Bleve's
// general segmenter when that is Bleve's unicode tokenizer.
func (r *retriever) tokenize(q []byte) analysis.TokenStream {
	if r.unicode {
		if ts, ok := asciiTokens(q); ok {
			return ts
		}
	}
	return r.tokenizer.Tokenize(q)
}

// filter applies a's token filters to tokens, as a.Analyze does after
// tokenising.
func filter(a *analysis.DefaultAnalyzer, tokens analysis.TokenStream) analysis.TokenStream {
	for _, f := range a.TokenFilters {
		tokens = f.Filter(tokens)
	}
	return tokens
}

// copyTokens copies a token stream and its terms.
func copyTokens(ts analysis.TokenStream) analysis.TokenStream {
	n := 0
	for _, t := range ts {
		n += len(t.Term)
	}
	buf := make([]byte, 0, n)
	toks := make([]analysis.Token, len(ts))
	out := make(analysis.TokenStream, len(ts))
	for i, t := range ts {
		toks[i] = *t
		start := len(buf)
		buf = append(buf, t.Term...)
		toks[i].Term = buf[start:len(buf):len(buf)]
		out[i] = &toks[i]
	}
	return out
}

// termsQuery is the disjunction of the term queries of terms in field, as
// a match query on field builds it from those terms.
func termsQuery(field string, boost float64, terms []string) query.Query {
	if len(terms) == 0 {
		return query.NewMatchNoneQuery()
	}
	tqs := make([]query.Query, len(terms))
	for i, t := range terms {
		tq := query.NewTermQuery(t)
		tq.SetField(field)
		tq.SetBoost(boost)
		tqs[i] = tq
	}
	d := query.NewDisjunctionQuery(tqs)
	d.SetMin(1)
	d.SetBoost(boost)
	return d
}
