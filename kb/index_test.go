package kb

import (
	"context"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// retrieveByMatch is the plain form of retrieve: one match query per
// field, each analysing q itself. retrieve must score exactly as it does.
func retrieveByMatch(ctx context.Context, idx bleve.Index, q string, fuzzy []string, k int) (map[string]float64, error) {
	var qs []query.Query
	for _, f := range fieldBoosts {
		m := bleve.NewMatchQuery(q)
		m.SetField(f.name)
		m.SetBoost(f.boost)
		qs = append(qs, m)
	}
	qs = append(qs, fuzzyQueries(fuzzy)...)
	return searchScores(ctx, idx, bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(qs...), k, 0, false))
}

func TestRetrieveScoresAsMatchQueries(t *testing.T) {
	k := buildShop(t, shop(t))
	var qs []string
	for _, a := range k.Articles() {
		for _, q := range a.Questions {
			qs = append(qs, q, q[:len(q)/2]+q[len(q)/2+1:])
		}
		qs = append(qs, a.Title)
	}
	// Synonyms, phrases the featurizer folds, stop words only, nothing.
	qs = append(qs, "i want my money back", "the of and", "", "?!", "parcel parcel parcel",
		"Where's my PARCEL?", "shop's opening hours", "refnd pls", "xyzzyplugh delivery",
		// Fuzzy words two edits from a synonym ("reimbursement",
		// "shipment"), which the fuzzy queries reach through the thesaurus.
		"reimbursmint please", "where is my shipmint nowww", "remboursement",
		// More than 10 terms a field, with synonyms: Bleve's heap
		// disjunction.
		"refund money back parcel shipment package password account delivery return tracking opening hours reimbursement",
		"parcel package shipment refund reimbursement delivery times tracking number returns label password reset email",
		// A fuzzy word that is not plain ASCII: left to Bleve.
		"où est mon colis überweisung")
	nonEmpty, fuzzed, scored, byBleve, inHeap := 0, 0, 0, 0, 0
	for _, q := range qs {
		sp := k.correct(q)
		bq, fuzzy := k.bleveQuery(sp.search), sp.fuzzy
		got, err := retrieve(context.Background(), k.index, bq, fuzzy, retrieveK)
		if err != nil {
			t.Fatal(err)
		}
		want, err := retrieveByMatch(context.Background(), k.index, bq, fuzzy, retrieveK)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%q: retrieve %v, match queries %v", q, got, want)
		}
		fast, err := k.retr.retrieve(context.Background(), bq, fuzzy, retrieveK)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(fast, want) {
			t.Errorf("%q: retriever %v, match queries %v", q, fast, want)
		}
		if len(want) > 0 {
			nonEmpty++
		}
		if len(fuzzy) > 0 {
			fuzzed++
		}
		if onPostings(k.retr, bq, fuzzy) {
			scored++
			if usesHeap(k.retr, bq, fuzzy) {
				inHeap++
			}
		} else {
			byBleve++
		}
	}
	if scored < 50 || byBleve == 0 || inHeap < 2 {
		t.Fatalf("%d questions scored on the postings (%d through a heap disjunction), %d by Bleve: want all compared", scored, inHeap, byBleve)
	}
	if k.retr.synonyms["questions"] == nil || k.retr.tokenizer == nil {
		t.Fatal("the retriever has no synonyms or no shared tokenizer: the test compares nothing new")
	}
	if nonEmpty < 50 || fuzzed == 0 {
		t.Fatalf("only %d questions with hits, %d with fuzzy words", nonEmpty, fuzzed)
	}
	if len(qs) < 50 {
		t.Fatalf("only %d questions compared", len(qs))
	}
}

// TestRetrieverScoresAsBleveOnCLINC150 compares the retriever with
// Bleve's match queries on a knowledge base of CLINC150's size (150
// articles, 15,000 phrasings, long questions that Bleve scores another
// way among them), on its validation questions.
func TestRetrieverScoresAsBleveOnCLINC150(t *testing.T) {
	if testing.Short() || raceEnabled {
		// One goroutine: the race detector would only make it slow.
		t.Skip("builds a CLINC150 knowledge base")
	}
	f, err := os.Open("../../shared/data/clinc150/train.jsonl")
	if err != nil {
		t.Skip("CLINC150 not available:", err)
	}
	train, err := ReadExamples(f, "train.jsonl")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err = os.Open("../../shared/data/clinc150/val.jsonl")
	if err != nil {
		t.Skip("CLINC150 not available:", err)
	}
	val, err := ReadExamples(f, "val.jsonl")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	k, err := Build(context.Background(), ContentFromExamples(train), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	scored, fuzzyScored, other := 0, 0, 0
	for i := range val {
		sp := k.correct(val[i].Text)
		bq, fuzzy := k.bleveQuery(sp.search), sp.fuzzy
		got, err := k.retr.retrieve(context.Background(), bq, fuzzy, retrieveK)
		if err != nil {
			t.Fatal(err)
		}
		want, err := retrieveByMatch(context.Background(), k.index, bq, fuzzy, retrieveK)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%q: retriever %v, match queries %v", val[i].Text, got, want)
		}
		switch {
		case !onPostings(k.retr, bq, fuzzy):
			other++
		case len(fuzzy) > 0:
			fuzzyScored++
		default:
			scored++
		}
	}
	t.Logf("%d questions scored on the postings, %d of them with fuzzy words, %d by Bleve", scored+fuzzyScored, fuzzyScored, other)
	if scored == 0 || fuzzyScored == 0 {
		t.Errorf("%d questions scored on the postings, %d with fuzzy words: want both compared", scored, fuzzyScored)
	}
}

// usesHeap says whether the question's tree on the postings has a
// disjunction that Bleve sums in heap order.
func usesHeap(r *retriever, q string, fuzzy []string) bool {
	fz, _ := r.fuzzyWords(fuzzy)
	root, ok := r.tree(r.analyse(q), fz)
	var walk func(n *node) bool
	walk = func(n *node) bool {
		if n.heap {
			return true
		}
		return slices.ContainsFunc(n.children, walk)
	}
	return ok && walk(root)
}

// onPostings says whether the retriever scores the question on the
// postings rather than by Bleve.
func onPostings(r *retriever, q string, fuzzy []string) bool {
	fz, ok := r.fuzzyWords(fuzzy)
	if !ok && len(fuzzy) > 0 {
		return false
	}
	_, ok = r.tree(r.analyse(q), fz)
	return ok
}

// BenchmarkRetrieve compares the KB's retriever with retrieve and its
// plain form on the demo shop.
func BenchmarkRetrieve(b *testing.B) {
	k := buildShop(b, shop(b))
	q := k.bleveQuery("how long does delivery take to germany")
	for _, f := range []struct {
		name string
		fn   func(context.Context, bleve.Index, string, []string, int) (map[string]float64, error)
	}{{"retriever", func(ctx context.Context, _ bleve.Index, q string, fuzzy []string, n int) (map[string]float64, error) {
		return k.retr.retrieve(ctx, q, fuzzy, n)
	}}, {"terms", retrieve}, {"match", retrieveByMatch}} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.fn(context.Background(), k.index, q, nil, retrieveK); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
