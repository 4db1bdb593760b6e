package llm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/frontdesk/frontdesk/kb"
)

var _ kb.Embedder = (*Client)(nil)

// ErrNoEmbeddingModel is returned by Embed when Options.EmbeddingModel is
// empty.
var ErrNoEmbeddingModel = errors.New("llm: no embedding model configured (--llm-embedding-model)")

// ErrMalformed is wrapped in the error of a response that is not what
// the request asked for: a vector missing or extra, of the wrong size,
// or with values that are not numbers.
var ErrMalformed = errors.New("malformed embeddings response")

// Embed implements kb.Embedder: one request to {BaseURL}/embeddings for
// all of texts, within Options.Timeout. It returns one vector per text,
// in order, all of the same length; a response that breaks this is an
// error wrapping ErrMalformed. Embedded texts are articles and
// customers' questions; the questions are masked like answers' (Options.Mask).
// Token budgets do not apply: an embedding costs a small fraction of an
// answer, and without one the ranking falls back to the plain one.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if c.opts.EmbeddingModel == "" {
		return nil, ErrNoEmbeddingModel
	}
	if len(texts) == 0 {
		return nil, nil
	}
	in := texts
	if c.opts.Mask {
		in = make([]string, len(texts))
		for i, t := range texts {
			in[i] = Mask(t)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.api.CreateEmbeddings(ctx, openai.EmbeddingRequestStrings{
		Input: in,
		Model: openai.EmbeddingModel(c.opts.EmbeddingModel),
	})
	var vecs [][]float32
	if err == nil {
		vecs, err = vectors(resp, len(texts))
	}
	tokens := resp.Usage.PromptTokens
	if tokens == 0 && err == nil {
		for _, t := range in {
			tokens += len(t) / 4
		}
	}
	c.observe("embeddings", outcome(ctx, err), tokens, 0, time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("llm embeddings: %w", err)
	}
	return vecs, nil
}

// vectors checks resp against a request of n texts and returns its
// vectors in the request's order.
func vectors(resp openai.EmbeddingResponse, n int) ([][]float32, error) {
	if len(resp.Data) != n {
		return nil, fmt.Errorf("%w: %d vectors for %d texts", ErrMalformed, len(resp.Data), n)
	}
	out := make([][]float32, n)
	dims := len(resp.Data[0].Embedding)
	for _, e := range resp.Data {
		switch {
		case e.Index < 0 || e.Index >= n || out[e.Index] != nil:
			return nil, fmt.Errorf("%w: index %d out of range or repeated", ErrMalformed, e.Index)
		case len(e.Embedding) == 0 || len(e.Embedding) != dims:
			return nil, fmt.Errorf("%w: vectors of %d and %d dimensions", ErrMalformed, dims, len(e.Embedding))
		}
		for _, x := range e.Embedding {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("%w: a value is not a number", ErrMalformed)
			}
		}
		out[e.Index] = e.Embedding
	}
	return out, nil
}
