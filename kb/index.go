package kb

import (
	"context"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/token/shingle"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Field boosts: what customers ask and the title say more about an article
// than its tags, and the tags more than the answer text.
var fieldBoosts = []struct {
	name  string
	boost float64
}{
	{"questions", 3},
	{"title", 3},
	{"tags", 2},
	{"body", 1},
	// Word pairs of the questions: "track order" is stronger evidence
	// than "track" and "order" apart.
	{"pairs", 2},
}

const (
	synonymCollection = "synonyms"
	synonymSource     = "content"
	// batchSize is how many articles go to Bleve in one batch.
	batchSize = 64
	// retrieveK is how many articles Bleve proposes for re-ranking.
	retrieveK = 10
)

// indexMapping returns the Bleve mapping: English analysis (stemming, stop
// words) on every field, with the content's synonyms on every field.
func indexMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddSynonymSource(synonymSource, map[string]interface{}{
		"collection": synonymCollection,
		"analyzer":   en.AnalyzerName,
	}); err != nil {
		return nil, fmt.Errorf("add synonym source: %w", err)
	}
	if err := im.AddCustomTokenFilter("pairs", map[string]interface{}{
		"type": shingle.Name, "min": 2.0, "max": 2.0, "output_original": false,
	}); err != nil {
		return nil, fmt.Errorf("add pair filter: %w", err)
	}
	if err := im.AddCustomAnalyzer("pairs", map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{en.PossessiveName, lowercase.Name, porter.Name, "pairs"},
	}); err != nil {
		return nil, fmt.Errorf("add pair analyzer: %w", err)
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, f := range fieldBoosts {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = en.AnalyzerName
		fm.SynonymSource = synonymSource
		if f.name == "pairs" {
			fm.Analyzer = "pairs"
			fm.SynonymSource = ""
		}
		fm.Store = false
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		doc.AddFieldMappingsAt(f.name, fm)
	}
	im.DefaultMapping = doc
	im.DefaultAnalyzer = en.AnalyzerName
	return im, nil
}

// newIndex creates a scorch index at dir, or in memory when dir is "".
func newIndex(dir string) (bleve.Index, error) {
	im, err := indexMapping()
	if err != nil {
		return nil, err
	}
	idx, err := bleve.NewUsing(dir, im, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("create index %q: %w", dir, err)
	}
	return idx, nil
}

// fillIndex indexes the articles and synonym groups in batches, reporting
// progress after each batch.
func fillIndex(ctx context.Context, idx bleve.Index, arts []Article, synonyms [][]string, progress func(done, total int)) error {
	b := idx.NewBatch()
	flush := func() error {
		if b.Size() == 0 {
			return nil
		}
		if err := idx.Batch(b); err != nil {
			return fmt.Errorf("index batch: %w", err)
		}
		b.Reset()
		return nil
	}
	for i, g := range synonyms {
		// Bleve matches single terms; phrases are folded by the featurizer
		// and expanded in the query instead.
		var words []string
		for _, w := range g {
			if !strings.Contains(w, " ") {
				words = append(words, w)
			}
		}
		if len(words) < 2 {
			continue
		}
		if err := b.IndexSynonym(fmt.Sprintf("syn-%d", i), synonymCollection, &bleve.SynonymDefinition{Synonyms: words}); err != nil {
			return fmt.Errorf("index synonyms %v: %w", g, err)
		}
	}
	for i, a := range arts {
		if err := ctx.Err(); err != nil {
			return err
		}
		doc := map[string]interface{}{
			"title":     a.Title,
			"questions": strings.Join(a.Questions, "\n"),
			"pairs":     a.Questions,
			"tags":      strings.Join(a.Tags, " "),
			"body":      a.Body,
		}
		if err := b.Index(a.ID, doc); err != nil {
			return fmt.Errorf("index article %s: %w", a.ID, err)
		}
		if b.Size() >= batchSize {
			if err := flush(); err != nil {
				return err
			}
			if progress != nil {
				progress(i+1, len(arts))
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if progress != nil {
		progress(len(arts), len(arts))
	}
	return nil
}

// retrieve asks Bleve for the best k articles for q and returns their
// scores by article id. The fuzzy words are also matched with up to one
// edit (two for long words) against the questions, at a lower boost.
// Search uses a KB's retriever, which gets the same scores with less
// work; retrieve is the plain form it is checked against.
func retrieve(ctx context.Context, idx bleve.Index, q string, fuzzy []string, k int) (map[string]float64, error) {
	qs, err := fieldQueries(idx.Mapping(), q)
	if err != nil {
		return nil, err
	}
	qs = append(qs, fuzzyQueries(fuzzy)...)
	return searchScores(ctx, idx, bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(qs...), k, 0, false))
}

// searchScores runs req on idx and returns each hit's score by id.
func searchScores(ctx context.Context, idx bleve.Index, req *bleve.SearchRequest) (map[string]float64, error) {
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	out := make(map[string]float64, len(res.Hits))
	for _, h := range res.Hits {
		out[h.ID] = h.Score
	}
	return out, nil
}

// fuzzyBoost is the boost of fuzzyQueries.
const fuzzyBoost = 2.0

// fuzzyQueries match each word against the questions with up to one edit
// (two for long words), at a lower boost than the questions' own words.
func fuzzyQueries(words []string) []query.Query {
	var qs []query.Query
	for _, w := range words {
		fz := bleve.NewMatchQuery(w)
		fz.SetField("questions")
		fz.SetFuzziness(fuzziness(w))
		fz.SetBoost(fuzzyBoost)
		qs = append(qs, fz)
	}
	return qs
}

// fieldQueries returns one query per field of fieldBoosts for q: the
// disjunction of its terms, as a match query builds it. q is analysed
// once per analyser rather than once per field, and the term queries
// need no second analysis when Bleve looks up their synonyms; a match
// query would analyse the text twice per field (ten times a question).
func fieldQueries(m mapping.IndexMapping, q string) ([]query.Query, error) {
	terms := map[string][]string{}
	qs := make([]query.Query, 0, len(fieldBoosts)+2)
	for _, f := range fieldBoosts {
		name := m.AnalyzerNameForPath(f.name)
		ts, ok := terms[name]
		if !ok {
			a := m.AnalyzerNamed(name)
			if a == nil {
				return nil, fmt.Errorf("no analyzer %q for field %s", name, f.name)
			}
			for _, tok := range a.Analyze([]byte(q)) {
				ts = append(ts, string(tok.Term))
			}
			terms[name] = ts
		}
		qs = append(qs, termsQuery(f.name, f.boost, ts))
	}
	return qs, nil
}
