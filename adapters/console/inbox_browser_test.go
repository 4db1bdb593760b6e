package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// loginInBrowser opens the console and signs the agent in.
func loginInBrowser(ctx context.Context, r *rig, a *handoff.Agent) error {
	return chromedp.Run(ctx,
		chromedp.Navigate(r.http.URL+"/console"),
		chromedp.WaitVisible(testid("login-email"), chromedp.ByQuery),
		chromedp.SendKeys(testid("login-email"), a.Email, chromedp.ByQuery),
		chromedp.SendKeys(testid("login-password"), password, chromedp.ByQuery),
		chromedp.Click(testid("login-submit"), chromedp.ByQuery),
		poll(`document.querySelector('[data-testid="connection"]').textContent === 'Live'`),
	)
}

// systemSaid reports whether the conversation has a system message
// containing text.
func systemSaid(t *testing.T, r *rig, conversationID, text string) bool {
	t.Helper()
	ms, err := r.db.Messages(context.Background(), conversationID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.From == bot.FromSystem && strings.Contains(m.Text, text) {
			return true
		}
	}
	return false
}

// TestNoOneJoinsUntilTheAgentOpensTheChat: a customer waits; Ann logs in
// and routing gives her the chat. The console marks it new, and the
// customer is told Ann joined only when she opens it.
func TestNoOneJoinsUntilTheAgentOpensTheChat(t *testing.T) {
	for _, width := range []int64{1280, 390} {
		t.Run(map[int64]string{1280: "desktop", 390: "phone"}[width], func(t *testing.T) {
			ctx := browser(t)
			r := newRig(t, handoff.Options{})
			ann := r.addAgent("Ann", handoff.RoleAgent)
			c := r.waitingCustomer()
			if err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 800)); err != nil {
				t.Fatal(err)
			}
			if err := loginInBrowser(ctx, r, ann); err != nil {
				screenshot(ctx, t, "inbox-failed-login")
				t.Fatal(err)
			}
			item := `[data-testid="my-conversation"][data-conversation="` + c.conversation + `"]`
			err := chromedp.Run(ctx,
				chromedp.WaitVisible(item+`[data-offered="true"]`, chromedp.ByQuery),
				poll(`document.querySelector('[data-testid="home-hint"]').textContent.includes('given to you')`),
				poll(`document.querySelector('#tab-mine-count').classList.contains('hot')`),
			)
			if err != nil {
				screenshot(ctx, t, "inbox-failed-offer")
				t.Fatal(err)
			}
			screenshot(ctx, t, "console-offered-"+map[int64]string{1280: "desktop", 390: "phone"}[width])
			// Logged in and offered, not looking: nobody has joined.
			time.Sleep(300 * time.Millisecond)
			if tk, _ := r.queue.Ticket(context.Background(), c.conversation); tk == nil || tk.Agent != ann.ID || !tk.Offered {
				t.Fatalf("ticket %+v, want offered to Ann", tk)
			}
			if systemSaid(t, r, c.conversation, "has joined") {
				t.Fatal("the customer was told someone joined before Ann opened the chat")
			}
			var hint string
			if err := chromedp.Run(ctx, chromedp.Text(testid("home-hint"), &hint, chromedp.ByQuery)); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(hint, "Pick a conversation from the queue") {
				t.Errorf("home hint %q with a conversation assigned", hint)
			}
			err = chromedp.Run(ctx,
				chromedp.Click(item+` .item-open`, chromedp.ByQuery),
				transcriptHas("system", "Ann from our team has joined"),
				chromedp.WaitVisible(item+`:not([data-offered])`, chromedp.ByQuery),
			)
			if err != nil {
				screenshot(ctx, t, "inbox-failed-open")
				t.Fatal(err)
			}
			c.Until(func(f map[string]any) bool {
				text, _ := f["text"].(string)
				return f["type"] == "message" && strings.Contains(text, "Ann from our team has joined")
			})
		})
	}
}

