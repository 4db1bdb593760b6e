package main

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/openaitest"
)

// offered finds the articles offered in a request's last message.
var offered = regexp.MustCompile(`<article id="([^"]+)">`)

// citeFirst answers from the first article offered, citing it.
func citeFirst(req openaitest.Request) openaitest.Reply {
	m := offered.FindStringSubmatch(req.Messages[len(req.Messages)-1].Content)
	if m == nil {
		return openaitest.Reply{Text: "NOT_COVERED"}
	}
	return openaitest.Reply{Text: "In short: it depends on the article [[" + m[1] + "]].", Prompt: 120, Completion: 15}
}

func TestServeAnswersThroughTheConfiguredModel(t *testing.T) {
	model := openaitest.New(t, citeFirst)
	const key = "sk-very-secret-test-key"
	t.Setenv("FRONTDESK_LLM_API_KEY", key)
	t.Setenv("FRONTDESK_LLM_BASE_URL", model.URL())
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", filepath.Join(t.TempDir(), "data"),
			"--log-level", "debug", "--llm-model", "small-model", "--llm-timeout", "3s"}, &out, &errb)
	}()
	base := "http://" + addr
	// As serveStoppableIn, but keeping the logs; a loaded machine may
	// take a while to start a race-instrumented server.
	for start := time.Now(); ; {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited: %v\n%s", err, errb.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(start) > time.Minute {
			cancel()
			t.Fatalf("serve did not start: %v\n%s", <-done, errb.String())
		}
	}
	c := dialCustomer(t, base)
	c.say("how long does delivery take? call me on +49 170 1234567", "")
	c.until(botSays("In short: it depends on the article."))
	reqs := model.Requests()
	if len(reqs) != 1 || reqs[0].Model != "small-model" || !reqs[0].Stream {
		t.Fatalf("requests %+v", reqs)
	}
	if strings.Contains(model.Bodies(), "1234567") || !strings.Contains(model.Bodies(), "[phone]") {
		t.Errorf("the phone number was not masked:\n%s", model.Bodies())
	}
	if model.Auth()[0] != "Bearer "+key {
		t.Errorf("authorization %q", model.Auth()[0])
	}
	fams := families(t, base+"/metrics")
	if v := sample(fams, "frontdesk_llm_tokens_total", "call", "chat", "kind", "prompt"); v != 120 {
		t.Errorf("prompt tokens = %v, want 120", v)
	}
	if v := sample(fams, "frontdesk_llm_tokens_total", "call", "chat", "kind", "completion"); v != 15 {
		t.Errorf("completion tokens = %v, want 15", v)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	logs := errb.String()
	if strings.Contains(logs, key) || strings.Contains(out.String(), key) {
		t.Error("the API key was logged")
	}
	if !strings.Contains(logs, "language model enabled") {
		t.Errorf("no log line says the model is on:\n%s", logs)
	}
}

func TestServeRefusesAnIncompleteModelConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"a model without an address", []string{"--llm-model", "m"}},
		{"an address without a model", []string{"--llm-base-url", "http://localhost:11434/v1"}},
		{"an address that is no URL", []string{"--llm-base-url", "localhost:11434", "--llm-model", "m"}},
		{"a key in the URL", []string{"--llm-base-url", "http://user:sk@localhost:11434/v1", "--llm-model", "m"}},
		{"a zero timeout", []string{"--llm-base-url", "http://localhost:11434/v1", "--llm-model", "m", "--llm-timeout", "0s"}},
		{"a negative budget", []string{"--llm-base-url", "http://localhost:11434/v1", "--llm-model", "m", "--llm-daily-tokens", "-1"}},
		{"masking not a boolean", []string{"--llm-base-url", "http://localhost:11434/v1", "--llm-model", "m", "--llm-mask", "sometimes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "data")}, tc.args...)
			_, _, err := runCmd(t, args...)
			if !errors.As(err, new(usageError)) {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}
}
