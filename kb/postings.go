package kb

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/scorer"
	index "github.com/blevesearch/bleve_index_api"
)

// postings is a copy of a Bleve index's postings (for each field and
// term, the articles that hold the term with Bleve's per-document weight)
// that scores a question's query as Bleve scores it, to the last bit,
// without building a searcher for every term and field.
//
// Bleve's TF-IDF scoring of retrieve's query, which this mirrors:
//   - a term query on field f with boost b is a leaf: idf = 1 + ln(N /
//     (df+1)); its weight is (b·idf)²; a document's score is tf·norm·idf
//     times b·idf·queryNorm, with tf = √freq;
//   - a term with synonyms is a disjunction of the term (boost b) and each
//     synonym (boost b/2);
//   - a disjunction's weight is the sum of its children's, and a
//     document's score the sum of its matching children's scores times the
//     fraction of children that match; its children are in ascending order
//     of their document counts (Bleve sorts them so; a stable sort, as Go's
//     sort is for up to 12 items);
//   - queryNorm = 1/√(the whole query's weight);
//   - the k best documents by score, ties to the earlier document in the
//     index.
//
// Queries Bleve runs another way (a disjunction of more than
// maxSliceDisjuncts children, fuzzy queries) are left to Bleve.
// A postings is read-only after it is built, so safe for concurrent use.
type postings struct {
	// docTotal is the index's document count, Bleve's N.
	docTotal uint64
	// ids are the external ids of the documents in the index's order.
	ids []string
	// fields are the term tables by field name.
	fields map[string]map[string]*termPostings
	// scratch pools per-search buffers of len(ids).
	scratch sync.Pool
}

// termPostings is one term of one field.
type termPostings struct {
	// count is the number of documents with the term.
	count uint64
	idf   float64
	docs  []posting
}

// posting is a document's fieldWeight for a term: tf·norm·idf.
type posting struct {
	doc    int32
	weight float64
}

// maxSliceDisjuncts is the most children a Bleve disjunction sums in
// their sorted order (searcher.DisjunctionHeapTakeover); larger ones sum
// in heap order, which postings does not mirror.
const maxSliceDisjuncts = 10

// readPostings copies the postings of fields from idx.
func readPostings(idx bleve.Index, fields []string) (*postings, error) {
	ai, err := idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("read postings: %w", err)
	}
	r, err := ai.Reader()
	if err != nil {
		return nil, fmt.Errorf("read postings: %w", err)
	}
	defer r.Close()
	p := &postings{fields: map[string]map[string]*termPostings{}}
	if p.docTotal, err = r.DocCount(); err != nil {
		return nil, fmt.Errorf("read postings: %w", err)
	}
	order := map[string]int32{}
	all, err := r.DocIDReaderAll()
	if err != nil {
		return nil, fmt.Errorf("read postings: %w", err)
	}
	for {
		id, err := all.Next()
		if err != nil {
			all.Close()
			return nil, fmt.Errorf("read postings: %w", err)
		}
		if id == nil {
			break
		}
		ext, err := r.ExternalID(id)
		if err != nil {
			all.Close()
			return nil, fmt.Errorf("read postings: %w", err)
		}
		order[string(id)] = int32(len(p.ids))
		p.ids = append(p.ids, ext)
	}
	all.Close()
	ctx := context.Background()
	for _, f := range fields {
		terms := map[string]*termPostings{}
		d, err := r.FieldDict(f)
		if err != nil {
			return nil, fmt.Errorf("read postings of %s: %w", f, err)
		}
		var words []string
		for {
			e, err := d.Next()
			if err != nil {
				d.Close()
				return nil, fmt.Errorf("read postings of %s: %w", f, err)
			}
			if e == nil {
				break
			}
			words = append(words, e.Term)
		}
		d.Close()
		for _, w := range words {
			tfr, err := r.TermFieldReader(ctx, []byte(w), f, true, true, false)
			if err != nil {
				return nil, fmt.Errorf("read postings of %s:%s: %w", f, w, err)
			}
			tp := &termPostings{count: tfr.Count()}
			tp.idf = idf(p.docTotal, tp.count)
			var tfd index.TermFieldDoc
			for {
				m, err := tfr.Next(tfd.Reset())
				if err != nil {
					tfr.Close()
					return nil, fmt.Errorf("read postings of %s:%s: %w", f, w, err)
				}
				if m == nil {
					break
				}
				doc, ok := order[string(m.ID)]
				if !ok {
					tfr.Close()
					return nil, fmt.Errorf("read postings of %s:%s: a document the index does not list", f, w)
				}
				var tf float64
				if m.Freq < scorer.MaxSqrtCache {
					tf = scorer.SqrtCache[int(m.Freq)]
				} else {
					tf = math.Sqrt(float64(m.Freq))
				}
				tp.docs = append(tp.docs, posting{doc: doc, weight: tf * m.Norm * tp.idf})
			}
			tfr.Close()
			terms[w] = tp
		}
		p.fields[f] = terms
	}
	n := len(p.ids)
	p.scratch.New = func() any {
		return &scratch{acc: make([]float64, n), cnt: make([]int32, n)}
	}
	return p, nil
}

