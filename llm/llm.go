// Package llm connects Frontdesk to a language model behind any
// OpenAI-compatible HTTP API (OpenAI, Azure OpenAI, Ollama, vLLM,
// llama.cpp): it implements bot.Composer, wording answers from
// knowledge-base articles, and bot.Briefer, briefing the agent who takes
// over a conversation. It is the only importer of go-openai. Without a
// Client, Frontdesk answers with the articles as written.
//
// What leaves the machine: the instructions, the offered articles (id,
// title, body), and the customer's words: for an answer their question
// and up to three earlier ones, for an agent brief (Brief) the
// conversation's latest messages; e-mail addresses, phone numbers and
// card-like numbers in them masked (Options.Mask). With an embedding
// model (Embed): article titles, bodies and phrasings, and customers'
// questions, masked likewise. Never: the customer's
// profile as such, conversation or customer ids, agents' private notes,
// the API key in a log.
package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/frontdesk/frontdesk/bot"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the API's base, e.g. https://api.openai.com/v1 or
	// http://localhost:11434/v1 (Ollama); requests go to
	// {BaseURL}/chat/completions and {BaseURL}/embeddings. Required.
	BaseURL string
	// APIKey is sent as a bearer token; optional for local servers.
	APIKey string
	// Model writes answers. Required unless EmbeddingModel is set (a
	// client only for embeddings, as `frontdesk eval --llm` uses).
	Model string
	// EmbeddingModel computes embeddings (optional; Embed fails without).
	EmbeddingModel string
	// Timeout bounds each request, streamed or not (default 8 s). Past
	// it the caller falls back to the article as written.
	Timeout time.Duration
	// MaxTokens caps an answer's length in tokens (default 400).
	MaxTokens int
	// ConversationTokens and DailyTokens are token budgets (0: none): a
	// conversation that has used ConversationTokens, or a day (UTC) on
	// which this process has used DailyTokens, gets no more model
	// answers, only articles as written.
	ConversationTokens int
	DailyTokens        int
	// Mask replaces e-mail addresses, phone numbers and card-like numbers
	// in the customer's text before it is sent.
	Mask bool
	// Observer, if set, is told about every request.
	Observer Observer
	Log      *slog.Logger
	// HTTPClient sends the requests (default: a new http.Client).
	HTTPClient *http.Client
	// Now is the clock for the daily budget (default time.Now).
	Now func() time.Time
}

// Observer is told, for each request, its kind ("chat", "embeddings"),
// outcome ("ok", "error", "timeout", "budget"), the tokens used and how
// long it took. *metrics.Metrics implements it.
type Observer interface {
	ObserveLLM(call, outcome string, promptTokens, completionTokens int, d time.Duration)
}

// ErrBudget is returned when a token budget is used up.
var ErrBudget = errors.New("llm: token budget used up")

// DefaultTimeout bounds a request when Options.Timeout is zero.
const DefaultTimeout = 8 * time.Second

// Client is a language model behind an OpenAI-compatible API. It is safe
// for concurrent use.
type Client struct {
	api  *openai.Client
	opts Options

	// mu guards day and dayUsed, the tokens used on that day (UTC).
	mu      sync.Mutex
	day     string
	dayUsed int
}

var _ bot.Composer = (*Client)(nil)

// New returns a client for the API at o.BaseURL. It sends nothing yet.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("llm base URL %q is not an http:// or https:// URL", o.BaseURL)
	}
	if strings.TrimSpace(o.Model) == "" && strings.TrimSpace(o.EmbeddingModel) == "" {
		return nil, errors.New("llm: a model is needed (--llm-model)")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 400
	}
	if o.ConversationTokens < 0 || o.DailyTokens < 0 {
		return nil, errors.New("llm: token budgets cannot be negative")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	cfg := openai.DefaultConfig(o.APIKey)
	cfg.BaseURL = strings.TrimRight(o.BaseURL, "/")
	cfg.HTTPClient = o.HTTPClient
	return &Client{api: openai.NewClientWithConfig(cfg), opts: o}, nil
}

