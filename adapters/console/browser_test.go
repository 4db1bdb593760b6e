package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/browsertest"
)

// browser starts headless Chromium at 1280x800 (or skips without it) and
// fails the test on any script error or refused content in the page.
func browser(t *testing.T) context.Context {
	t.Helper()
	ctx := browsertest.New(t, 1280, 800)
	// Script errors and refused content (CSP) fail the test. Failed
	// requests do not: the console expects 401s, e.g. before login.
	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Error())
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.LevelError && ev.Entry.Source != cdplog.SourceNetwork {
				problems = append(problems, string(ev.Entry.Source)+": "+ev.Entry.Text)
			}
		}
	})
	if err := chromedp.Run(ctx, cdplog.Enable()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("in the page: %s", p)
		}
	})
	return ctx
}

// screenshot saves the page for people to look at (FRONTDESK_SCREENSHOTS).
func screenshot(ctx context.Context, t *testing.T, name string) {
	browsertest.Screenshot(ctx, t, name)
}

func testid(id string) string { return `[data-testid="` + id + `"]` }

// poll waits until the JavaScript expression is true.
func poll(js string) chromedp.Action {
	return browsertest.Poll(js, 10*time.Second)
}

func transcriptHas(from, text string) chromedp.Action {
	return poll(fmt.Sprintf(`[...document.querySelectorAll('[data-testid="transcript-message"][data-from=%q]')].some(e => e.textContent.includes(%q))`, from, text))
}

