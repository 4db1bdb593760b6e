// Package openaitest is a stand-in for an OpenAI-compatible model
// server, for tests, the way net/http/httptest starts servers: it speaks
// the chat-completions wire format (a JSON response, or server-sent
// events "data: {chunk}" ending with "data: [DONE]") and /embeddings,
// answers as the test scripts it, and keeps every request it received.
// Only tests import it.
package openaitest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// Server is the stand-in model server.
type Server struct {
	srv *httptest.Server

	mu     sync.Mutex
	script func(req Request) Reply
	reqs   []Request
	bodies []string
	auth   []string

	embedScript func([]string) EmbedReply
	embeds      [][]string
	concepts    map[string]string
	dims        int
}

// Request is the part of a chat-completions request the tests read.
type Request struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream        bool            `json:"stream"`
	StreamOptions json.RawMessage `json:"stream_options"`
	MaxTokens     int             `json:"max_tokens"`
}

// Text is all the request's message contents.
func (r Request) Text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return b.String()
}

// Reply is what the model answers to one request.
type Reply struct {
	Status int    // an HTTP error status instead of an answer
	Text   string // the answer; streamed in chunks of a few characters
	// Delay is how long the server waits before answering.
	Delay time.Duration
	// Hold, if set, is waited for after the first HoldAfter chunks of a
	// streamed answer.
	Hold      chan struct{}
	HoldAfter int
	// Prompt and Completion tokens reported (unless NoUsage) (default 30 and 10).
	Prompt, Completion int
	NoUsage            bool
}

// New starts a server answering each chat request with script(request),
// closed when the test ends.
func New(t *testing.T, script func(Request) Reply) *Server {
	t.Helper()
	m := &Server{script: script, dims: EmbedDims}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", m.chat)
	mux.HandleFunc("POST /v1/embeddings", m.embeddings)
	m.srv = httptest.NewServer(mux)
	t.Cleanup(m.srv.Close)
	return m
}

// URL is the API's base URL, to use as llm.Options.BaseURL.
func (m *Server) URL() string { return m.srv.URL + "/v1" }

// Requests returns the chat requests received so far.
func (m *Server) Requests() []Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Request(nil), m.reqs...)
}

// Bodies returns the raw bodies of the chat requests, joined.
func (m *Server) Bodies() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.bodies, "\n")
}

func (m *Server) chat(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req Request
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
	if !delayOrFail(w, r, rep.Delay, rep.Status) {
		return
	}
	if rep.Prompt == 0 {
		rep.Prompt, rep.Completion = 30, 10
	}
	usage := map[string]int{"prompt_tokens": rep.Prompt, "completion_tokens": rep.Completion, "total_tokens": rep.Prompt + rep.Completion}
	if !req.Stream {
		resp := map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": rep.Text}, "finish_reason": "stop"}},
		}
		if !rep.NoUsage {
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
	for i, part := range chunks(rep.Text, 6) {
		if rep.Hold != nil && i == rep.HoldAfter {
			select {
			case <-rep.Hold:
			case <-r.Context().Done():
				return
			}
		}
		send(chunk(map[string]any{"content": part}, nil))
	}
	send(chunk(map[string]any{}, "stop"))
	if !rep.NoUsage {
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

// EmbedReply is what the server answers to one embeddings request.
type EmbedReply struct {
	Status int // an HTTP error status instead of vectors
	// Malformed answers one vector fewer than asked for.
	Malformed bool
	Delay     time.Duration
}

// SetEmbeddings scripts the embeddings requests from now on (nil: every
// request is answered with vectors).
func (m *Server) SetEmbeddings(script func(inputs []string) EmbedReply) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.embedScript = script
}

// Embeddings returns the inputs of each embeddings request received so
// far, failed ones included.
func (m *Server) Embeddings() [][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]string(nil), m.embeds...)
}

// EmbedDims is the length of the server's vectors.
const EmbedDims = 64

// Vector is the server's embedding of text: a bag of words, each word
// (lower-cased letters and digits, with Concepts folded) counted in one
// of EmbedDims dimensions chosen by its FNV hash. Texts that share words
// are near; the same text always gets the same vector.
func Vector(text string, concepts map[string]string) []float32 {
	return vector(text, concepts, EmbedDims)
}

func vector(text string, concepts map[string]string, dims int) []float32 {
	v := make([]float32, dims)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if c, ok := concepts[w]; ok {
			w = c
		}
		h := fnv.New32a()
		h.Write([]byte(w))
		v[h.Sum32()%uint32(dims)]++
	}
	return v
}

// SetDims changes the length of the server's vectors from now on, as a
// different model behind the same name would.
func (m *Server) SetDims(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dims = n
}

// SetConcepts makes the server's vectors fold the given words onto
// others (word -> concept), as a real embedding model puts synonyms
// near each other.
func (m *Server) SetConcepts(concepts map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.concepts = concepts
}

// embeddings answers with a Vector per input, or as SetEmbeddings scripts.
func (m *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Input []string `json:"input"`
		Model string   `json:"model"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	m.embeds = append(m.embeds, req.Input)
	script, concepts, dims := m.embedScript, m.concepts, m.dims
	m.mu.Unlock()
	var rep EmbedReply
	if script != nil {
		rep = script(req.Input)
	}
	if !delayOrFail(w, r, rep.Delay, rep.Status) {
		return
	}
	data := []any{}
	for i, in := range req.Input {
		if rep.Malformed && i == len(req.Input)-1 {
			break
		}
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": vector(in, concepts, dims)})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)}})
}

// Auth returns the Authorization headers of the chat requests.
func (m *Server) Auth() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.auth...)
}

// delayOrFail waits delay (or until the request is gone), then answers
// with the error a real server sends when status is set and not 200. It
// reports whether the handler should go on to answer normally.
func delayOrFail(w http.ResponseWriter, r *http.Request, delay time.Duration, status int) bool {
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return false
		}
	}
	if status != 0 && status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, `{"error":{"message":"the model is overloaded","type":"server_error","code":null}}`)
		return false
	}
	return true
}
