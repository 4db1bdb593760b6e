package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An admin makes a customer API key in the console, sees it once, and
// sees the webhook deliveries that failed.
func TestAdminManagesIntegrationsInTheConsole(t *testing.T) {
	ctx := browser(t)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "receiver down", http.StatusInternalServerError)
	}))
	defer receiver.Close()
	dataDir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "a long password\n")
	if _, errs, err := runCmd(t, "agent", "add", "--data-dir", dataDir, "--name", "Ada", "--email", "ada@example.com", "--role", "admin"); err != nil {
		t.Fatalf("agent add: %v\n%s", err, errs)
	}
	base := startServeIn(t, dataDir, "--webhook-url", receiver.URL, "--webhook-secret", "a-secret-of-sixteen-plus")

	// A customer's chat makes events, which the receiver refuses.
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(launcher, chromedp.ByQuery),
		chromedp.Click(launcher, chromedp.ByQuery),
		sendText("how long does delivery take"),
		waitText("bot", "working days"),
	)
	if err != nil {
		t.Fatal(err)
	}
	admin, cancel := chromedp.NewContext(ctx)
	defer cancel()
	var secret, keys, failures string
	err = chromedp.Run(admin,
		consoleLogin(base, "ada@example.com"),
		chromedp.WaitVisible(`[data-testid="insights"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="insights"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="integrations"]`, chromedp.ByQuery),
		chromedp.SendKeys(`[data-testid="apikey-name"]`, "shop backend", chromedp.ByQuery),
		chromedp.Click(`[data-testid="apikey-add"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="apikey-secret"]`, chromedp.ByQuery),
		chromedp.Text(`[data-testid="apikey-secret"]`, &secret, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="apikey-revoke"]`, chromedp.ByQuery),
		chromedp.Text(`[data-testid="apikey-list"]`, &keys, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="webhook-failures"]`, chromedp.ByQuery),
		chromedp.Text(`[data-testid="webhook-failures"]`, &failures, chromedp.ByQuery),
	)
	screenshot(admin, t, "console-integrations")
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) < 20 || strings.Contains(keys, secret) {
		t.Errorf("new key %q; the list %q must not show it", secret, keys)
	}
	if !strings.Contains(keys, "shop backend") || !strings.Contains(keys, "read") {
		t.Errorf("key list %q, want the read key named shop backend", keys)
	}
	if !strings.Contains(failures, receiver.URL) || !strings.Contains(failures, "500") {
		t.Errorf("webhook failures %q, want the receiver's 500", failures)
	}
	// The key works on the customer API, as a read key.
	req, _ := http.NewRequest("GET", base+"/api/v1/customers/nobody", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET an unknown customer with the new key: %s, want 404", res.Status)
	}
}
