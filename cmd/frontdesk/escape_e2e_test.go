package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestWidgetShowsAMarkdownNameAsText gives the pre-chat form a name that
// is a Markdown link and has the bot greet by it: the bot's bubble shows
// the name as written, and no link.
func TestWidgetShowsAMarkdownNameAsText(t *testing.T) {
	ctx := browser(t)
	base := startServe(t)
	const name = "[Verify your account](https://evil.example/phish)"
	err := chromedp.Run(ctx,
		openWidget(base),
		chromedp.WaitVisible(`[data-testid="fd-prechat"] input[name="name"]`, chromedp.ByQuery),
		chromedp.SendKeys(`[data-testid="fd-prechat"] input[name="name"]`, name, chromedp.ByQuery),
		chromedp.Click(`[data-testid="fd-prechat-start"]`, chromedp.ByQuery),
		sendText("hello"),
		waitText("bot", "How can I help you today?"),
	)
	if err != nil {
		screenshot(ctx, t, "escape-failed")
		t.Fatal(err)
	}
	screenshot(ctx, t, "escape-name")
	var greeting string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid="fd-message"][data-from="bot"]')].pop().textContent`, &greeting)); err != nil {
		t.Fatal(err)
	}
	if want := "Hi " + name + "! How can I help you today?"; !strings.Contains(greeting, want) {
		t.Errorf("the bot's bubble reads %q, want %q", greeting, want)
	}
	var links int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll('[data-testid="fd-message"][data-from="bot"] a').length`, &links)); err != nil {
		t.Fatal(err)
	}
	if links != 0 {
		t.Errorf("%d links in the bot's bubbles: the customer's name became Markdown", links)
	}
	var backslashes bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid="fd-message"][data-from="bot"]')].some(e => e.textContent.includes('\\'))`, &backslashes)); err != nil {
		t.Fatal(err)
	}
	if backslashes {
		t.Error("a bot bubble shows the escaping backslashes")
	}
}
