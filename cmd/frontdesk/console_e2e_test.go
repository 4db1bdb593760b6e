package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/frontdesk/frontdesk/internal/browsertest"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// agentText waits until the console's transcript has a message from the
// sender containing text.
func agentText(from, text string) chromedp.Action {
	js := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="transcript-message"][data-from=%q]')].some(e => e.textContent.includes(%q))`, from, text)
	return browsertest.Poll(js, 20*time.Second)
}

// TestHandOffEndToEnd runs the hand-off in two pages of one browser, as a
// customer and an agent would: the customer asks for a person; the agent
// logs in, sees the conversation in the queue, claims it, sees the bot's
// part, replies; the customer sees the reply; the agent resolves; the
// customer answers the survey; the bot answers the next question again.
func TestHandOffEndToEnd(t *testing.T) {
	ctx := browser(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "a long password\n")
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"agent", "add", "--data-dir", dataDir, "--name", "Maria", "--email", "maria@example.com"}, &out, &errb); err != nil {
		t.Fatalf("agent add: %v\n%s", err, errb.String())
	}
	base, stop := serveStoppableIn(t, dataDir, "--manual-assign", "true")

	// The customer asks a question, then for a person.
	customer := ctx
	err := chromedp.Run(customer,
		openWidget(base),
		sendText("how do I return a lamp?"),
		waitText("bot", "Was this helpful?"),
		sendText("I'd like to talk to a person please"),
		waitText("bot", "connecting you with a person"),
	)
	if err != nil {
		screenshot(customer, t, "handoff-failed-customer")
		t.Fatal(err)
	}

	// The agent logs in and finds the conversation in the queue.
	agent, cancel := chromedp.NewContext(ctx)
	defer cancel()
	const reply = "Hello, this is Maria. I can help you with the return."
	var convID string
	err = chromedp.Run(agent,
		consoleLogin(base, "maria@example.com"),
		chromedp.WaitVisible(`[data-testid="queue-item"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`[data-testid="queue-item"]`, "data-conversation", &convID, nil, chromedp.ByQuery),
		chromedp.Click(`[data-testid="queue-item"] [data-testid="claim"]`, chromedp.ByQuery),
		// The whole transcript, the bot's part too.
		agentText("customer", "how do I return a lamp?"),
		agentText("bot", "30 days"),
		agentText("customer", "talk to a person"),
		agentReply(reply),
	)
	if err != nil {
		screenshot(agent, t, "handoff-failed-agent")
		t.Fatal(err)
	}
	screenshot(agent, t, "handoff-agent")

	// The customer sees the reply and who wrote it.
	if err := chromedp.Run(customer, waitText("agent", reply), waitText("system", "Maria from our team has joined")); err != nil {
		screenshot(customer, t, "handoff-failed-reply")
		t.Fatal(err)
	}
	// While Maria owns the conversation the bot stays silent.
	var botCount int
	count := chromedp.Evaluate(`document.querySelectorAll('[data-testid="fd-message"][data-from="bot"]').length`, &botCount)
	if err := chromedp.Run(customer, count); err != nil {
		t.Fatal(err)
	}
	before := botCount
	if err := chromedp.Run(customer, sendText("when will I get my refund?"), waitText("customer", "when will I get my refund?")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(agent, agentText("customer", "when will I get my refund?")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(customer, chromedp.Sleep(500*time.Millisecond), count); err != nil {
		t.Fatal(err)
	}
	if botCount != before {
		t.Errorf("the bot spoke while an agent owned the conversation (%d bot messages, was %d)", botCount, before)
	}

	// The agent resolves; the customer rates and types a comment, which
	// is stored with the rating and acknowledged, not answered as a
	// question; the bot is back.
	if err := chromedp.Run(agent, chromedp.Click(`[data-testid="resolve"]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	const comment = "Maria was quick and kind"
	err = chromedp.Run(customer,
		waitText("bot", "How would you rate"),
		chromedp.Click(`//button[@data-testid="fd-quick-reply"][contains(., "5")]`, chromedp.BySearch),
		waitText("bot", "Would you like to add a comment?"),
		sendText(comment),
		waitText("bot", "added your comment to your rating"),
	)
	if err != nil {
		screenshot(customer, t, "handoff-failed-comment")
		t.Fatal(err)
	}
	err = chromedp.Run(customer,
		sendText("how long does delivery take?"),
		waitText("bot", "working days"),
	)
	if err != nil {
		screenshot(customer, t, "handoff-failed-survey")
		t.Fatal(err)
	}
	screenshot(customer, t, "handoff-customer")

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `frontdesk_handoffs_total{reason="requested"} 1`) {
		t.Errorf("metrics do not count the hand-off:\n%s", body)
	}

	// The comment is stored with the rating.
	stop()
	db, err := bolt.Open(filepath.Join(dataDir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conv, err := db.Conversation(context.Background(), convID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Rating != 5 || conv.RatingComment != comment {
		t.Errorf("stored rating %d comment %q, want 5 and %q", conv.Rating, conv.RatingComment, comment)
	}
}

// TestTheConsoleHeaderIsOneRowOnAPhone logs an admin in on a 390 px wide
// screen: the header's controls, Insights included, stay on one row.
func TestTheConsoleHeaderIsOneRowOnAPhone(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "a long password\n")
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"agent", "add", "--data-dir", dataDir, "--name", "Maria Lopez", "--email", "maria@example.com", "--role", "admin"}, &out, &errb); err != nil {
		t.Fatalf("agent add: %v\n%s", err, errb.String())
	}
	base := startServeIn(t, dataDir)
	ctx := browsertest.New(t, 390, 844)
	var fit struct {
		Height   float64 `json:"height"`
		Overflow float64 `json:"overflow"`
	}
	err := chromedp.Run(ctx,
		chromedp.EmulateViewport(390, 844),
		consoleLogin(base, "maria@example.com"),
		chromedp.WaitVisible(`[data-testid="logout"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="dashboard"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="insights"]`, chromedp.ByQuery), // insights.js adds it for admins
		chromedp.Evaluate(`(() => { const t = document.querySelector('.topbar'), r = t.getBoundingClientRect();
			const right = Math.max(...[...t.querySelectorAll('.topbar-right > *')].filter(e => e.offsetParent).map(e => e.getBoundingClientRect().right));
			return {height: r.height, overflow: right - r.right}; })()`, &fit),
	)
	screenshot(ctx, t, "console-phone")
	if err != nil {
		t.Fatal(err)
	}
	if fit.Height > 56 || fit.Overflow > 0 {
		t.Errorf("the console header at 390 px is %.0f px high (one row is under 56) and its controls overflow by %.0f px", fit.Height, fit.Overflow)
	}
}