// TestConsoleInTheBrowser drives the console page as an agent would: log
// in, see the waiting customer, claim, read the bot's part, reply, send a
// suggested article, add a private note, resolve.
func TestConsoleInTheBrowser(t *testing.T) {
	ctx := browser(t)
	r := newRig(t, manual)
	r.addAgent("Ann", handoff.RoleAgent)
	c := r.newCustomer()
	c.say("my name is Vera")
	c.Until(botSays("Nice to meet you"))
	c.askForPerson()
	r.waitForTicket(c.conversation)
	const evil = `<img src=x onerror="document.title='pwned'">`
	c.say(evil)
	// Suggestions follow the latest question; markup matches no article.
	c.say("and how long does delivery take to austria?")

	item := `[data-testid="queue-item"][data-conversation="` + c.conversation + `"]`
	err := chromedp.Run(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(r.http.URL+"/console"),
		chromedp.WaitVisible(testid("login-email"), chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(ctx, t, "console-1-login")
	err = chromedp.Run(ctx,
		chromedp.SendKeys(testid("login-email"), "ann@example.com", chromedp.ByQuery),
		chromedp.SendKeys(testid("login-password"), "wrong password", chromedp.ByQuery),
		chromedp.Click(testid("login-submit"), chromedp.ByQuery),
		poll(`document.querySelector('[data-testid="login-error"]').textContent.length > 0`),
		chromedp.Evaluate(`document.querySelector('[data-testid="login-password"]').value = ''`, nil),
		chromedp.SendKeys(testid("login-password"), password, chromedp.ByQuery),
		chromedp.Click(testid("login-submit"), chromedp.ByQuery),
		chromedp.WaitVisible(item, chromedp.ByQuery),
		poll(`document.querySelector('[data-testid="connection"]').textContent === 'Live'`),
	)
	if err != nil {
		screenshot(ctx, t, "console-failed-login")
		t.Fatal(err)
	}
	screenshot(ctx, t, "console-2-queue")

	// Claim from the queue: the whole transcript, bot decisions included.
	err = chromedp.Run(ctx,
		chromedp.Click(item+` `+testid("claim"), chromedp.ByQuery),
		transcriptHas("bot", "2 to 4 working days"),
		transcriptHas("system", "Ann from our team has joined"),
		poll(`[...document.querySelectorAll('[data-testid="decision-article"]')].some(e => e.textContent === 'delivery-times')`),
		transcriptHas("customer", evil),
		chromedp.WaitVisible(testid("suggestion"), chromedp.ByQuery),
		poll(`document.querySelector('[data-testid="suggestion"]').getAttribute('data-article') === 'delivery-times'`),
		poll(`document.querySelector('[data-testid="my-conversations"] [data-conversation="`+c.conversation+`"]') !== null`),
	)
	if err != nil {
		screenshot(ctx, t, "console-failed-claim")
		t.Fatal(err)
	}
	var title string
	var imgs int
	if err := chromedp.Run(ctx, chromedp.Title(&title), chromedp.Evaluate(`document.querySelectorAll('[data-testid="transcript"] img').length`, &imgs)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(title, "pwned") || imgs != 0 {
		t.Errorf("the customer's text became HTML: title %q, %d images in the transcript", title, imgs)
	}

	// A reply reaches the customer; a private note does not.
	err = chromedp.Run(ctx,
		chromedp.SendKeys(testid("reply-input"), "Hello Vera, Ann here.", chromedp.ByQuery),
		chromedp.Click(testid("reply-send"), chromedp.ByQuery),
		transcriptHas("agent", "Hello Vera, Ann here."),
		chromedp.Click(testid("internal-toggle"), chromedp.ByQuery),
		chromedp.SendKeys(testid("reply-input"), "Customer seems in a hurry", chromedp.ByQuery),
		chromedp.Click(testid("reply-send"), chromedp.ByQuery),
		poll(`[...document.querySelectorAll('[data-testid="transcript-message"][data-internal="true"]')].some(e => e.textContent.includes('in a hurry'))`),
		chromedp.Click(testid("internal-toggle"), chromedp.ByQuery),
	)
	if err != nil {
		screenshot(ctx, t, "console-failed-reply")
		t.Fatal(err)
	}
	for _, f := range c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "agent" }) {
		if f["type"] == "message" && f["from"] == "agent" && f["text"] != "Hello Vera, Ann here." {
			t.Errorf("customer got %v", f)
		}
	}

	// The customer types and asks; the suggestion is sent with one click.
	c.Send(map[string]any{"type": "typing"})
	err = chromedp.Run(ctx, poll(`document.querySelector('[data-testid="typing-indicator"]').textContent.includes('typing')`))
	if err != nil {
		t.Errorf("customer typing not shown: %v", err)
	}
	c.say("and when will my refund arrive?")
	err = chromedp.Run(ctx,
		transcriptHas("customer", "refund arrive"),
		poll(`document.querySelector('[data-testid="suggestion"]').getAttribute('data-article') === 'refund-timing'`),
	)
	if err != nil {
		screenshot(ctx, t, "console-failed-suggestion")
		t.Fatal(err)
	}
	screenshot(ctx, t, "console-3-conversation")
	err = chromedp.Run(ctx,
		chromedp.Click(testid("suggestion-send"), chromedp.ByQuery),
		transcriptHas("agent", "We refund within 5 working days"),
	)
	if err != nil {
		t.Fatal(err)
	}
	c.Until(func(f map[string]any) bool {
		return f["type"] == "message" && f["from"] == "agent" && strings.Contains(f["text"].(string), "We refund within")
	})

	// Resolve: the customer is asked for a rating.
	err = chromedp.Run(ctx,
		chromedp.Click(testid("resolve"), chromedp.ByQuery),
		poll(`document.querySelector('[data-testid="conversation-banner"]').textContent.includes('Resolved')`),
		poll(`document.querySelector('[data-testid="my-conversations"] [data-conversation]') === null`),
	)
	if err != nil {
		screenshot(ctx, t, "console-failed-resolve")
		t.Fatal(err)
	}
	c.Until(botSays("How would you rate"))
	screenshot(ctx, t, "console-4-resolved")
}

// TestConsoleForASupervisor drives the supervisor's views: the
// dashboard, the other agents' conversations, reading a waiting
// conversation before claiming it from its header, transferring it, and
// the layout on a phone-sized screen.
func TestConsoleForASupervisor(t *testing.T) {
	ctx := browser(t)
	r := newRig(t, manual)
	r.addAgent("Sue", handoff.RoleSupervisor, "billing")
	bobAgent := r.addAgent("Bob", handoff.RoleAgent, "delivery")
	bob := r.login(bobAgent)
	bob.must(http.StatusOK, "POST", "/api/agent/presence", map[string]any{"presence": "online"})
	var vera string
	for _, q := range []string{"my name is Vera", "my name is Otto", "my name is Lin"} {
		c := r.newCustomer()
		c.say(q)
		c.Until(botSays("Nice to meet you"))
		c.askForPerson()
		r.waitForTicket(c.conversation)
		switch {
		case strings.Contains(q, "Otto"):
			bob.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
		case strings.Contains(q, "Vera"):
			vera = c.conversation
		}
	}
	err := chromedp.Run(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(r.http.URL+"/console"),
		chromedp.WaitVisible(testid("login-email"), chromedp.ByQuery),
		chromedp.SendKeys(testid("login-email"), "sue@example.com", chromedp.ByQuery),
		chromedp.SendKeys(testid("login-password"), password, chromedp.ByQuery),
		chromedp.Click(testid("login-submit"), chromedp.ByQuery),
		chromedp.WaitVisible(testid("queue-item"), chromedp.ByQuery),
		chromedp.WaitVisible(`.stat`, chromedp.ByQuery),
		poll(`document.querySelectorAll('[data-testid="queue-item"]').length === 2`),
		poll(`[...document.querySelectorAll('[data-testid="other-conversation"]')].some(e => e.textContent.includes('Otto') && e.textContent.includes('with Bob'))`),
		poll(`document.querySelector('.stat-value').textContent === '2'`),
	)
	if err != nil {
		screenshot(ctx, t, "console-failed-dashboard")
		t.Fatal(err)
	}
	screenshot(ctx, t, "console-5-dashboard")

	item := `[data-testid="queue-item"][data-conversation="` + vera + `"]`
	err = chromedp.Run(ctx,
		chromedp.Click(item+` .item-open`, chromedp.ByQuery),
		transcriptHas("customer", "I want to talk to a real person"),
		poll(`document.querySelector('[data-testid="conversation-banner"]').textContent.includes('Waiting')`),
		poll(`document.querySelector('[data-testid="reply-send"]').textContent === 'Add note'`),
	)
	if err != nil {
		screenshot(ctx, t, "console-failed-preview")
		t.Fatal(err)
	}
	screenshot(ctx, t, "console-6-preview")
	err = chromedp.Run(ctx,
		chromedp.Click(testid("conversation-claim"), chromedp.ByQuery),
		poll(`!document.querySelector('[data-testid="transfer"]').disabled`),
		poll(`document.querySelector('[data-testid="reply-send"]').textContent === 'Send'`),
		chromedp.Click(testid("transfer"), chromedp.ByQuery),
		chromedp.WaitVisible(testid("transfer-dialog"), chromedp.ByQuery),
		poll(`document.querySelector('[data-testid="transfer-agent"]').value === '`+bobAgent.ID+`'`),
	)
	if err != nil {
		screenshot(ctx, t, "console-failed-transfer")
		t.Fatal(err)
	}
	screenshot(ctx, t, "console-7-transfer")
	err = chromedp.Run(ctx,
		chromedp.Click(testid("transfer-confirm"), chromedp.ByQuery),
		poll(`!document.querySelector('[data-testid="transfer-dialog"]').open`),
		poll(`document.querySelector('[data-testid="conversation-banner"]').textContent.includes('Bob has this conversation')`),
	)
	if err != nil {
		screenshot(ctx, t, "console-failed-transferred")
		t.Fatal(err)
	}
	mine := bob.must(http.StatusOK, "GET", "/api/agent/queue", nil)["mine"].([]any)
	if len(mine) != 2 {
		t.Errorf("Bob has %d conversations after the transfer, want 2", len(mine))
	}

	// A phone-sized screen: everything stacks, nothing scrolls sideways.
	var overflow bool
	err = chromedp.Run(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Sleep(200*time.Millisecond),
		chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
	)
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		var wide string
		chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth+1 && e.offsetParent !== null).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + (e.dataset.testid||'') + ' ' + Math.round(e.getBoundingClientRect().right)).join(' | ')`, &wide))
		t.Error("the console scrolls sideways at 390 px: " + wide)
	}
	screenshot(ctx, t, "console-8-phone")
}

// TestAdminExportsAndForgetsACustomerInTheBrowser: an admin sees the
// customer's data buttons, exports, is told to finish the hand-off
// before forgetting, then forgets after a confirm step.
func TestAdminExportsAndForgetsACustomerInTheBrowser(t *testing.T) {
	ctx := browser(t)
	r := newRig(t, manual)
	r.addAgent("Root", handoff.RoleAdmin)
	c := r.newCustomer()
	c.say("my name is Vera")
	c.Until(botSays("Nice to meet you"))
	c.askForPerson()
	r.waitForTicket(c.conversation)
	item := `[data-testid="queue-item"][data-conversation="` + c.conversation + `"]`
	err := chromedp.Run(ctx,
		chromedp.Navigate(r.http.URL+"/console"),
		chromedp.WaitVisible(testid("login-email"), chromedp.ByQuery),
		chromedp.SendKeys(testid("login-email"), "root@example.com", chromedp.ByQuery),
		chromedp.SendKeys(testid("login-password"), password, chromedp.ByQuery),
		chromedp.Click(testid("login-submit"), chromedp.ByQuery),
		chromedp.Click(item+` .item-open`, chromedp.ByQuery),
		chromedp.WaitVisible(testid("customer-export"), chromedp.ByQuery),
		press("customer-export"),
		poll(`document.querySelector('[data-testid="toast"]').textContent.startsWith('Exported Vera')`),
		press("customer-forget"),
		chromedp.WaitVisible(testid("forget-dialog"), chromedp.ByQuery),
		poll(`document.getElementById('forget-name').textContent === 'Vera'`),
		press("forget-confirm"),
		poll(`document.getElementById('forget-error').textContent.includes('return it to the bot')`),
	)
	if err != nil {
		screenshot(ctx, t, "forget-failed-1")
		t.Fatal(err)
	}
	screenshot(ctx, t, "console-forget-refused")
	if _, err := r.db.Customer(context.Background(), customerOf(t, r, c.conversation)); err != nil {
		t.Fatalf("a refused forget erased: %v", err)
	}
	custID := customerOf(t, r, c.conversation)
	err = chromedp.Run(ctx,
		press("forget-cancel"),
		chromedp.WaitNotVisible(testid("forget-dialog"), chromedp.ByQuery),
		press("conversation-claim"),
		poll(`!document.querySelector('[data-testid="return-to-bot"]').disabled`),
		press("return-to-bot"),
		transcriptHas("system", "back with the virtual assistant"),
		press("customer-forget"),
		press("forget-confirm"),
		poll(`document.querySelector('[data-testid="toast"]').textContent.startsWith('Erased Vera')`),
		poll(`document.querySelector('[data-testid="conversation"]').hidden`),
	)
	if err != nil {
		screenshot(ctx, t, "forget-failed-2")
		t.Fatal(err)
	}
	if _, err := r.db.Customer(context.Background(), custID); err == nil {
		t.Error("the customer is still there after forget")
	}
}

func customerOf(t *testing.T, r *rig, conversationID string) string {
	t.Helper()
	c, err := r.db.Conversation(context.Background(), conversationID)
	if err != nil {
		t.Fatal(err)
	}
	return c.CustomerID
}

// press clicks the element with the test id from within the page: the
// side panel re-renders as the conversation changes, which can leave a
// node chromedp found gone by the time it clicks.
func press(id string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var ok bool
		js := `(() => { const e = document.querySelector('[data-testid="` + id + `"]'); if (!e || e.disabled) return false; e.click(); return true; })()`
		if err := chromedp.Poll(js, &ok, chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)).Do(ctx); err != nil {
			return fmt.Errorf("press %s: %w", id, err)
		}
		return nil
	})
}