// idf is Bleve's TF-IDF inverse document frequency.
func idf(docTotal, docTerm uint64) float64 {
	return 1.0 + math.Log(float64(docTotal)/float64(docTerm+1.0))
}

// node is a query in the tree postings scores: a leaf (a term of a field)
// or a disjunction of children.
type node struct {
	leaf     *termPostings
	boost    float64
	children []*node
	// count is Bleve's Count: a leaf's documents, a disjunction's
	// children's counts summed.
	count uint64
	// queryWeight is the leaf's boost·idf·queryNorm.
	queryWeight float64
}

// weight is Bleve's Weight of the node.
func (n *node) weight() float64 {
	if n.leaf != nil {
		sum := n.boost * n.leaf.idf
		return sum * sum
	}
	var rv float64
	for _, c := range n.children {
		rv += c.weight()
	}
	return rv
}

// setQueryNorm is Bleve's SetQueryNorm.
func (n *node) setQueryNorm(qnorm float64) {
	if n.leaf != nil {
		n.queryWeight = n.boost * n.leaf.idf * qnorm
		return
	}
	for _, c := range n.children {
		c.setQueryNorm(qnorm)
	}
}

// disjunction makes the node of a Bleve disjunction of children; ok is
// false when Bleve would not sum them in sorted order.
func disjunction(children []*node) (n *node, ok bool) {
	if len(children) > maxSliceDisjuncts {
		return nil, false
	}
	sort.SliceStable(children, func(i, j int) bool { return children[i].count < children[j].count })
	n = &node{children: children}
	for _, c := range children {
		n.count += c.count
	}
	return n, true
}

// term makes the node of a term query on field with boost: a leaf, or the
// disjunction of the term and its synonyms. ok is false as for
// disjunction.
func (p *postings) term(field, t string, boost float64, synonyms []string) (*node, bool) {
	leaf := func(t string, boost float64) *node {
		tp, ok := p.fields[field][t]
		if !ok {
			tp = &termPostings{idf: idf(p.docTotal, 0)}
		}
		return &node{leaf: tp, boost: boost, count: tp.count}
	}
	if len(synonyms) == 0 {
		return leaf(t, boost), true
	}
	cs := make([]*node, 0, len(synonyms)+1)
	cs = append(cs, leaf(t, boost))
	for _, s := range synonyms {
		cs = append(cs, leaf(s, boost/2.0))
	}
	return disjunction(cs)
}

// scratch is a search's per-document accumulators, zero between uses.
type scratch struct {
	acc []float64
	cnt []int32
}

// docScore is a document's score for a node.
type docScore struct {
	doc   int32
	score float64
}

// score returns the scores of the documents root matches, root being the
// whole query (its query norm is set here).
func (p *postings) score(root *node) []docScore {
	root.setQueryNorm(1.0 / math.Sqrt(root.weight()))
	s := p.scratch.Get().(*scratch)
	defer p.scratch.Put(s)
	return s.eval(root)
}

func (s *scratch) eval(n *node) []docScore {
	if n.leaf != nil {
		out := make([]docScore, len(n.leaf.docs))
		for i, d := range n.leaf.docs {
			score := d.weight
			if n.queryWeight != 1.0 {
				score = score * n.queryWeight
			}
			out[i] = docScore{d.doc, score}
		}
		return out
	}
	lists := make([][]docScore, len(n.children))
	for i, c := range n.children {
		lists[i] = s.eval(c)
	}
	// Every child's scores are added to a document in the children's
	// order, as Bleve sums a document's matching constituents.
	var touched []int32
	for _, l := range lists {
		for _, d := range l {
			if s.cnt[d.doc] == 0 {
				touched = append(touched, d.doc)
			}
			s.acc[d.doc] += d.score
			s.cnt[d.doc]++
		}
	}
	out := make([]docScore, len(touched))
	for i, doc := range touched {
		coord := float64(s.cnt[doc]) / float64(len(n.children))
		out[i] = docScore{doc, s.acc[doc] * coord}
		s.acc[doc], s.cnt[doc] = 0, 0
	}
	return out
}

// top returns the k best of scores by article id: the highest scores,
// ties to the earlier document in the index, as Bleve's collector keeps.
func (p *postings) top(scores []docScore, k int) map[string]float64 {
	sort.Slice(scores, func(i, j int) bool {
		if scores[i].score != scores[j].score {
			return scores[i].score > scores[j].score
		}
		return scores[i].doc < scores[j].doc
	})
	if len(scores) > k {
		scores = scores[:k]
	}
	out := make(map[string]float64, len(scores))
	for _, d := range scores {
		out[p.ids[d.doc]] = d.score
	}
	return out
}
