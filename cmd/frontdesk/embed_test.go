package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/internal/openaitest"
)

func TestServeReRanksWithEmbeddingsCachedInTheDataDirAndFallsBackOnA500(t *testing.T) {
	model := openaitest.New(t, citeFirst)
	dataDir := filepath.Join(t.TempDir(), "data")
	args := []string{"--llm-base-url", model.URL(), "--llm-model", "small-model", "--llm-embedding-model", "small-embed", "--llm-timeout", "3s"}
	p := serveInProcess(t, dataDir, args...)
	articleReqs := len(model.Embeddings())
	if articleReqs == 0 {
		t.Fatal("serve started without embedding the articles")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "embeddings.json")); err != nil {
		t.Fatalf("no embeddings cache in the data dir: %v", err)
	}
	c := dialCustomer(t, p.base)
	c.say("how long does delivery take?", "")
	c.until(botSays("In short: it depends on the article."))
	got := model.Embeddings()
	if len(got) != articleReqs+1 || len(got[articleReqs]) != 1 || got[articleReqs][0] != "how long does delivery take?" {
		t.Fatalf("embedding requests after one question: %v", got[articleReqs:])
	}
	fams := families(t, p.base+"/metrics")
	if v := sample(fams, "frontdesk_llm_rerank_total", "outcome", "reranked"); v != 1 {
		t.Errorf("reranked questions = %v, want 1", v)
	}

	model.SetEmbeddings(func([]string) openaitest.EmbedReply {
		return openaitest.EmbedReply{Status: http.StatusInternalServerError}
	})
	c.say("can i return an item?", "")
	c.until(func(f map[string]any) bool {
		s, _ := f["text"].(string)
		return f["type"] == "message" && f["from"] == "bot" && strings.Contains(s, "In short") && len(model.Requests()) == 2
	})
	fams = families(t, p.base+"/metrics")
	if v := sample(fams, "frontdesk_llm_rerank_total", "outcome", "fallback"); v != 1 {
		t.Errorf("fallback questions = %v, want 1", v)
	}
	if v := sample(fams, "frontdesk_llm_request_duration_seconds", "call", "embeddings", "outcome", "error"); v != 1 {
		t.Errorf("failed embedding requests = %v, want 1", v)
	}
	p.shutdown(t)
	if !strings.Contains(p.stderr.String(), "question embedding failed") {
		t.Errorf("no warning in the log:\n%s", p.stderr.String())
	}

	// A restart on unchanged content embeds nothing: the cache file has it.
	model.SetEmbeddings(nil)
	before := len(model.Embeddings())
	p = serveInProcess(t, dataDir, args...)
	if n := len(model.Embeddings()); n != before {
		t.Errorf("restart sent %d embedding requests, want 0", n-before)
	}
	p.shutdown(t)
}

