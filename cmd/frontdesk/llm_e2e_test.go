package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/frontdesk/frontdesk/internal/browsertest"
	"github.com/frontdesk/frontdesk/internal/openaitest"
)

// TestTheConsoleShowsTheMachineWrittenBrief: with a model configured, a
// hand-off gets a brief; the agent sees it marked machine-written, and
// its suggested reply lands in the composer to edit, not sent.
func TestTheConsoleShowsTheMachineWrittenBrief(t *testing.T) {
	ctx := browser(t)
	const suggestion = "Hi! You can send the lamp back within 30 days."
	model := openaitest.New(t, func(req openaitest.Request) openaitest.Reply {
		if strings.Contains(req.Messages[0].Content, "taking over a chat") {
			m := offered.FindStringSubmatch(req.Messages[1].Content)
			return openaitest.Reply{Text: "SUMMARY:\nWants to return a lamp; asked for a person.\nREPLY:\n" + strings.TrimSuffix(suggestion, ".") + " [[" + m[1] + "]]."}
		}
		return citeFirst(req)
	})
	dataDir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "a long password\n")
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"agent", "add", "--data-dir", dataDir, "--name", "Maria", "--email", "maria@example.com"}, &out, &errb); err != nil {
		t.Fatalf("agent add: %v\n%s", err, errb.String())
	}
	base := startServeIn(t, dataDir, "--manual-assign", "true", "--llm-base-url", model.URL(), "--llm-model", "m")

	c := dialCustomer(t, base)
	c.say("how do I return a lamp?", "")
	c.until(botSays("In short: it depends on the article."))
	c.say("I'd like to talk to a person please", "")
	c.until(botSays("connecting you with a person"))

	var value string
	err := chromedp.Run(ctx,
		consoleLogin(base, "maria@example.com"),
		claimFromQueue(),
		agentText("bot", "In short: it depends on the article."),
		browsertest.Poll(`[...document.querySelectorAll('[data-testid="decision"]')].some(e => e.textContent.includes("machine-written from"))`, 20*time.Second),
		agentText("bot", "Wants to return a lamp; asked for a person."),
		chromedp.WaitVisible(`[data-testid="machine-written"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="use-suggestion"]`, chromedp.ByQuery),
		chromedp.Value(`[data-testid="reply-input"]`, &value, chromedp.ByQuery),
	)
	if err != nil {
		screenshot(ctx, t, "assist-failed")
		t.Fatal(err)
	}
	screenshot(ctx, t, "assist")
	if value != suggestion {
		t.Errorf("composer holds %q, want %q", value, suggestion)
	}
	// Nothing was sent to the customer: the agent edits first.
	time.Sleep(300 * time.Millisecond)
	c.say("still there?", "")
	c.until(func(f map[string]any) bool {
		if f["type"] == "message" && f["from"] == "agent" {
			t.Errorf("the customer got %v", f)
		}
		return f["type"] == "message" && f["from"] == "customer" && f["text"] == "still there?"
	})
}
