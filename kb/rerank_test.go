package kb_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/openaitest"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/llm"
)

// The test model's "semantics": words about money fold onto one concept,
// as a real embedding model puts them near each other.
var moneyWords = map[string]string{"refund": "money", "money": "money", "cash": "money", "back": "money", "reimbursement": "money"}

// The customer asks for their money with the words of the shipping
// article: the plain ranking picks shipping, the embeddings refunds.
const moneyQuestion = "reimbursement: cash back, when will it arrive?"

var shopArticles = map[string]string{
	"refunds.md": `---
id: refunds
title: Refunds
questions:
  - how do i get a refund
  - can i get my money back
---
We refund the full price within 14 days of the return.
`,
	"shipping.md": `---
id: shipping
title: Shipping times
questions:
  - when will my parcel arrive
  - how long does delivery take
  - when will my order arrive
---
Parcels arrive within 3 to 5 working days.
`,
	"password.md": `---
id: password
title: Reset your password
questions:
  - i forgot my password
  - how do i reset my password
---
Use the "forgot password" link on the sign-in page.
`,
}

func writeArticles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rig is a content directory, a model server speaking the OpenAI
// embeddings wire format, and a client for it.
type rig struct {
	content string
	srv     *openaitest.Server
	client  *llm.Client
	cache   string

	mu       sync.Mutex
	outcomes map[string]int
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{content: t.TempDir(), cache: filepath.Join(t.TempDir(), "data", "embeddings.json"), outcomes: map[string]int{}}
	writeArticles(t, r.content, shopArticles)
	r.srv = openaitest.New(t, func(openaitest.Request) openaitest.Reply { return openaitest.Reply{Status: 500} })
	r.srv.SetConcepts(moneyWords)
	var err error
	r.client, err = llm.New(llm.Options{BaseURL: r.srv.URL(), EmbeddingModel: "test-embed", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) reranker(weight float64) *kb.Reranker {
	return kb.NewReranker(r.client, kb.RerankOptions{Model: "test-embed", CacheFile: r.cache, Weight: weight,
		Pause: time.Hour, Observe: func(o string) { r.mu.Lock(); r.outcomes[o]++; r.mu.Unlock() }})
}

func (r *rig) outcome(o string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.outcomes[o]
}

func (r *rig) load(t *testing.T) *kb.Content {
	t.Helper()
	c, err := kb.Load(os.DirFS(r.content))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// top is the best hit of Decide, which re-ranks.
func top(t *testing.T, k interface {
	Decide(context.Context, string) (kb.Decision, error)
}, q string) kb.Hit {
	t.Helper()
	d, err := k.Decide(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Hits) == 0 {
		t.Fatalf("no hits for %q", q)
	}
	return d.Hits[0]
}

// cachedKeys reads the cache file's keys.
func cachedKeys(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Model   string            `json:"model"`
		Vectors map[string]string `json:"vectors"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if f.Model != "test-embed" {
		t.Errorf("cache model %q, want test-embed", f.Model)
	}
	return f.Vectors
}

func texts(reqs [][]string) int {
	n := 0
	for _, r := range reqs {
		n += len(r)
	}
	return n
}

func TestRerankingMovesTheSemanticMatchUpAndTheCacheSurvivesARestart(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	c := r.load(t)
	plain, err := kb.Build(ctx, c, kb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if got := top(t, plain, moneyQuestion).ID; got != "shipping" {
		t.Fatalf("plain ranking's top for %q = %s; the test needs shipping", moneyQuestion, got)
	}

	dir := filepath.Join(t.TempDir(), "kb")
	k, err := kb.Open(ctx, dir, c, kb.Options{Reranker: r.reranker(50)})
	if err != nil {
		t.Fatal(err)
	}
	// 3 articles: title+body and 7 phrasings, in one request.
	if got := r.srv.Embeddings(); len(got) != 1 || len(got[0]) != 10 {
		t.Fatalf("article embedding requests = %d with %d texts, want 1 with 10", len(got), texts(got))
	}
	if n := len(cachedKeys(t, r.cache)); n != 10 {
		t.Fatalf("cache file holds %d vectors, want 10", n)
	}
	h := top(t, k, moneyQuestion)
	if h.ID != "refunds" {
		t.Fatalf("re-ranked top = %s, want refunds", h.ID)
	}
	if n := len(r.srv.Embeddings()); n != 2 {
		t.Fatalf("requests after one question = %d, want 2 (articles, question)", n)
	}
	// Search (agents' article picker, insights) stays lexical and free.
	if hits, err := k.Search(ctx, moneyQuestion); err != nil || hits[0].ID != "shipping" || len(r.srv.Embeddings()) != 2 {
		t.Errorf("Search re-ranked or asked the server (top %s, %d requests, err %v)", hits[0].ID, len(r.srv.Embeddings()), err)
	}
	if r.outcome("reranked") != 1 {
		t.Errorf("outcomes %v, want one reranked", r.outcomes)
	}
	// A question the plain ranking already gets right stays right.
	if got := top(t, k, "i forgot my password").ID; got != "password" {
		t.Errorf("re-ranked top for the password question = %s", got)
	}
	k.Close()

	// Restart: a new Reranker reads the cache file; nothing is embedded
	// again but the question.
	before := len(r.srv.Embeddings())
	k, err = kb.Open(ctx, dir, c, kb.Options{Reranker: r.reranker(50)})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if !k.Reused {
		t.Error("the stored index was not reused")
	}
	if n := len(r.srv.Embeddings()); n != before {
		t.Fatalf("restart sent %d embedding requests, want 0 (cache hit)", n-before)
	}
	if got := top(t, k, moneyQuestion).ID; got != "refunds" {
		t.Fatalf("after restart re-ranked top = %s, want refunds", got)
	}
	if got := r.srv.Embeddings(); len(got) != before+1 || len(got[before]) != 1 || got[before][0] != moneyQuestion {
		t.Fatalf("after restart: requests %v, want only the question", got[before:])
	}
}

func TestLiveReloadEmbedsOnlyNewAndChangedArticlesAndDropsRemovedOnes(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	// After the reload the plain ranking is surer of shipping (0.97:
	// the question ends in its words) than with the first articles, so
	// the embeddings need more weight to win.
	rr := r.reranker(100)
	c := r.load(t)
	k, err := kb.Build(ctx, c, kb.Options{Reranker: rr})
	if err != nil {
		t.Fatal(err)
	}
	live := kb.NewLive(k, c, kb.Options{Reranker: rr})
	defer live.Close()
	old := cachedKeys(t, r.cache)
	before := len(r.srv.Embeddings())

	// password removed, shipping's body changed, a new article added.
	if err := os.Remove(filepath.Join(r.content, "password.md")); err != nil {
		t.Fatal(err)
	}
	writeArticles(t, r.content, map[string]string{
		"shipping.md": `---
id: shipping
title: Shipping times
questions:
  - when will my parcel arrive
  - how long does delivery take
  - when will my order arrive
---
Parcels arrive within 2 to 4 working days.
`,
		"hours.md": `---
id: hours
title: Opening hours
questions:
  - when are you open
---
We are open from 9 to 17.
`,
	})
	if _, err := live.Reload(ctx, os.DirFS(r.content)); err != nil {
		t.Fatal(err)
	}
	reqs := r.srv.Embeddings()[before:]
	want := map[string]bool{"Shipping times\n\nParcels arrive within 2 to 4 working days.": true, "Opening hours\n\nWe are open from 9 to 17.": true, "when are you open": true}
	if texts(reqs) != len(want) {
		t.Fatalf("reload embedded %v, want only %d new texts", reqs, len(want))
	}
	for _, req := range reqs {
		for _, in := range req {
			if !want[in] {
				t.Errorf("reload embedded %q, which was cached", in)
			}
		}
	}
	now := cachedKeys(t, r.cache)
	// 10 before, less password's 3 texts, less shipping's old body, plus 3.
	if len(now) != 9 {
		t.Errorf("cache holds %d vectors after the reload, want 9", len(now))
	}
	dropped := 0
	for key := range old {
		if _, ok := now[key]; !ok {
			dropped++
		}
	}
	if dropped != 4 {
		t.Errorf("%d vectors dropped, want 4 (password's 3, shipping's old body)", dropped)
	}
	if got := top(t, live, moneyQuestion).ID; got != "refunds" {
		t.Errorf("after reload re-ranked top = %s, want refunds", got)
	}
}

func TestFailingEmbeddingsFallBackToThePlainRanking(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply openaitest.EmbedReply
	}{
		{"on a 500", openaitest.EmbedReply{Status: http.StatusInternalServerError}},
		{"on a malformed response", openaitest.EmbedReply{Malformed: true}},
		{"on a timeout", openaitest.EmbedReply{Delay: 5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			ctx := context.Background()
			k, err := kb.Build(ctx, r.load(t), kb.Options{Reranker: kb.NewReranker(r.client, kb.RerankOptions{
				Model: "test-embed", CacheFile: r.cache, Weight: 50, Pause: time.Hour, QuestionTimeout: 300 * time.Millisecond,
				Observe: func(o string) { r.mu.Lock(); r.outcomes[o]++; r.mu.Unlock() }})})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			r.srv.SetEmbeddings(func([]string) openaitest.EmbedReply { return tc.reply })
			start := time.Now()
			d, err := k.Decide(ctx, moneyQuestion)
			if err != nil {
				t.Fatalf("Decide failed with the embeddings endpoint down: %v", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("the fallback took %v", took)
			}
			if d.Hits[0].ID != "shipping" {
				t.Errorf("top = %s, want the plain ranking's shipping", d.Hits[0].ID)
			}
			if r.outcome("fallback") != 1 || r.outcome("reranked") != 0 {
				t.Errorf("outcomes %v, want one fallback", r.outcomes)
			}
			// Paused: the next question does not wait on the endpoint.
			n := len(r.srv.Embeddings())
			if got := top(t, k, moneyQuestion).ID; got != "shipping" {
				t.Errorf("second question top = %s", got)
			}
			if len(r.srv.Embeddings()) != n || r.outcome("fallback") != 2 {
				t.Errorf("a paused reranker asked the server again (outcomes %v)", r.outcomes)
			}
		})
	}
}

func TestArticlesThatFailToEmbedAreRetriedAndThenReranked(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.srv.SetEmbeddings(func([]string) openaitest.EmbedReply { return openaitest.EmbedReply{Status: http.StatusBadGateway} })
	rr := r.reranker(50)
	k, err := kb.Build(ctx, r.load(t), kb.Options{Reranker: rr})
	if err != nil {
		t.Fatalf("a failing embeddings endpoint failed the build: %v", err)
	}
	defer k.Close()
	if got := top(t, k, moneyQuestion).ID; got != "shipping" {
		t.Fatalf("top = %s before the articles are embedded, want the plain shipping", got)
	}
	if _, err := os.Stat(r.cache); err == nil {
		t.Error("a cache file was written although nothing was embedded")
	}
	r.srv.SetEmbeddings(nil)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { rr.Run(rctx, 20*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); len(cachedKeysIfAny(r.cache)) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the articles were not embedded again")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := top(t, k, moneyQuestion).ID; got != "refunds" {
		t.Errorf("after the retry top = %s, want refunds", got)
	}
}

func cachedKeysIfAny(file string) map[string]string {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var f struct {
		Vectors map[string]string `json:"vectors"`
	}
	json.Unmarshal(data, &f)
	return f.Vectors
}

func TestAModelThatChangesBehindItsNameIsEmbeddedAfresh(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	rr := kb.NewReranker(r.client, kb.RerankOptions{Model: "test-embed", CacheFile: r.cache, Weight: 50, Pause: time.Millisecond,
		Observe: func(o string) { r.mu.Lock(); r.outcomes[o]++; r.mu.Unlock() }})
	k, err := kb.Build(ctx, r.load(t), kb.Options{Reranker: rr})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	r.srv.SetDims(32)
	if got := top(t, k, moneyQuestion).ID; got != "shipping" || r.outcome("fallback") != 1 {
		t.Fatalf("with vectors of another size: top %s, outcomes %v; want the plain shipping, one fallback", got, r.outcomes)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { rr.Run(rctx, 10*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		data, _ := os.ReadFile(r.cache)
		var f struct{ Dims int }
		json.Unmarshal(data, &f)
		if f.Dims == 32 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the articles were not embedded afresh")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond) // past the pause
	if got := top(t, k, moneyQuestion).ID; got != "refunds" {
		t.Errorf("after embedding afresh: top %s, want refunds", got)
	}
}
