package llm_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/openaitest"
	"github.com/frontdesk/frontdesk/llm"
)

func embedClient(t *testing.T, srv *openaitest.Server, obs *observed, model string) *llm.Client {
	t.Helper()
	c, err := llm.New(llm.Options{BaseURL: srv.URL(), EmbeddingModel: model, Timeout: 500 * time.Millisecond, Mask: true, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEmbedReturnsOneVectorPerTextInOrderMasked(t *testing.T) {
	srv := openaitest.New(t, nil)
	obs := &observed{}
	c := embedClient(t, srv, obs, "small-embed")
	texts := []string{"refund my order", "mail me at ann@example.com", "refund my order please"}
	vecs, err := c.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 3 || len(vecs[0]) != openaitest.EmbedDims {
		t.Fatalf("got %d vectors of %d", len(vecs), len(vecs[0]))
	}
	want := openaitest.Vector("refund my order", nil)
	for i := range want {
		if vecs[0][i] != want[i] {
			t.Fatalf("vector 0 is not the first text's")
		}
	}
	sent := srv.Embeddings()
	if len(sent) != 1 || strings.Contains(sent[0][1], "ann@example.com") || !strings.Contains(sent[0][1], "[email]") {
		t.Errorf("sent %q, want the address masked", sent)
	}
	if len(obs.calls) != 1 || !strings.HasPrefix(obs.calls[0], "embeddings/ok/3/") {
		t.Errorf("observed %v", obs.calls)
	}
}

func TestEmbedFailuresAreErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reply   openaitest.EmbedReply
		outcome string
	}{
		{"a 500", openaitest.EmbedReply{Status: http.StatusInternalServerError}, "error"},
		{"a vector missing", openaitest.EmbedReply{Malformed: true}, "error"},
		{"a timeout", openaitest.EmbedReply{Delay: 3 * time.Second}, "timeout"},
	} {
		t.Run("on "+tc.name, func(t *testing.T) {
			srv := openaitest.New(t, nil)
			srv.SetEmbeddings(func([]string) openaitest.EmbedReply { return tc.reply })
			obs := &observed{}
			c := embedClient(t, srv, obs, "small-embed")
			start := time.Now()
			if _, err := c.Embed(context.Background(), []string{"a", "b"}); err == nil {
				t.Fatal("no error")
			} else if tc.name == "a vector missing" && !errors.Is(err, llm.ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v, past the timeout", d)
			}
			if len(obs.calls) != 1 || !strings.HasPrefix(obs.calls[0], "embeddings/"+tc.outcome+"/") {
				t.Errorf("observed %v, want outcome %s", obs.calls, tc.outcome)
			}
		})
	}
}

func TestEmbedWithoutAnEmbeddingModelSendsNothing(t *testing.T) {
	srv := openaitest.New(t, nil)
	c, err := llm.New(llm.Options{BaseURL: srv.URL(), Model: "chat-only"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Embed(context.Background(), []string{"x"}); !errors.Is(err, llm.ErrNoEmbeddingModel) {
		t.Errorf("err = %v", err)
	}
	if len(srv.Embeddings()) != 0 {
		t.Error("a request was sent")
	}
}
