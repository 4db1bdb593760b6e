package kb

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
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
//     fraction of children that match; up to maxSliceDisjuncts children
//     are summed in ascending order of their document counts (Bleve sorts
//     them so; a stable sort, as Go's sort is for up to 12 items), more
//     in the order Bleve's heap of them yields them (see evalHeap);
//   - queryNorm = 1/√(the whole query's weight);
//   - the k best documents by score, ties to the earlier document in the
//     index.
//
// Queries Bleve runs another way (some fuzzy queries: see fuzzyWords)
// are left to Bleve.
// A postings is read-only after it is built, so safe for concurrent use.
type postings struct {
	// docTotal is the index's document count, Bleve's N.
	docTotal uint64
	// ids are the external ids of the documents in the index's order.
	ids []string
	// fields are the term tables by field name.
	fields map[string]map[string]*termPostings
	// missing is a term no document of a field has.
	missing termPostings
	// scratch pools per-search buffers.
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
// in the order of a heap of their next documents (see evalHeap).
const maxSliceDisjuncts = 10

// maxDisjuncts is the most children a Bleve disjunction may have
// (searcher.DisjunctionMaxClauseCount's default).
const maxDisjuncts = 1024

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
	p.missing = termPostings{idf: idf(p.docTotal, 0)}
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
	// heap: more than maxSliceDisjuncts children, summed as Bleve's heap
	// disjunction sums them.
	heap bool
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

// tree holds the nodes of one query, allocated together.
type tree struct {
	nodes []node
	kids  []*node
}

// newTree makes room for nodes nodes and kids children in all.
func newTree(nodes, kids int) *tree {
	return &tree{nodes: make([]node, 0, nodes), kids: make([]*node, 0, kids)}
}

// node adds n to the tree. The tree must have room for it (see newTree):
// nodes point at each other in place.
func (t *tree) node(n node) *node {
	if len(t.nodes) == cap(t.nodes) {
		panic("kb: query tree out of room")
	}
	t.nodes = append(t.nodes, n)
	return &t.nodes[len(t.nodes)-1]
}

// children returns room for n children.
func (t *tree) children(n int) []*node {
	if len(t.kids)+n > cap(t.kids) {
		panic("kb: query tree out of room")
	}
	t.kids = t.kids[:len(t.kids)+n]
	return t.kids[len(t.kids)-n:]
}

// disjunction makes the node of a Bleve disjunction of children; ok is
// false when Bleve would refuse so many.
func (t *tree) disjunction(children []*node) (n *node, ok bool) {
	if len(children) > maxDisjuncts {
		return nil, false
	}
	inHeap := len(children) > maxSliceDisjuncts
	if !inHeap {
		slices.SortStableFunc(children, func(a, b *node) int { return cmp.Compare(a.count, b.count) })
	}
	n = t.node(node{children: children, heap: inHeap})
	for _, c := range children {
		n.count += c.count
	}
	return n, true
}

// term makes the node of a term query on field with boost: a leaf, or the
// disjunction of the term and its synonyms. ok is false as for
// disjunction.
func (t *tree) term(p *postings, field string, term []byte, boost float64, synonyms []string) (*node, bool) {
	terms := p.fields[field]
	leaf := func(tp *termPostings, boost float64) *node {
		if tp == nil {
			tp = &p.missing
		}
		return t.node(node{leaf: tp, boost: boost, count: tp.count})
	}
	if len(synonyms) == 0 {
		return leaf(terms[string(term)], boost), true
	}
	cs := t.children(len(synonyms) + 1)
	cs[0] = leaf(terms[string(term)], boost)
	for i, s := range synonyms {
		cs[i+1] = leaf(terms[s], boost/2.0)
	}
	return t.disjunction(cs)
}

// scratch is a search's buffers; acc and cnt, by document, are zero
// between uses.
type scratch struct {
	acc     []float64
	cnt     []int32
	scores  []docScore
	touched []int32
}

// docScore is a document's score for a node.
type docScore struct {
	doc   int32
	score float64
}

// score returns the k best documents for root, the whole query (its query
// norm is set here), by article id.
func (p *postings) score(root *node, k int) map[string]float64 {
	root.setQueryNorm(1.0 / math.Sqrt(root.weight()))
	s := p.scratch.Get().(*scratch)
	defer p.scratch.Put(s)
	s.scores = s.scores[:0]
	s.eval(root)
	return p.top(s.scores, k)
}

// eval appends the scores of the documents n matches to s.scores.
func (s *scratch) eval(n *node) {
	if n.leaf != nil {
		for _, d := range n.leaf.docs {
			score := d.weight
			if n.queryWeight != 1.0 {
				score = score * n.queryWeight
			}
			s.scores = append(s.scores, docScore{d.doc, score})
		}
		return
	}
	if n.heap {
		s.evalHeap(n)
		return
	}
	begin := len(s.scores)
	for _, c := range n.children {
		s.eval(c)
	}
	// The children's scores follow each other in the children's order:
	// each is added to its document in that order, as Bleve sums a
	// document's matching constituents.
	s.touched = s.touched[:0]
	for _, d := range s.scores[begin:] {
		if s.cnt[d.doc] == 0 {
			s.touched = append(s.touched, d.doc)
		}
		s.acc[d.doc] += d.score
		s.cnt[d.doc]++
	}
	s.scores = s.scores[:begin]
	for _, doc := range s.touched {
		coord := float64(s.cnt[doc]) / float64(len(n.children))
		s.scores = append(s.scores, docScore{doc, s.acc[doc] * coord})
		s.acc[doc], s.cnt[doc] = 0, 0
	}
}

// evalHeap is eval for a disjunction of more than maxSliceDisjuncts
// children. Bleve's heap disjunction keeps its children's next documents
// in a heap (container/heap, ordered by document only), pushed in the
// children's order; for each document it pops every child on it, sums
// their scores in the order they came off the heap, then moves each to
// its next document and pushes it back, in that order. Which of several
// children on one document comes off first depends on the heap's shape,
// so the sum is only Bleve's to the last bit when the same heap
// operations run in the same order: they do here.
func (s *scratch) evalHeap(n *node) {
	begin := len(s.scores)
	bounds := make([]int, len(n.children)+1)
	for i, c := range n.children {
		bounds[i] = len(s.scores) - begin
		s.eval(c)
	}
	bounds[len(n.children)] = len(s.scores) - begin
	all := slices.Clone(s.scores[begin:])
	s.scores = s.scores[:begin]
	h := make(cursorHeap, 0, len(n.children))
	cursors := make([]cursor, len(n.children))
	for i := range n.children {
		list := all[bounds[i]:bounds[i+1]]
		slices.SortFunc(list, func(a, b docScore) int { return cmp.Compare(a.doc, b.doc) })
		cursors[i] = cursor{list: list}
		if len(list) > 0 {
			heap.Push(&h, &cursors[i])
		}
	}
	matching := make([]*cursor, 0, len(n.children))
	for h.Len() > 0 {
		matching = matching[:0]
		next := heap.Pop(&h).(*cursor)
		matching = append(matching, next)
		for h.Len() > 0 && h[0].doc() == next.doc() {
			next = heap.Pop(&h).(*cursor)
			matching = append(matching, next)
		}
		var sum float64
		for _, m := range matching {
			sum += m.list[m.pos].score
		}
		coord := float64(len(matching)) / float64(len(n.children))
		s.scores = append(s.scores, docScore{next.doc(), sum * coord})
		for _, m := range matching {
			if m.pos++; m.pos < len(m.list) {
				heap.Push(&h, m)
			}
		}
	}
}

// cursor is a child's place in its documents, for evalHeap.
type cursor struct {
	list []docScore // by document
	pos  int
}

func (c *cursor) doc() int32 { return c.list[c.pos].doc }

// cursorHeap orders cursors by their documents, as Bleve's heap
// disjunction orders its children (DisjunctionHeapSearcher.Less).
type cursorHeap []*cursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return h[i].doc() < h[j].doc() }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// top returns the k best of scores by article id: the highest scores,
// ties to the earlier document in the index, as Bleve's collector keeps.
func (p *postings) top(scores []docScore, k int) map[string]float64 {
	slices.SortFunc(scores, func(a, b docScore) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.doc, b.doc)
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