// TestInboxViewsAndSearchInTheBrowser: a resolved conversation stays,
// under All and Resolved; the views show what they say; search finds a
// customer by name and a conversation by a message's text.
func TestInboxViewsAndSearchInTheBrowser(t *testing.T) {
	ctx := browser(t)
	r := newRig(t, manual)
	annAgent := r.addAgent("Ann", handoff.RoleAgent)
	ann := r.login(annAgent)
	c1 := r.waitingCustomer()
	if _, err := r.engine.UpdateCustomer(context.Background(), customerOf(t, r, c1.conversation), func(c *bot.Customer) error {
		c.Name, c.Email = "Maria Lopez", "maria@example.com"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ann.must(http.StatusOK, "POST", conversationPath(c1.conversation, "claim"), nil)
	ann.must(http.StatusCreated, "POST", conversationPath(c1.conversation, "messages"), map[string]any{"text": "Your lamp ships today, Maria."})
	ann.must(http.StatusOK, "POST", conversationPath(c1.conversation, "resolve"), nil)
	c2 := r.waitingCustomer()
	c2.say("my parcel ZX-4411 never came")
	c2.Until(func(f map[string]any) bool { return f["type"] == "ack" })

	resolved := `[data-testid="resolved-conversation"][data-conversation="` + c1.conversation + `"]`
	waiting := `[data-testid="queue-item"][data-conversation="` + c2.conversation + `"]`
	visible := func(sel string) string {
		return `(() => { const e = document.querySelector('` + sel + `'); return !!e && e.offsetParent !== null; })()`
	}
	hidden := func(sel string) string {
		return `(() => { const e = document.querySelector('` + sel + `'); return !e || e.offsetParent === null; })()`
	}
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
	if err := loginInBrowser(ctx, r, annAgent); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Run(ctx,
		press("view-all"),
		poll(visible(resolved)),
		poll(visible(waiting)),
		poll(`document.querySelector('`+resolved+` [data-testid="item-preview"]').textContent.includes('Your lamp ships today')`),
		poll(`document.querySelector('`+waiting+` [data-testid="item-preview"]').textContent.includes('ZX-4411')`),
	)
	if err != nil {
		screenshot(ctx, t, "inbox-failed-all")
		t.Fatal(err)
	}
	screenshot(ctx, t, "console-inbox-all-desktop")
	err = chromedp.Run(ctx,
		press("view-resolved"),
		poll(visible(resolved)), poll(hidden(waiting)),
		press("view-unassigned"),
		poll(visible(waiting)), poll(hidden(resolved)),
		press("view-mine"),
		poll(hidden(waiting)), poll(hidden(resolved)),
		poll(visible(`#mine-empty`)),
	)
	if err != nil {
		screenshot(ctx, t, "inbox-failed-views")
		t.Fatal(err)
	}
	// Search: by customer name, then by message text, within All.
	err = chromedp.Run(ctx,
		press("view-all"),
		chromedp.SendKeys(testid("inbox-search"), "maria", chromedp.ByQuery),
		poll(visible(`[data-testid="search-result"][data-conversation="`+c1.conversation+`"]`)),
		poll(hidden(waiting)),
		chromedp.Evaluate(`document.querySelector('[data-testid="inbox-search"]').value = ''`, nil),
		chromedp.SendKeys(testid("inbox-search"), "zx-4411", chromedp.ByQuery),
		poll(`document.querySelectorAll('[data-testid="search-results"] li[data-conversation]').length === 1`),
		poll(visible(`[data-testid="search-results"] [data-conversation="`+c2.conversation+`"]`)),
	)
	if err != nil {
		screenshot(ctx, t, "inbox-failed-search")
		t.Fatal(err)
	}
	screenshot(ctx, t, "console-inbox-search-desktop")
	// Clearing the search brings the view back; a resolved conversation
	// opens read-only.
	err = chromedp.Run(ctx,
		chromedp.Evaluate(`(() => { const i = document.querySelector('[data-testid="inbox-search"]'); i.value = ''; i.dispatchEvent(new Event('input')); })()`, nil),
		poll(visible(resolved)),
		chromedp.Click(resolved+` .item-open`, chromedp.ByQuery),
		transcriptHas("agent", "Your lamp ships today"),
		poll(`document.querySelector('[data-testid="conversation-banner"]').textContent.startsWith('Resolved')`),
	)
	if err != nil {
		screenshot(ctx, t, "inbox-failed-open-resolved")
		t.Fatal(err)
	}
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(390, 844), press("dashboard")); err != nil {
		t.Log(err)
	}
	screenshot(ctx, t, "console-inbox-phone")
}
