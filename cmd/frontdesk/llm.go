package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/llm"
)

// llmSettings declares the optional language model's settings on s. The
// API key has no flag (a flag would show in the process list): it is read
// from FRONTDESK_LLM_API_KEY only, and never logged.
func llmSettings(s *settings) {
	s.add("llm-base-url", "", "OpenAI-compatible API base (https://api.openai.com/v1, http://localhost:11434/v1 for Ollama); enables model-written answers (key: env FRONTDESK_LLM_API_KEY)")
	s.add("llm-model", "", "model that writes answers, e.g. gpt-4o-mini or qwen2.5:3b")
	s.add("llm-embedding-model", "", "embedding model, e.g. text-embedding-3-small or nomic-embed-text; re-ranks the knowledge base's candidates by meaning (vectors cached in DATA-DIR/embeddings.json)")
	s.add("llm-embedding-weight", fmt.Sprint(kb.DefaultRerankWeight), "weight of the question's similarity to each candidate article in the ranking (learn it for your model and content with frontdesk eval --llm --val)")
	s.add("llm-timeout", llm.DefaultTimeout.String(), "longest wait for the model before the article is sent as written")
	s.add("llm-conversation-tokens", "20000", "tokens one conversation may use; then its articles are sent as written (0: no limit)")
	s.add("llm-daily-tokens", "2000000", "tokens this server may use a day (UTC); then articles are sent as written (0: no limit)")
	s.add("llm-assist", "true", "at hand-off, write a summary and a suggested reply for the agent (a private note marked machine-written)")
	s.add("llm-mask", "true", "mask e-mail addresses, phone numbers and card-like numbers in customers' text before it is sent to the model")
}

// llmAPIKeyEnv holds the model API's key.
const llmAPIKeyEnv = "FRONTDESK_LLM_API_KEY"

// openLLM returns the language-model client the settings configure, or
// nil when --llm-base-url is not set.
func openLLM(cfg *settings, obs llm.Observer, log *slog.Logger) (*llm.Client, error) {
	base := cfg.get("llm-base-url")
	if base == "" {
		if cfg.get("llm-model") != "" || cfg.get("llm-embedding-model") != "" {
			return nil, usageError{"llm-model needs llm-base-url, the model API's address"}
		}
		return nil, nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Sprintf("llm-base-url: %q is not an http:// or https:// URL such as http://localhost:11434/v1", base)}
	}
	if u.User != nil {
		return nil, usageError{"llm-base-url: put the API key in " + llmAPIKeyEnv + ", not in the URL"}
	}
	o := llm.Options{
		BaseURL:        base,
		APIKey:         os.Getenv(llmAPIKeyEnv),
		Model:          cfg.get("llm-model"),
		EmbeddingModel: cfg.get("llm-embedding-model"),
		Observer:       obs,
		Log:            log,
	}
	if o.Model == "" {
		return nil, usageError{"llm-base-url needs llm-model, the model that writes answers"}
	}
	if o.Timeout, err = cfg.duration("llm-timeout"); err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		return nil, usageError{fmt.Sprintf("llm-timeout: %q is not a positive duration such as 8s", cfg.get("llm-timeout"))}
	}
	if o.Timeout > 12*time.Second {
		// The customer's message is acknowledged with the answer, and the
		// widget sends a message again after 15 s without an ack.
		log.Warn("llm-timeout above 12s: web customers may send their message again while the model writes", "timeout", o.Timeout.String())
	}
	if o.ConversationTokens, err = cfg.integer("llm-conversation-tokens"); err != nil {
		return nil, err
	}
	if o.DailyTokens, err = cfg.integer("llm-daily-tokens"); err != nil {
		return nil, err
	}
	if o.ConversationTokens < 0 || o.DailyTokens < 0 {
		return nil, usageError{"llm-conversation-tokens and llm-daily-tokens cannot be negative"}
	}
	if o.Mask, err = strconv.ParseBool(cfg.get("llm-mask")); err != nil {
		return nil, usageError{fmt.Sprintf("llm-mask: %q is not true or false", cfg.get("llm-mask"))}
	}
	c, err := llm.New(o)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	// The address without path or query, and never the key.
	log.Info("language model enabled", "host", u.Host, "model", o.Model, "embedding_model", o.EmbeddingModel,
		"timeout", o.Timeout.String(), "mask", o.Mask, "api_key_set", o.APIKey != "")
	return c, nil
}

// embeddingsFile is the embeddings cache's name in the data directory.
const embeddingsFile = "embeddings.json"

// openReranker returns the knowledge base's re-ranker when the settings
// name an embedding model, or nil. Its vectors are cached in
// dataDir/embeddings.json; each question's outcome is counted by
// observe.
func openReranker(cfg *settings, client *llm.Client, dataDir string, observe func(string), log *slog.Logger) (*kb.Reranker, error) {
	model := cfg.get("llm-embedding-model")
	if client == nil || model == "" {
		return nil, nil
	}
	w, err := embeddingWeight(cfg.get("llm-embedding-weight"))
	if err != nil {
		return nil, err
	}
	return kb.NewReranker(client, kb.RerankOptions{
		Model:     model,
		CacheFile: filepath.Join(dataDir, embeddingsFile),
		Weight:    w,
		Observe:   observe,
		Log:       log,
	}), nil
}

// embeddingWeight parses --llm-embedding-weight.
func embeddingWeight(s string) (float64, error) {
	w, err := strconv.ParseFloat(s, 64)
	if err != nil || w <= 0 || w > 1000 {
		return 0, usageError{fmt.Sprintf("llm-embedding-weight: %q is not a number above 0 such as %g (leave out --llm-embedding-model to rank without embeddings)", s, float64(kb.DefaultRerankWeight))}
	}
	return w, nil
}
