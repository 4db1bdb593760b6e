package kb

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"
)

// shop loads testdata/shop, a small knowledge base with synonyms and
// negatives, and fails the test if it has problems.
func shop(t testing.TB) *Content {
	t.Helper()
	c, err := Load(os.DirFS("testdata/shop"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Problems) > 0 {
		t.Fatalf("testdata problems: %v", c.Problems)
	}
	return c
}

func buildShop(t testing.TB, c *Content) *KB {
	t.Helper()
	k, err := Build(context.Background(), c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func TestDecideAnswersTypicalQuestionsEvenWithTypos(t *testing.T) {
	k := buildShop(t, shop(t))
	cases := []struct{ q, want string }{
		{"how do I return a lamp", "return-item"},
		{"i want my refnd", "refund-timing"},
		{"how long does delivry take", "delivery-times"},
		{"where is my pakage", "track-order"},
		{"forgot pasword", "reset-password"},
		{"are you open on sundays", "opening-hours"},
		{"please delete my account", "close-account"},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			d, err := k.Decide(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind != Answer || d.Article.ID != tc.want {
				t.Errorf("decision %v %+v, want answer %s", d.Kind, d.Hits, tc.want)
			}
		})
	}
}

func TestDecideDoesNotAnswerOffTopicQuestions(t *testing.T) {
	k := buildShop(t, shop(t))
	for _, q := range []string{"what is the capital of germany", "tell me a funny story", "", "???"} {
		d, err := k.Decide(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind == Answer {
			t.Errorf("%q answered with %s (confidence %.2f), want no answer", q, d.Article.ID, d.Hits[0].Confidence)
		}
	}
}

func TestSynonymsFindArticlesThatNeverUseTheWord(t *testing.T) {
	with := shop(t)
	without := shop(t)
	without.Synonyms = nil
	kw, ko := buildShop(t, with), buildShop(t, without)
	// "parcel" and "reimbursement" appear in no article, only in synonyms.txt.
	for q, want := range map[string]string{
		"my parcel is late":                "track-order",
		"reimbursement still not received": "refund-timing",
		"when do i get my money back":      "refund-timing",
	} {
		hw, err := kw.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		ho, err := ko.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if hw[0].ID != want {
			t.Errorf("%q with synonyms: top hit %s, want %s", q, hw[0].ID, want)
		}
		if conf(ho, want) >= hw[0].Confidence {
			t.Errorf("%q: confidence without synonyms %.2f, with %.2f; synonyms should raise it", q, conf(ho, want), hw[0].Confidence)
		}
	}
}

func conf(hits []Hit, id string) float64 {
	for _, h := range hits {
		if h.ID == id {
			return h.Confidence
		}
	}
	return 0
}

func TestSearchConfidencesAreProbabilities(t *testing.T) {
	k := buildShop(t, shop(t))
	hits, err := k.Search(context.Background(), "how long until my refund arrives")
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for i, h := range hits {
		if h.Confidence < 0 || h.Confidence > 1 {
			t.Errorf("confidence %g out of [0, 1]", h.Confidence)
		}
		if i > 0 && h.Confidence > hits[i-1].Confidence {
			t.Errorf("hits not sorted by confidence: %+v", hits)
		}
		sum += h.Confidence
	}
	if sum > 1.0001 {
		t.Errorf("confidences sum to %g > 1", sum)
	}
}

func TestDecideFollowsTheThresholds(t *testing.T) {
	a, b, c := &Article{ID: "a"}, &Article{ID: "b"}, &Article{ID: "c"}
	hits := func(p ...float64) []Hit {
		var out []Hit
		for i, x := range p {
			art := []*Article{a, b, c}[i]
			out = append(out, Hit{Article: art, ID: art.ID, Confidence: x})
		}
		return out
	}
	th := Thresholds{Answer: 0.5, Clarify: 0.2}
	cases := []struct {
		name       string
		hits       []Hit
		want       Kind
		candidates int
	}{
		{"a confident top hit is answered", hits(0.8, 0.1, 0.05), Answer, 0},
		{"exactly at the answer threshold is answered", hits(0.5, 0.3), Answer, 0},
		{"between the thresholds asks with the close candidates", hits(0.4, 0.3, 0.1), Clarify, 2},
		{"at the clarify threshold still asks", hits(0.2, 0.19, 0.18), Clarify, 3},
		{"below the clarify threshold falls back", hits(0.19, 0.1), NoAnswer, 0},
		{"no hits falls back", nil, NoAnswer, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(tc.hits, th, nil)
			if d.Kind != tc.want || len(d.Candidates) != tc.candidates {
				t.Errorf("got %v with %d candidates, want %v with %d", d.Kind, len(d.Candidates), tc.want, tc.candidates)
			}
			if d.Kind == Answer && d.Article != tc.hits[0].Article {
				t.Errorf("answered %v, want the top hit", d.Article)
			}
		})
	}
	if err := (Thresholds{Answer: 0.2, Clarify: 0.5}).Validate(); err == nil {
		t.Error("clarify above answer validated")
	}
	// The zero Thresholds mean the defaults in Options: 0 and 0 given on
	// purpose must not pass for them.
	if err := (Thresholds{}).Validate(); err == nil {
		t.Error("an answer threshold of 0 validated")
	}
	if err := (Thresholds{Answer: 0.01}).Validate(); err != nil {
		t.Errorf("answer 0.01, clarify 0: %v", err)
	}
}

func TestOpenReusesTheStoredIndexUntilTheContentChanges(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kb")
	c := shop(t)
	ctx := context.Background()
	k1, err := Open(ctx, dir, c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if k1.Reused {
		t.Fatal("first open claims to reuse an index")
	}
	h1, _ := k1.Search(ctx, "where is my parcel")
	k1.Close()

	k2, err := Open(ctx, dir, c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !k2.Reused {
		t.Fatal("second open on the same content rebuilt the index")
	}
	h2, _ := k2.Search(ctx, "where is my parcel")
	k2.Close()
	if h1[0].ID != h2[0].ID || h1[0].Confidence != h2[0].Confidence || h1[0].Score != h2[0].Score {
		t.Errorf("reused index answers differently: %+v vs %+v", h1[0], h2[0])
	}

	fs := fstest.MapFS{}
	for _, a := range c.Articles {
		fs[a.File] = &fstest.MapFile{Data: []byte("---\nid: " + a.ID + "\ntitle: " + a.Title + "\n---\n" + a.Body + "\n")}
	}
	changed, err := Load(fs)
	if err != nil {
		t.Fatal(err)
	}
	k3, err := Open(ctx, dir, changed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k3.Close()
	if k3.Reused {
		t.Error("changed content reused the old index")
	}
}

func TestOpenRebuildsADamagedStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kb")
	c := shop(t)
	k, err := Open(context.Background(), dir, c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	k.Close()
	if err := os.WriteFile(filepath.Join(dir, modelFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	var reported string
	k, err = Open(context.Background(), dir, c, Options{Progress: func(stage string, _, _ int) {
		if reported == "" {
			reported = stage
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if k.Reused {
		t.Error("damaged store was reused")
	}
	if reported == "" {
		t.Error("damaged store was rebuilt silently")
	}
	if d, _ := k.Decide(context.Background(), "how do i return an item"); d.Kind != Answer {
		t.Errorf("rebuilt KB does not answer: %+v", d)
	}
}

func TestOpenRemovesBuildsLeftByACrash(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "kb")
	// What a process killed during its first build leaves: a build folder
	// with half an index, and no kb.
	for _, name := range []string{"kb.build-123", "kb.build-456"} {
		if err := os.MkdirAll(filepath.Join(data, name, indexDir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, name, indexDir, "half"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Not build folders of this knowledge base.
	for _, name := range []string{"other.build-1", "kb.builder"} {
		if err := os.Mkdir(filepath.Join(data, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var notices []string
	opts := Options{Progress: func(stage string, _, total int) {
		if total == 0 {
			notices = append(notices, stage)
		}
	}}
	k, err := Open(context.Background(), dir, shop(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	k.Close()
	want := []string{"kb", "kb.builder", "kb.lock", "other.build-1"}
	if got := names(t, data); !slices.Equal(got, want) {
		t.Errorf("data directory holds %q, want %q", got, want)
	}
	if len(notices) != 2 {
		t.Errorf("notices %q, want one for each build folder removed", notices)
	}

	// A crash during a later rebuild: the next open, which reuses the
	// index, cleans up too.
	if err := os.Mkdir(filepath.Join(data, "kb.build-789"), 0o755); err != nil {
		t.Fatal(err)
	}
	k, err = Open(context.Background(), dir, shop(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	k.Close()
	if !k.Reused {
		t.Error("the stored index was not reused")
	}
	if got := names(t, data); !slices.Equal(got, want) {
		t.Errorf("data directory holds %q, want %q", got, want)
	}
}

func TestOpenWaitsForABuildInProgress(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "kb")
	// Another process is building: it holds the lock and its build folder.
	unlock, err := lockBuilds(dir)
	if err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(data, "kb.build-live")
	if err := os.Mkdir(live, 0o755); err != nil {
		t.Fatal(err)
	}
	c := shop(t)
	opened := make(chan error, 1)
	go func() {
		k, err := Open(context.Background(), dir, c, Options{})
		if err == nil {
			k.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		t.Fatalf("Open returned (%v) while another build held the lock", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the build in progress was removed: %v", err)
	}
	unlock() // the other process dies or finishes
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(live); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dead build's folder is still there: %v", err)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// demo loads the demo shop's content (../content), as `frontdesk serve`
// embeds it.
func demo(t testing.TB) *Content {
	t.Helper()
	c, err := Load(os.DirFS("../content"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Problems) > 0 {
		t.Fatalf("demo content problems: %v", c.Problems)
	}
	return c
}

func TestDecideDoesNotAnswerQuestionsWhoseKeyWordsAreUnknown(t *testing.T) {
	k := buildShop(t, demo(t))
	// "car" and "engine" appear nowhere in the demo content; "fix" does
	// (the repair article).
	q := "how do i fix my car engine"
	d, err := k.Decide(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind == Answer {
		t.Errorf("%q answered with %s (confidence %.2f, signals %+v)", q, d.Article.ID, d.Hits[0].Confidence, *d.Signals)
	}
	if d.Signals == nil || !slices.Equal(d.Signals.Unknown, []string{"car", "engine"}) || d.Signals.KnownWords >= 0.5 {
		t.Errorf("%q: signals %+v should name the unknown words", q, d.Signals)
	}
	// "charger" shares most of its character n-grams with "charge" (the
	// VAT article). It is neither a typo of it nor a word of the same
	// stem, so it counts as unknown; without it the VAT article has next
	// to no support, so it rests on the unknown word and is not answered.
	q = "i need a new charger for my device"
	d, err = k.Decide(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	s := d.Signals
	if s == nil || !slices.Equal(s.Unknown, []string{"charger"}) || s.WithoutUnknown > 0.1 || !s.RestsOnUnknown {
		t.Fatalf("%q: signals %+v", q, s)
	}
	if d.Kind == Answer || d.Hits[0].Confidence > s.WithoutUnknown {
		t.Errorf("%q: decided %v with confidence %.2f, more than %.2f without the unknown word", q, d.Kind, d.Hits[0].Confidence, s.WithoutUnknown)
	}
	// An unknown word the article does not rest on leaves the answer:
	// delivery countries without "canada" is still the best fit.
	q = "do you ship to canada"
	d, err = k.Decide(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if d.Signals == nil || !slices.Equal(d.Signals.Unknown, []string{"canada"}) || d.Signals.RestsOnUnknown || d.Hits[0].ID != "delivery-countries" {
		t.Errorf("%q: hits %+v signals %+v", q, d.Hits, d.Signals)
	}
	// Slips of the keyboard are not unknown words: a doubled last letter
	// ("lampp", while "charger" above is another word than "charge") and
	// a stop word with two letters swapped ("hwo"). Both questions were
	// declined when they counted as unknown, the second at confidence 0.
	for _, q := range []string{"how much is postagee to france", "hwo do i return a lampp"} {
		d, err := k.Decide(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if d.Signals == nil || len(d.Signals.Unknown) != 0 || d.Kind == NoAnswer {
			t.Errorf("%q: decided %v, signals %+v", q, d.Kind, d.Signals)
		}
	}
	// Words only the negatives use are not known: they say the question
	// is off-topic, not that an article answers it.
	d, err = k.Decide(context.Background(), "my phone screen cracked")
	if err != nil {
		t.Fatal(err)
	}
	if d.Signals == nil || !slices.Equal(d.Signals.Unknown, []string{"screen", "cracked"}) {
		t.Errorf("negatives' words: signals %+v", d.Signals)
	}
	// A word the content never uses in this form but whose stem it does
	// is known ("refunding": the content says "refund", "refunded").
	d, err = k.Decide(context.Background(), "when are you refunding my money")
	if err != nil {
		t.Fatal(err)
	}
	if d.Signals == nil || len(d.Signals.Unknown) != 0 || d.Signals.KnownWords != 1 {
		t.Errorf("inflection: signals %+v", d.Signals)
	}
	// Typos inside a word are not unknown words.
	d, err = k.Decide(context.Background(), "how long does delivry take")
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != Answer || len(d.Signals.Unknown) != 0 {
		t.Errorf("typo: decision %v, signals %+v", d.Kind, d.Signals)
	}
}

func TestDecideAnswersEveryArticlesOwnPhrasings(t *testing.T) {
	for name, c := range map[string]*Content{"demo": demo(t), "shop": shop(t)} {
		k := buildShop(t, c)
		for _, a := range c.Articles {
			for _, q := range a.Questions {
				d, err := k.Decide(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				if d.Kind != Answer || d.Article.ID != a.ID {
					t.Errorf("%s: %q (a phrasing of %s) decided %v %+v", name, q, a.ID, d.Kind, d.Hits)
				}
			}
		}
	}
}

func TestCalibrationWeightsFitTheSignals(t *testing.T) {
	var s Signals
	for _, large := range []bool{false, true} {
		w := calibWeights
		if large {
			w = calibWeightsLarge
		}
		if len(w) != len(s.features())+1 {
			t.Fatalf("large %v: %d calibration weights for %d features and a bias", large, len(w), len(s.features()))
		}
		for _, p := range []float64{0.05, 0.5, 0.95} {
			lo, hi := Signals{Model: p, KnownWords: 0.5, KnownWeight: 0.5, large: large}, Signals{Model: p, KnownWords: 1, KnownWeight: 1, large: large}
			if c := lo.confidence(); c < 0 || c > 1 || c >= hi.confidence() {
				t.Errorf("large %v, model %.2f: confidence %.3f with half the words unknown, %.3f with all known", large, p, c, hi.confidence())
			}
		}
	}
}

// TestLargeContentIsTrainedAndCalibratedAsLargeAgainWhenReused builds
// content of largeFrom phrasings or more (trained with largeTrain and
// calibrated by calibWeightsLarge), opens it again from the stored
// model, and checks that the reused knowledge base still calibrates as
// large: the same confidences. Small content is not large.
func TestLargeContentIsTrainedAndCalibratedAsLargeAgainWhenReused(t *testing.T) {
	things := []string{"parcel", "invoice", "voucher", "password", "refund", "warranty", "lamp", "sofa", "ticket", "account",
		"order", "delivery", "receipt", "bulb", "charger", "subscription", "newsletter", "review", "coupon", "membership"}
	acts := []string{"where is my", "how do i change my", "can i cancel my", "i lost my", "how do i get a new",
		"what happens to my", "is there a fee for my", "who handles my", "why was my", "help with my"}
	var ex []Example
	for _, th := range things {
		for _, a := range acts {
			for _, tail := range []string{"", " please", " today", " now", " again", " quickly", " online", " by email", " for free", " this week", " asap"} {
				ex = append(ex, Example{Text: a + " " + th + tail, Intent: th})
			}
		}
	}
	if len(ex) < largeFrom {
		t.Fatalf("%d phrasings, want at least %d", len(ex), largeFrom)
	}
	if _, large := trainFor(len(ex) / 2); large {
		t.Fatalf("%d examples count as large", len(ex)/2)
	}
	dir := filepath.Join(t.TempDir(), "kb")
	ctx := context.Background()
	qs := []string{"my parcel has not arrived", "i forgot my password", "what about the sofa"}
	// open returns whether the stored model was reused and whether the
	// knowledge base is large, with its confidences for qs.
	open := func() (reused, large bool, conf []float64) {
		k, err := Open(ctx, dir, ContentFromExamples(ex), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		for _, q := range qs {
			hits, s, err := k.search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !s.large {
				t.Errorf("%q: signals not calibrated as large (reused %v)", q, k.Reused)
			}
			conf = append(conf, hits[0].Confidence)
		}
		return k.Reused, k.large, conf
	}
	r1, l1, c1 := open()
	r2, l2, c2 := open()
	if r1 || !r2 || !l1 || !l2 {
		t.Fatalf("reused %v then %v, large %v then %v", r1, r2, l1, l2)
	}
	if !slices.Equal(c1, c2) {
		t.Errorf("confidences %v when built, %v when reused", c1, c2)
	}
}
