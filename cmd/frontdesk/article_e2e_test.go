package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/internal/browsertest"
)

// copyDemoContent writes the embedded demo knowledge base to a directory,
// as an operator's --content directory.
func copyDemoContent(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(content.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && d.IsDir() && p != "articles" {
			return fs.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, p), 0o755)
		}
		if !strings.HasSuffix(p, ".md") && !strings.HasSuffix(p, ".txt") {
			return nil
		}
		data, err := fs.ReadFile(content.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSaveAnswerAsArticleEndToEnd: a customer asks what the knowledge
// base does not know and gets a person; the admin answers, saves the
// question and the answer as an article in the console; a new customer
// asks the same and the widget answers from the new article, without a
// restart.
func TestSaveAnswerAsArticleEndToEnd(t *testing.T) {
	ctx := browser(t)
	dir := copyDemoContent(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "a long password\n")
	if _, errs, err := runCmd(t, "agent", "add", "--data-dir", dataDir, "--name", "Ada", "--email", "ada@example.com", "--role", "admin"); err != nil {
		t.Fatalf("agent add: %v\n%s", err, errs)
	}
	base := startServeIn(t, dataDir, "--manual-assign", "true", "--content", dir)

	const question = "Can I rent lamps for a wedding?"
	const answer = "Yes! We rent out lamps for weddings and events from 20 euros a day."
	customer := ctx
	err := chromedp.Run(customer,
		openWidget(base),
		sendText(question),
		waitText("customer", question),
		chromedp.Sleep(300*time.Millisecond),
		sendText("I'd like to talk to a person please"),
		waitText("bot", "connecting you with a person"),
	)
	if err != nil {
		screenshot(customer, t, "article-failed-customer")
		t.Fatal(err)
	}

	admin, cancelAdmin := chromedp.NewContext(ctx)
	defer cancelAdmin()
	var picked, result string
	err = chromedp.Run(admin,
		consoleLogin(base, "ada@example.com"),
		claimFromQueue(),
		agentText("customer", question),
		agentReply(answer),
		chromedp.WaitVisible(`[data-testid="save-as-article"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="save-as-article"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="article-dialog"]`, chromedp.ByQuery),
		browsertest.Poll(`document.querySelector('[data-testid="article-reply"]').options.length > 0`, 10*time.Second),
		chromedp.Evaluate(`document.querySelector('[data-testid="article-question"]').selectedOptions[0].textContent`, &picked),
	)
	if err != nil {
		screenshot(admin, t, "article-failed-admin")
		t.Fatal(err)
	}
	if picked != question {
		t.Errorf("the dialog picked %q as the question, want %q", picked, question)
	}
	err = chromedp.Run(admin,
		chromedp.Click(`[data-testid="article-save"]`, chromedp.ByQuery),
		browsertest.Poll(`document.querySelector('[data-testid="article-result"]').textContent.includes('Saved')`, 20*time.Second),
		chromedp.Text(`[data-testid="article-result"]`, &result, chromedp.ByQuery),
	)
	screenshot(admin, t, "article-saved")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(result, "articles/can-i-rent-lamps-for-a-wedding.md") {
		t.Errorf("result %q", result)
	}
	data, err := os.ReadFile(filepath.Join(dir, "articles", "can-i-rent-lamps-for-a-wedding.md"))
	if err != nil || !strings.Contains(string(data), answer) {
		t.Fatalf("article file: %v\n%s", err, data)
	}
	if out, _, err := runCmd(t, "index", "--check", "--content", dir); err != nil {
		t.Errorf("index --check after saving: %v\n%s", err, out)
	}

	// A new visitor asks the same (the widget's stored visitor token is
	// forgotten): the bot answers from the new article.
	next := customer
	err = chromedp.Run(next,
		chromedp.Evaluate(`localStorage.clear()`, nil),
		openWidget(base),
		sendText("can i rent lamps for a wedding"),
		waitText("bot", "20 euros a day"),
	)
	screenshot(next, t, "article-answered")
	if err != nil {
		t.Fatal(err)
	}
}