func TestServeRefusesAWeightlessEmbeddingModel(t *testing.T) {
	_, _, err := runCmd(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--llm-base-url", "http://localhost:11434/v1", "--llm-model", "m", "--llm-embedding-model", "e", "--llm-embedding-weight", "0")
	if !errors.As(err, new(usageError)) {
		t.Errorf("err = %v, want a usage error", err)
	}
}

// writeRows writes examples (text, intent) as JSON Lines.
func writeRows(t *testing.T, dir, name string, rows [][2]string) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		line, _ := json.Marshal(map[string]string{"text": r[0], "intent": r[1]})
		b.Write(line)
		b.WriteByte('\n')
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestEvalLLMMeasuresThePlainAndTheReRankedRankingSideBySide(t *testing.T) {
	model := openaitest.New(t, citeFirst)
	dir := t.TempDir()
	train := writeRows(t, dir, "train.jsonl", [][2]string{
		{"how do i get a refund", "refund"}, {"can i get my money back", "refund"}, {"refund my order", "refund"}, {"i want a refund", "refund"},
		{"when will my parcel arrive", "delivery"}, {"how long does delivery take", "delivery"}, {"where is my order", "delivery"}, {"track my parcel", "delivery"},
		{"i forgot my password", "password"}, {"reset my password", "password"}, {"cannot log in", "password"}, {"change my password", "password"},
		{"what is the weather", "oos"}, {"tell me a joke", "oos"}, {"who won the game", "oos"},
	})
	val := writeRows(t, dir, "val.jsonl", [][2]string{
		{"money back please", "refund"}, {"parcel arriving when", "delivery"}, {"password forgotten", "password"}, {"sing a song", "oos"},
	})
	test := writeRows(t, dir, "test.jsonl", [][2]string{
		{"give me my money back", "refund"}, {"when does my parcel come", "delivery"}, {"new password please", "password"},
		{"what time is it in tokyo", "oos"}, {"refund for my parcel", "refund"},
	})
	cache := filepath.Join(dir, "vectors.json")
	args := []string{"eval", "--llm", "--llm-base-url", model.URL(), "--llm-embedding-model", "small-embed",
		"--train", train, "--val", val, "--test", test, "--llm-embeddings-cache", cache, "--json"}
	out, errOut, err := runCmd(t, args...)
	if err != nil {
		t.Fatalf("eval --llm: %v\n%s", err, errOut)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	plain, _ := res["plain"].(map[string]any)
	for _, key := range []string{"n_test", "in_scope_accuracy", "oos_recall", "accuracy", "answer_rate", "answer_precision", "clarify_rate", "thresholds", "threshold_table", "calibration"} {
		if _, ok := res[key]; !ok {
			t.Errorf("re-ranked result lacks eval's %q", key)
		}
		if _, ok := plain[key]; !ok {
			t.Errorf("plain result lacks eval's %q", key)
		}
	}
	if res["n_test"] != 5.0 || plain["n_test"] != 5.0 || res["thresholds_from"] != "val" {
		t.Errorf("n_test %v / %v, thresholds from %v", res["n_test"], plain["n_test"], res["thresholds_from"])
	}
	rr, _ := res["rerank"].(map[string]any)
	arts, _ := rr["articles"].(map[string]any)
	if rr["weight_from"] != "val" || rr["questions_embedded"] != 9.0 || arts["embedded"] != 15.0 || arts["cached"] != 0.0 {
		t.Errorf("rerank report %v", rr)
	}
	if ws, _ := rr["weights"].([]any); len(ws) < 5 {
		t.Errorf("weights tried: %v", rr["weights"])
	}
	// The plain ranking's figures are plain eval's.
	plainOut, _, err := runCmd(t, "eval", "--train", train, "--val", val, "--test", test, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	json.Unmarshal([]byte(plainOut), &want)
	for _, key := range []string{"in_scope_accuracy", "oos_recall", "accuracy", "answer_rate", "thresholds"} {
		if g, w := jsonText(plain[key]), jsonText(want[key]); g != w {
			t.Errorf("plain %s = %s, plain eval says %s", key, g, w)
		}
	}

	// Again, for people: the articles come from the cache file.
	before := len(model.Embeddings())
	out, errOut, err = runCmd(t, args[:len(args)-1]...)
	if err != nil {
		t.Fatalf("eval --llm: %v\n%s", err, errOut)
	}
	for _, s := range []string{"plain", "re-ranked", "in-scope accuracy", "15 from the cache, 0 embedded", "Weights tried on val", "<- chosen"} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q:\n%s", s, out)
		}
	}
	for _, req := range model.Embeddings()[before:] {
		for _, in := range req {
			if strings.HasPrefix(in, "refund\n") {
				t.Errorf("the second run embedded an article again: %q", in)
			}
		}
	}
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestEvalLLMNeedsAnEmbeddingModel(t *testing.T) {
	dir := t.TempDir()
	set := writeRows(t, dir, "set.jsonl", [][2]string{{"refund please", "refund"}, {"where is my parcel", "delivery"}})
	_, _, err := runCmd(t, "eval", "--llm", "--llm-base-url", "http://localhost:11434/v1", "--train", set, "--test", set)
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "llm-embedding-model") {
		t.Errorf("err = %v, want a usage error naming --llm-embedding-model", err)
	}
}

// TestEvalLLMOnTheLabelledSets runs eval --llm on CLINC150 (train; val's
// even lines to choose on, its odd lines to measure) against the
// stand-in model server, whose vectors are bags of words: it measures
// the plumbing and its cost, not what a real embedding model gains.
//
//	FRONTDESK_DATA=$PWD/../shared/data go test -run TestEvalLLMOnTheLabelledSets -v ./cmd/frontdesk/
func TestEvalLLMOnTheLabelledSets(t *testing.T) {
	data := os.Getenv("FRONTDESK_DATA")
	if data == "" {
		t.Skip("FRONTDESK_DATA not set")
	}
	raw, err := os.ReadFile(filepath.Join(data, "clinc150", "val.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var even, odd []string
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if i%2 == 0 {
			even = append(even, line)
		} else {
			odd = append(odd, line)
		}
	}
	dir := t.TempDir()
	val := writeSet(t, dir, "val-even.jsonl", even...)
	test := writeSet(t, dir, "val-odd.jsonl", odd...)
	model := openaitest.New(t, citeFirst)
	out, errOut, err := runCmd(t, "eval", "--llm", "--llm-base-url", model.URL(), "--llm-embedding-model", "bag-of-words",
		"--train", filepath.Join(data, "clinc150", "train.jsonl"), "--val", val, "--test", test)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	t.Logf("\n%s", out)
}
