package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/llm"
)

// evalLLMFlags are eval's flags for measuring with the language model.
type evalLLMFlags struct {
	on                                    bool
	baseURL, model, timeout, weight, mask string
	cache                                 string
}

func (f *evalLLMFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.on, "llm", false, "also measure the ranking re-ranked with an embedding model, side by side with the plain one")
	fs.StringVar(&f.baseURL, "llm-base-url", envDefault("llm-base-url", ""), "with --llm: OpenAI-compatible API base, e.g. http://localhost:11434/v1")
	fs.StringVar(&f.model, "llm-embedding-model", envDefault("llm-embedding-model", ""), "with --llm: the embedding model, e.g. nomic-embed-text")
	fs.StringVar(&f.timeout, "llm-timeout", envDefault("llm-timeout", llm.DefaultTimeout.String()), "with --llm: longest wait for one embeddings request")
	fs.StringVar(&f.weight, "llm-embedding-weight", envDefault("llm-embedding-weight", ""), fmt.Sprintf("with --llm and no --val: the weight of the embeddings (default %g); with --val it is learnt", float64(kb.DefaultRerankWeight)))
	fs.StringVar(&f.mask, "llm-mask", envDefault("llm-mask", "true"), "with --llm: mask e-mail addresses and long numbers before they are sent, as serve does")
	fs.StringVar(&f.cache, "llm-embeddings-cache", envDefault("llm-embeddings-cache", ""), "with --llm: `file` keeping the training set's vectors between runs (default: none)")
}

// client returns the embeddings client the flags configure.
func (f *evalLLMFlags) client() (*llm.Client, error) {
	if f.baseURL == "" || f.model == "" {
		return nil, usageError{"eval --llm needs --llm-base-url and --llm-embedding-model: it measures re-ranking with embeddings"}
	}
	u, err := url.Parse(f.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, usageError{fmt.Sprintf("llm-base-url: %q is not an http:// or https:// URL such as http://localhost:11434/v1 (the key goes in %s)", f.baseURL, llmAPIKeyEnv)}
	}
	timeout, err := time.ParseDuration(f.timeout)
	if err != nil || timeout <= 0 {
		return nil, usageError{fmt.Sprintf("llm-timeout: %q is not a positive duration such as 8s", f.timeout)}
	}
	mask, err := strconv.ParseBool(f.mask)
	if err != nil {
		return nil, usageError{fmt.Sprintf("llm-mask: %q is not true or false", f.mask)}
	}
	c, err := llm.New(llm.Options{BaseURL: f.baseURL, APIKey: os.Getenv(llmAPIKeyEnv), EmbeddingModel: f.model, Timeout: timeout, Mask: mask})
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return c, nil
}

type evalFiles struct{ train, val, test string }

// evalLLMResult is eval --llm's JSON: the re-ranked result with the
// fields of eval's, the plain one beside it, and how re-ranking went.
type evalLLMResult struct {
	kb.Result
	Plain  kb.Result    `json:"plain"`
	Rerank rerankReport `json:"rerank"`
}

type rerankReport struct {
	EmbeddingModel   string         `json:"embedding_model"`
	Weight           float64        `json:"weight"`
	WeightFrom       string         `json:"weight_from"`
	Weights          []kb.WeightRow `json:"weights,omitempty"`
	Articles         kb.EmbedStats  `json:"articles"`
	Questions        int            `json:"questions_embedded"`
	QuestionRequests int            `json:"question_requests"`
	QuestionSeconds  float64        `json:"question_seconds"`
}

// evalLLM is eval --llm: one knowledge base built from train, its
// articles embedded, and the test set ranked plainly and re-ranked.
func evalLLM(ctx context.Context, lf evalLLMFlags, t kb.Thresholds, from string, train, val, test []kb.Example,
	files evalFiles, asJSON bool, prog func(string, int, int), stdout, stderr io.Writer) error {
	client, err := lf.client()
	if err != nil {
		return err
	}
	ro := kb.RerankOptions{Model: lf.model, CacheFile: lf.cache}
	if lf.weight != "" {
		if ro.Weight, err = embeddingWeight(lf.weight); err != nil {
			return err
		}
	}
	rr := kb.NewReranker(client, ro)
	if prog != nil {
		prog("embedding the articles (title, body and each training question) and the questions", 0, 0)
	}
	k, err := kb.Build(ctx, kb.ContentFromExamples(train), kb.Options{Thresholds: t, Progress: prog, Reranker: rr})
	if err != nil {
		return err
	}
	defer k.Close()
	if err := rr.Err(); err != nil {
		return err
	}
	cmp, err := k.CompareReranking(ctx, val, test)
	if err != nil {
		return err
	}
	if val != nil {
		from = "val"
	}
	cmp.Plain.ThresholdsFrom, cmp.Reranked.ThresholdsFrom = from, from
	res := evalLLMResult{Result: cmp.Reranked, Plain: cmp.Plain, Rerank: rerankReport{
		EmbeddingModel: lf.model, Weight: cmp.Weight, WeightFrom: cmp.WeightFrom, Weights: cmp.Weights,
		Articles: cmp.Articles, Questions: cmp.Questions, QuestionRequests: cmp.QuestionRequests,
		QuestionSeconds: cmp.QuestionSeconds,
	}}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	reportLLM(stdout, res, files)
	return nil
}

