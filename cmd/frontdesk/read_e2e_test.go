package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/frontdesk/frontdesk/internal/browsertest"
)

// TestEachSideSeesThatTheOtherReadIt: the agent opens the customer's
// conversation and the customer's widget shows "Seen"; the customer looks
// at the agent's reply and the console shows "Seen" under it.
func TestEachSideSeesThatTheOtherReadIt(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "a long password\n")
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"agent", "add", "--data-dir", dataDir, "--name", "Maria Lopez", "--email", "maria@example.com"}, &out, &errb); err != nil {
		t.Fatalf("agent add: %v\n%s", err, errb.String())
	}
	base := startServeIn(t, dataDir, "--manual-assign", "true")
	customer := browser(t)
	seen := func(sel string) chromedp.Action {
		return browsertest.Poll(fmt.Sprintf(`!!document.querySelector(%q)`, sel), 20*time.Second)
	}
	err := chromedp.Run(customer,
		openWidget(base),
		sendText("I want to talk to a person"),
		waitText("bot", "connecting you with a person"),
	)
	if err != nil {
		t.Fatal(err)
	}
	agent, cancel := chromedp.NewContext(customer)
	defer cancel()
	const reply = "Hi, Maria here. Let me look."
	err = chromedp.Run(agent,
		consoleLogin(base, "maria@example.com"),
		claimFromQueue(),
		agentText("customer", "talk to a person"),
		agentReply(reply),
	)
	if err != nil {
		screenshot(agent, t, "read-failed-agent")
		t.Fatal(err)
	}
	// The customer looks at the page (the agent's tab was in front).
	err = chromedp.Run(customer, page.BringToFront(), waitText("agent", reply),
		seen(`[data-testid="fd-message"][data-from="customer"] [data-testid="fd-seen"]`))
	if err != nil {
		screenshot(customer, t, "read-failed-customer")
		t.Fatalf("the customer is not shown that the agent saw their message: %v", err)
	}
	if err := chromedp.Run(agent, seen(`[data-testid="transcript-message"][data-from="agent"] [data-testid="seen"]`)); err != nil {
		screenshot(agent, t, "read-failed-seen-agent")
		t.Fatalf("the agent is not shown that the customer saw the reply: %v", err)
	}
}
