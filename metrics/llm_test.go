package metrics

import (
	"testing"
	"time"
)

func TestObserveLLMRecordsTokensAndLatencyByCallAndOutcome(t *testing.T) {
	m := New(Options{})
	fams, _ := scrape(t, m)
	if v := value(fams, "frontdesk_llm_tokens_total", "call", "chat", "kind", "prompt"); v != 0 {
		t.Errorf("before any request: %v, want a zero series", v)
	}
	m.ObserveLLM("chat", "ok", 120, 30, 1500*time.Millisecond)
	m.ObserveLLM("chat", "timeout", 0, 0, 8*time.Second)
	m.ObserveLLM("brief", "ok", 300, 60, 2*time.Second)
	m.ObserveLLM("chat", "Some Label!", 1, 1, 0)
	fams, _ = scrape(t, m)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"frontdesk_llm_tokens_total", []string{"call", "chat", "kind", "prompt"}, 121},
		{"frontdesk_llm_tokens_total", []string{"call", "chat", "kind", "completion"}, 31},
		{"frontdesk_llm_tokens_total", []string{"call", "brief", "kind", "prompt"}, 300},
		{"frontdesk_llm_request_duration_seconds", []string{"call", "chat", "outcome", "ok"}, 1},
		{"frontdesk_llm_request_duration_seconds", []string{"call", "chat", "outcome", "timeout"}, 1},
		{"frontdesk_llm_request_duration_seconds", []string{"call", "chat", "outcome", "other"}, 1},
	} {
		if v := value(fams, tc.name, tc.labels...); v != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, v, tc.want)
		}
	}
	if s := histogramSum(fams, "frontdesk_llm_request_duration_seconds"); s < 13.4 || s > 13.6 {
		t.Errorf("duration sum %v, want 13.5", s)
	}
}

func TestObserveRerankCountsReRankedAndFallbackQuestions(t *testing.T) {
	m := New(Options{})
	fams, _ := scrape(t, m)
	if v := value(fams, "frontdesk_llm_rerank_total", "outcome", "fallback"); v != 0 {
		t.Errorf("before any question: %v, want a zero series", v)
	}
	m.ObserveRerank("reranked")
	m.ObserveRerank("reranked")
	m.ObserveRerank("fallback")
	fams, _ = scrape(t, m)
	if v := value(fams, "frontdesk_llm_rerank_total", "outcome", "reranked"); v != 2 {
		t.Errorf("reranked = %v, want 2", v)
	}
	if v := value(fams, "frontdesk_llm_rerank_total", "outcome", "fallback"); v != 1 {
		t.Errorf("fallback = %v, want 1", v)
	}
}
