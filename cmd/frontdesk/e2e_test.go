package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/frontdesk/frontdesk/internal/browsertest"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine to write
// while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startServe runs "frontdesk serve" in this process on a free port and
// returns its base URL; the server stops when the test ends.
func startServe(t *testing.T, extra ...string) string {
	t.Helper()
	return startServeIn(t, filepath.Join(t.TempDir(), "data"), extra...)
}

// startServeIn is startServe on a given data directory.
func startServeIn(t *testing.T, dataDir string, extra ...string) string {
	t.Helper()
	base, _ := serveStoppableIn(t, dataDir, extra...)
	return base
}

// serveStoppableIn runs "frontdesk serve" in this process on dataDir,
// with extra flags, and returns its base URL once it answers and a stop
// that shuts it down and waits (also done when the test ends).
func serveStoppableIn(t *testing.T, dataDir string, extra ...string) (string, func()) {
	t.Helper()
	p := serveInProcess(t, dataDir, extra...)
	return p.base, func() { p.shutdown(t) }
}

// browser starts headless Chromium at 1280x900, or skips when it is not
// installed (.ci/run installs Debian's chromium).
func browser(t *testing.T) context.Context {
	t.Helper()
	return browsertest.New(t, 1280, 900)
}

// screenshot saves the page for people to look at (FRONTDESK_SCREENSHOTS).
func screenshot(ctx context.Context, t *testing.T, name string) {
	browsertest.Screenshot(ctx, t, name)
}

const (
	launcher   = `[data-testid="fd-launcher"]`
	input      = `[data-testid="fd-input"]`
	sendButton = `[data-testid="fd-send"]`
)

// waitText waits until a message from the sender contains text.
func waitText(from, text string) chromedp.Action {
	js := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="fd-message"][data-from=%q]')].some(e => e.textContent.includes(%q))`, from, text)
	return browsertest.Poll(js, 20*time.Second)
}

// openWidget opens the demo shop page at base and the chat widget on it,
// and waits for the bot's greeting.
func openWidget(base string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Navigate(base + "/"),
		chromedp.WaitVisible(launcher, chromedp.ByQuery),
		chromedp.Click(launcher, chromedp.ByQuery),
		waitText("bot", "assistant"),
	}
}

// agentReply sends text from the open conversation of the console and
// waits until the transcript shows it.
func agentReply(text string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.WaitVisible(`[data-testid="reply-input"]`, chromedp.ByQuery),
		chromedp.SendKeys(`[data-testid="reply-input"]`, text, chromedp.ByQuery),
		chromedp.Click(`[data-testid="reply-send"]`, chromedp.ByQuery),
		agentText("agent", text),
	}
}

// consoleLogin opens the agent console at base and logs in as the agent
// with the email and the password the tests give every agent.
func consoleLogin(base, email string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Navigate(base + "/console"),
		chromedp.WaitVisible(`[data-testid="login-email"]`, chromedp.ByQuery),
		chromedp.SendKeys(`[data-testid="login-email"]`, email, chromedp.ByQuery),
		chromedp.SendKeys(`[data-testid="login-password"]`, "a long password", chromedp.ByQuery),
		chromedp.Click(`[data-testid="login-submit"]`, chromedp.ByQuery),
	}
}

// claimFromQueue waits for a conversation in the console's queue and
// claims the first.
func claimFromQueue() chromedp.Action {
	return chromedp.Tasks{
		chromedp.WaitVisible(`[data-testid="queue-item"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="queue-item"] [data-testid="claim"]`, chromedp.ByQuery),
	}
}

func sendText(text string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.WaitVisible(input, chromedp.ByQuery),
		chromedp.SendKeys(input, text, chromedp.ByQuery),
		chromedp.Click(sendButton, chromedp.ByQuery),
	}
}

func TestWidgetEndToEnd(t *testing.T) {
	ctx := browser(t)
	base := startServe(t, "--visit-gap", "1ms")
	var dialogs []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs = append(dialogs, d.Message)
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(true))
		}
	})

	err := chromedp.Run(ctx,
		openWidget(base),
		sendText("my name is Ana"),
		waitText("bot", "Nice to meet you, Ana"),
		sendText("how long does delivry take?"),
		waitText("customer", "how long does delivry take?"),
		waitText("bot", "Was this helpful?"),
	)
	if err != nil {
		screenshot(ctx, t, "e2e-failed-answer")
		t.Fatal(err)
	}
	screenshot(ctx, t, "e2e-answer")

	var answer string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid="fd-message"][data-from="bot"]')].map(e => e.textContent).join("\n")`, &answer)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(answer), "working days") {
		t.Errorf("the delivery answer did not arrive; bot said:\n%s", answer)
	}

	// A quick reply is a button that sends its choice.
	err = chromedp.Run(ctx,
		chromedp.Click(`[data-testid="fd-quick-reply"]`, chromedp.ByQuery),
		waitText("bot", "glad I could help"),
	)
	if err != nil {
		screenshot(ctx, t, "e2e-failed-quick-reply")
		t.Fatal(err)
	}

	// A reload shows the history and greets the returning customer.
	err = chromedp.Run(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(launcher, chromedp.ByQuery),
		chromedp.Click(launcher, chromedp.ByQuery),
		waitText("customer", "how long does delivry take?"),
		waitText("bot", "Welcome back, Ana"),
	)
	if err != nil {
		screenshot(ctx, t, "e2e-failed-reload")
		t.Fatal(err)
	}

	// What a customer types is shown as text, never as HTML.
	const evil = `<img src=x onerror=alert(1)>`
	err = chromedp.Run(ctx, sendText(evil), waitText("customer", evil))
	if err != nil {
		screenshot(ctx, t, "e2e-failed-xss")
		t.Fatal(err)
	}
	var imgs int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll('[data-testid="fd-messages"] img').length`, &imgs)); err != nil {
		t.Fatal(err)
	}
	screenshot(ctx, t, "e2e-done")
	if imgs != 0 {
		t.Errorf("%d <img> elements in the message list: customer text became HTML", imgs)
	}
	if len(dialogs) > 0 {
		t.Errorf("script ran from customer text: dialogs %q", dialogs)
	}
}
