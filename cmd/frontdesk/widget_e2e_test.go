package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/frontdesk/frontdesk/internal/browsertest"
)

// TestALongAnswerIsShownFromItsFirstLine asks, in a short window, a
// question whose answer is taller than the message list: the widget shows
// the answer from its first line, not its end, though the "Was this
// helpful?" question follows it; the customer's next message brings the
// view back to the bottom.
func TestALongAnswerIsShownFromItsFirstLine(t *testing.T) {
	ctx := browsertest.New(t, 1280, 560)
	base := startServe(t)
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(launcher, chromedp.ByQuery),
		chromedp.Click(launcher, chromedp.ByQuery),
		waitText("bot", "assistant"),
		sendText("my lamp is flickering"),
		waitText("bot", "Most flickering"),
		waitText("bot", "Was this helpful?"),
		chromedp.Sleep(300*time.Millisecond),
	)
	if err != nil {
		screenshot(ctx, t, "long-answer-failed")
		t.Fatal(err)
	}
	screenshot(ctx, t, "long-answer")
	var view struct {
		Tall      bool    `json:"tall"`
		AnswerTop float64 `json:"answerTop"`
		ListTop   float64 `json:"listTop"`
		ListEnd   float64 `json:"listEnd"`
		FromEnd   float64 `json:"fromEnd"`
	}
	const measure = `(() => {
		const l = document.querySelector('[data-testid="fd-messages"]');
		const a = [...l.querySelectorAll('[data-testid="fd-message"][data-from="bot"]')].find(e => e.textContent.includes('Most flickering'));
		const lr = l.getBoundingClientRect(), ar = a.getBoundingClientRect();
		return {tall: ar.height > l.clientHeight, answerTop: ar.top, listTop: lr.top, listEnd: lr.bottom,
			fromEnd: l.scrollHeight - l.scrollTop - l.clientHeight};
	})()`
	if err := chromedp.Run(ctx, chromedp.Evaluate(measure, &view)); err != nil {
		t.Fatal(err)
	}
	if !view.Tall {
		t.Fatalf("the answer fits the list (%+v): the window is too tall for this test", view)
	}
	if view.AnswerTop < view.ListTop-1 || view.AnswerTop > view.ListTop+40 {
		t.Errorf("the answer's first line is not at the top of the list: answer top %.0f, list %.0f-%.0f", view.AnswerTop, view.ListTop, view.ListEnd)
	}
	if view.FromEnd < 20 {
		t.Errorf("the list is scrolled to its end (%.0f px from it): the answer's start is hidden", view.FromEnd)
	}

	// The customer's own message scrolls to the bottom again.
	if err := chromedp.Run(ctx, sendText("thanks"), waitText("bot", "welcome"), chromedp.Sleep(300*time.Millisecond), chromedp.Evaluate(measure, &view)); err != nil {
		t.Fatal(err)
	}
	if view.FromEnd > 5 {
		t.Errorf("after the customer's message the list is %.0f px from its end", view.FromEnd)
	}
}
