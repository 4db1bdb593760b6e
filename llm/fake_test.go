package llm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/llm"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// model is a stand-in for an OpenAI-compatible server: it speaks the
// chat-completions wire format (a JSON response, or server-sent events
// "data: {chunk}" ending with "data: [DONE]") and /embeddings, answers as
// the test scripts it, and keeps every request it received.
type model struct {
	srv *httptest.Server

	mu     sync.Mutex
	script func(req chatRequest) reply
	reqs   []chatRequest
	bodies []string
	auth   []string
}

// chatRequest is the part of a chat-completions request the tests read.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream        bool            `json:"stream"`
	StreamOptions json.RawMessage `json:"stream_options"`
	MaxTokens     int             `json:"max_tokens"`
}

// text is all the request's message contents.
func (r chatRequest) text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return b.String()
}

// reply is what the model answers to one request.
type reply struct {
	status int    // an HTTP error status instead of an answer
	text   string // the answer; streamed in chunks of a few characters
	// delay is how long the server waits before answering.
	delay time.Duration
	// hold, if set, is waited for after the first holdAfter chunks of a
	// streamed answer.
	hold      chan struct{}
	holdAfter int
	// prompt and completion tokens reported (default 30 and 10).
	prompt, completion int
	noUsage            bool
}

func newModel(t *testing.T, script func(chatRequest) reply) *model {
	t.Helper()
	m := &model{script: script}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", m.chat)
	mux.HandleFunc("POST /v1/embeddings", m.embeddings)
	m.srv = httptest.NewServer(mux)
	t.Cleanup(m.srv.Close)
	return m
}

func (m *model) URL() string { return m.srv.URL + "/v1" }

func (m *model) requests() []chatRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]chatRequest(nil), m.reqs...)
}

func (m *model) rawBodies() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.bodies, "\n")
}

func (m *model) chat(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"error":{"message":"bad json","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	m.bodies = append(m.bodies, string(body))
	m.auth = append(m.auth, r.Header.Get("Authorization"))
	script := m.script
	m.mu.Unlock()
	rep := script(req)
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-r.Context().Done():
			return
		}
	}
	if rep.status != 0 && rep.status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		fmt.Fprint(w, `{"error":{"message":"the model is overloaded","type":"server_error","code":null}}`)
		return
	}
	if rep.prompt == 0 {
		rep.prompt, rep.completion = 30, 10
	}
	usage := map[string]int{"prompt_tokens": rep.prompt, "completion_tokens": rep.completion, "total_tokens": rep.prompt + rep.completion}
	if !req.Stream {
		resp := map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": rep.text}, "finish_reason": "stop"}},
		}
		if !rep.noUsage {
			resp["usage"] = usage
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		flusher.Flush()
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	for i, part := range chunks(rep.text, 6) {
		if rep.hold != nil && i == rep.holdAfter {
			select {
			case <-rep.hold:
			case <-r.Context().Done():
				return
			}
		}
		send(chunk(map[string]any{"content": part}, nil))
	}
	send(chunk(map[string]any{}, "stop"))
	if !rep.noUsage {
		send(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": req.Model, "choices": []any{}, "usage": usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	flusher.Flush()
}

// chunks cuts s into pieces of n bytes (the test texts are ASCII).
func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// embeddings answers with a vector per input: counts of a few letters,
// so that similar texts get similar vectors.
func (m *model) embeddings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Input []string `json:"input"`
		Model string   `json:"model"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	var data []any
	for i, in := range req.Input {
		v := make([]float32, 8)
		for _, c := range strings.ToLower(in) {
			v[int(c)%8]++
		}
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": v})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)}})
}

// observed records what a Client reports to its Observer.
type observed struct {
	mu    sync.Mutex
	calls []string
}

func (o *observed) ObserveLLM(call, outcome string, prompt, completion int, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("%s/%s/%d/%d", call, outcome, prompt, completion))
}

// rig is an engine with a real store and knowledge base whose answers
// are worded by a Client talking to a model.
type rig struct {
	t      *testing.T
	engine *bot.Engine
	bus    *bot.LocalBus
	db     *bolt.DB
	model  *model
	client *llm.Client
	kb     *kb.KB
}

// shop is the test knowledge base, with extra articles.
func shop(t *testing.T, extra map[string]string) fs.FS {
	t.Helper()
	dir := "../kb/testdata/shop"
	files := fstest.MapFS{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = &fstest.MapFile{Data: b}
	}
	for name, text := range extra {
		files[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return files
}

func newRig(t *testing.T, o llm.Options, script func(chatRequest) reply) *rig {
	return newRigWith(t, o, nil, script)
}

func newRigWith(t *testing.T, o llm.Options, extra map[string]string, script func(chatRequest) reply) *rig {
	t.Helper()
	c, err := kb.Load(shop(t, extra))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kb.Build(context.Background(), c, kb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m := newModel(t, script)
	if o.BaseURL == "" {
		o.BaseURL = m.URL()
	}
	if o.Model == "" {
		o.Model = "test-model"
	}
	client, err := llm.New(o)
	if err != nil {
		t.Fatal(err)
	}
	bus := bot.NewBus()
	e := bot.NewEngine(k, db, bus, bot.Options{Composer: client})
	return &rig{t: t, engine: e, bus: bus, db: db, model: m, client: client, kb: k}
}

// start opens a conversation on the channel.
func (r *rig) start(ch bot.Channel, who string) string {
	r.t.Helper()
	s, err := r.engine.Start(context.Background(), bot.Identity{Channel: ch, ID: who}, bot.Profile{})
	if err != nil {
		r.t.Fatal(err)
	}
	return s.Conversation.ID
}

var clientSeq int

// say sends a customer message and returns the bot's replies to it.
func (r *rig) say(conv, text string) []bot.Message {
	r.t.Helper()
	clientSeq++
	m, err := r.engine.Handle(context.Background(), bot.Inbound{ConversationID: conv, ClientID: fmt.Sprintf("c%d", clientSeq), Text: text})
	if err != nil {
		r.t.Fatal(err)
	}
	ms, err := r.db.Messages(context.Background(), conv, m.Seq)
	if err != nil {
		r.t.Fatal(err)
	}
	return ms
}

func (r *rig) article(id string) string {
	r.t.Helper()
	a, ok := r.kb.Article(id)
	if !ok {
		r.t.Fatalf("no article %s", id)
	}
	return a.Body
}

// answerTo scripts a model that always answers text.
func answerTo(text string) func(chatRequest) reply {
	return func(chatRequest) reply { return reply{text: text} }
}
