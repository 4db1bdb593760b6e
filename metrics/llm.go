package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// llmMetrics are the language model's figures (see ObserveLLM).
type llmMetrics struct {
	requests *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	rerank   *prometheus.CounterVec
}

// Requests to a model: a streamed answer takes a few seconds, and
// --llm-timeout (8 s by default) ends the slowest.
var llmBuckets = []float64{.1, .25, .5, 1, 2, 4, 8, 15, 30}

// registerLLM registers the language-model families, with the series
// dashboards rely on at zero.
func (m *Metrics) registerLLM() {
	m.llm.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "frontdesk_llm_request_duration_seconds",
		Help:    "Requests to the language model, by call (chat, embeddings) and outcome (ok, error, timeout, budget: refused before sending).",
		Buckets: llmBuckets}, []string{"call", "outcome"})
	m.llm.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "frontdesk_llm_tokens_total",
		Help: "Language-model tokens used, by call and kind (prompt, completion)."}, []string{"call", "kind"})
	m.llm.rerank = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "frontdesk_llm_rerank_total",
		Help: "Questions ranked with embeddings (reranked) or, the embeddings endpoint failing or the articles not embedded yet, without (fallback)."}, []string{"outcome"})
	m.reg.MustRegister(m.llm.requests, m.llm.tokens, m.llm.rerank)
	for _, o := range []string{"reranked", "fallback"} {
		m.llm.rerank.WithLabelValues(o)
	}
	for _, kind := range []string{"prompt", "completion"} {
		m.llm.tokens.WithLabelValues("chat", kind)
	}
}

// ObserveLLM records one request to the language model (llm.Observer):
// its call, outcome, tokens and duration.
func (m *Metrics) ObserveLLM(call, outcome string, promptTokens, completionTokens int, d time.Duration) {
	call, outcome = label(call), label(outcome)
	m.llm.requests.WithLabelValues(call, outcome).Observe(d.Seconds())
	m.llm.tokens.WithLabelValues(call, "prompt").Add(float64(promptTokens))
	m.llm.tokens.WithLabelValues(call, "completion").Add(float64(completionTokens))
}

// ObserveRerank counts one question's ranking with embeddings:
// "reranked", or "fallback" when it was ranked without (kb.RerankOptions.Observe).
func (m *Metrics) ObserveRerank(outcome string) {
	m.llm.rerank.WithLabelValues(label(outcome)).Inc()
}