// reportLLM prints eval --llm's comparison for people.
func reportLLM(w io.Writer, r evalLLMResult, f evalFiles) {
	pct := func(x float64) string { return fmt.Sprintf("%5.1f%%", 100*x) }
	p, q := r.Plain, r.Result
	fmt.Fprintf(w, "Frontdesk evaluation with embeddings (%s)\n  train %s\n", r.Rerank.EmbeddingModel, f.train)
	if f.val != "" {
		fmt.Fprintf(w, "  val   %s\n", f.val)
	}
	fmt.Fprintf(w, "  test  %s (%d questions: %d in scope, %d out of scope)\n\n", f.test, q.NTest, q.NInScope, q.NOutOfScope)
	a := r.Rerank.Articles
	fmt.Fprintf(w, "Articles: %d texts (titles with bodies, training questions); %d from the cache, %d embedded in %d requests\n",
		a.Texts, a.Cached, a.Embedded, a.Requests)
	fmt.Fprintf(w, "Questions: %d embedded in %d requests, %.2f s\n", r.Rerank.Questions, r.Rerank.QuestionRequests, r.Rerank.QuestionSeconds)
	how := "learnt on val"
	if r.Rerank.WeightFrom != "val" {
		how = "from --llm-embedding-weight or its default"
	}
	fmt.Fprintf(w, "Weight of the embeddings: %g (%s)\n\n", r.Rerank.Weight, how)

	fmt.Fprintf(w, "  %-22s %-12s %-12s %s\n", "", "plain", "re-ranked", "change")
	th := func(t kb.Thresholds) string { return fmt.Sprintf("%.3f/%.3f", t.Answer, t.Clarify) }
	fmt.Fprintf(w, "  %-22s %-12s %-12s (answer/clarify, from %s)\n", "thresholds", th(p.Thresholds), th(q.Thresholds), q.ThresholdsFrom)
	row := func(name string, a, b float64) {
		fmt.Fprintf(w, "  %-22s %-12s %-12s %+.1f points\n", name, pct(a), pct(b), 100*(b-a))
	}
	row("in-scope accuracy", p.InScopeAccuracy, q.InScopeAccuracy)
	if q.NOutOfScope > 0 {
		row("out-of-scope recall", p.OOSRecall, q.OOSRecall)
	}
	row("accuracy", p.Accuracy, q.Accuracy)
	row("answer rate", p.AnswerRate, q.AnswerRate)
	row("answer precision", p.AnswerPrecision, q.AnswerPrecision)
	row("clarify rate", p.ClarifyRate, q.ClarifyRate)
	row("clarify hit rate", p.ClarifyHitRate, q.ClarifyHitRate)
	fmt.Fprintf(w, "  %-22s %-12s %-12s (re-ranked: with each question's share of its batch's embedding request)\n", "search p50 / p99 ms",
		fmt.Sprintf("%.3f/%.3f", p.SearchP50Ms, p.SearchP99Ms), fmt.Sprintf("%.3f/%.3f", q.SearchP50Ms, q.SearchP99Ms))

	if len(r.Rerank.Weights) > 0 {
		fmt.Fprintf(w, "\nWeights tried on val (thresholds calibrated for each):\n  %-8s %-9s %s\n", "weight", "accuracy", "answer/clarify")
		for _, wr := range r.Rerank.Weights {
			mark := ""
			if wr.Weight == r.Rerank.Weight {
				mark = "  <- chosen"
			}
			fmt.Fprintf(w, "  %-8g %-9s %s%s\n", wr.Weight, pct(wr.Accuracy), th(wr.Thresholds), mark)
		}
	}
	fmt.Fprintf(w, "\nCalibration (top confidence vs. how often the top article was right), plain | re-ranked:\n")
	for i := range q.Calibration {
		b, c := p.Calibration[i], q.Calibration[i]
		if b.N == 0 && c.N == 0 {
			continue
		}
		fmt.Fprintf(w, "  %.1f-%.1f  n=%-5d right %s | n=%-5d right %s\n", c.Low, c.High, b.N, pct(b.Precision), c.N, pct(c.Precision))
	}
}
