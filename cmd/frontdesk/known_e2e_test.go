package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/frontdesk/frontdesk/internal/browsertest"
)

// TestDemoCustomerLogsInAndIsGreetedWithTheirOrder: on the demo shop page,
// "log in as a demo customer" identifies the demo customer with a
// signature made by the server; the widget then greets them by name with
// their demo order. Logging out starts a fresh anonymous chat.
func TestDemoCustomerLogsInAndIsGreetedWithTheirOrder(t *testing.T) {
	ctx := browser(t)
	base := startServe(t, "--demo-login")
	const demoLogin = `[data-testid="demo-login"]`
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(demoLogin, chromedp.ByQuery),
		chromedp.Click(demoLogin, chromedp.ByQuery),
		chromedp.WaitVisible(input, chromedp.ByQuery),
		waitText("bot", "Hi Ana Demo!"),
		waitText("bot", "Is this about your order of Arco floor lamp (shipped)?"),
	)
	if err != nil {
		screenshot(ctx, t, "demo-login-failed")
		t.Fatal(err)
	}
	screenshot(ctx, t, "demo-login")
	var who string
	if err := chromedp.Run(ctx, chromedp.Text(`#demo-who`, &who, chromedp.ByQuery)); err != nil || who != "Signed in as Ana Demo" {
		t.Errorf("page says %q (%v)", who, err)
	}

	// Logging out: the chat is emptied and a new anonymous visitor greeted.
	noAna := fmt.Sprintf(`(() => { const ms = [...document.querySelectorAll('[data-testid="fd-message"]')]; return ms.length > 0 && !ms.some(e => e.textContent.includes(%q)); })()`, "Ana")
	err = chromedp.Run(ctx,
		chromedp.Click(demoLogin, chromedp.ByQuery),
		browsertest.Poll(noAna, 20*time.Second),
		waitText("bot", "assistant"),
	)
	if err != nil {
		screenshot(ctx, t, "demo-logout-failed")
		t.Fatal(err)
	}
}

func TestDemoLoginIsOffByDefault(t *testing.T) {
	base := startServe(t, "--identity-secret", "a secret of more than 16 characters")
	resp, err := http.Get(base + "/demo/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /demo/login answered %d without --demo-login, want 404", resp.StatusCode)
	}
}