// Compose implements bot.Composer: one chat completion, streamed when
// req.Stream, within Options.Timeout.
func (c *Client) Compose(ctx context.Context, req bot.ComposeRequest, draft func(string)) (bot.Composition, error) {
	if c.opts.Model == "" {
		return bot.Composition{}, errors.New("llm: no model to write answers (--llm-model)")
	}
	if b := c.opts.ConversationTokens; b > 0 && req.Used >= b {
		c.observe("chat", "budget", 0, 0, 0)
		return bot.Composition{}, fmt.Errorf("conversation: %w", ErrBudget)
	}
	if !c.dayAllows() {
		c.observe("chat", "budget", 0, 0, 0)
		return bot.Composition{}, fmt.Errorf("day: %w", ErrBudget)
	}
	msgs := messages(req, c.opts.Mask)
	creq := openai.ChatCompletionRequest{
		Model:       c.opts.Model,
		Messages:    msgs,
		MaxTokens:   c.opts.MaxTokens,
		Temperature: 0.2,
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	start := time.Now()
	var (
		text  string
		usage openai.Usage
		err   error
	)
	if req.Stream {
		text, usage, err = c.stream(ctx, creq, draft)
	} else {
		var resp openai.ChatCompletionResponse
		resp, err = c.api.CreateChatCompletion(ctx, creq)
		if err == nil {
			usage = resp.Usage
			if len(resp.Choices) > 0 {
				text = resp.Choices[0].Message.Content
			}
		}
	}
	if usage.TotalTokens == 0 && (err == nil || text != "") {
		// Servers that report no usage: about four characters a token.
		usage.PromptTokens = promptLen(msgs) / 4
		usage.CompletionTokens = len(text) / 4
	}
	used := usage.PromptTokens + usage.CompletionTokens
	c.spend(used)
	c.observe("chat", outcome(ctx, err), usage.PromptTokens, usage.CompletionTokens, time.Since(start))
	if err != nil {
		return bot.Composition{Tokens: used}, fmt.Errorf("llm chat completion: %w", err)
	}
	return bot.Composition{Text: text, Tokens: used}, nil
}

// stream reads a streamed completion, calling draft with the text so
// far after each chunk.
func (c *Client) stream(ctx context.Context, creq openai.ChatCompletionRequest, draft func(string)) (string, openai.Usage, error) {
	creq.Stream = true
	creq.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	s, err := c.api.CreateChatCompletionStream(ctx, creq)
	if err != nil {
		return "", openai.Usage{}, err
	}
	defer s.Close()
	var b strings.Builder
	var usage openai.Usage
	for {
		chunk, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return b.String(), usage, nil
		}
		if err != nil {
			return b.String(), usage, err
		}
		if chunk.Usage != nil {
			usage = *chunk.Usage
		}
		grew := false
		for _, ch := range chunk.Choices {
			if ch.Index == 0 && ch.Delta.Content != "" {
				b.WriteString(ch.Delta.Content)
				grew = true
			}
		}
		if grew && draft != nil {
			draft(b.String())
		}
	}
}

func outcome(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout"
	default:
		return "error"
	}
}

func (c *Client) observe(call, outcome string, prompt, completion int, d time.Duration) {
	if c.opts.Observer != nil {
		c.opts.Observer.ObserveLLM(call, outcome, prompt, completion, d)
	}
}

// dayAllows reports whether today's budget has tokens left.
func (c *Client) dayAllows() bool {
	if c.opts.DailyTokens <= 0 {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rollDay()
	return c.dayUsed < c.opts.DailyTokens
}

// spend counts tokens against today's budget.
func (c *Client) spend(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rollDay()
	c.dayUsed += n
}

// rollDay starts a new day's count at midnight UTC. c.mu is held.
func (c *Client) rollDay() {
	if d := c.opts.Now().UTC().Format(time.DateOnly); d != c.day {
		c.day, c.dayUsed = d, 0
	}
}
