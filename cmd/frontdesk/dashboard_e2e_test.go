package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestInsightsDashboardEndToEnd: with conversations seeded on the data
// file and one hand-off made live, a supervisor opens Insights and sees
// the figures as SVG charts, and the knowledge gaps.
func TestInsightsDashboardEndToEnd(t *testing.T) {
	ctx := browser(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	seedGaps(t, dataDir) // 7 conversations the bot finished, badly
	withStdin(t, "a long password\n")
	if _, errs, err := runCmd(t, "agent", "add", "--data-dir", dataDir, "--name", "Sue", "--email", "sue@example.com", "--role", "supervisor"); err != nil {
		t.Fatalf("agent add: %v\n%s", err, errs)
	}
	base := startServeIn(t, dataDir, "--manual-assign", "true")

	customer := ctx
	err := chromedp.Run(customer,
		openWidget(base),
		sendText("I'd like to talk to a person please"),
		waitText("bot", "connecting you with a person"),
	)
	if err != nil {
		t.Fatal(err)
	}
	sup, cancel := chromedp.NewContext(ctx)
	defer cancel()
	var cards string
	var deflectionBars, handoffBars, hourBars, timeLines, topics int
	var handoffValue string
	err = chromedp.Run(sup,
		consoleLogin(base, "sue@example.com"),
		claimFromQueue(),
		agentReply("Hello, Sue here."),
		chromedp.WaitVisible(`[data-testid="insights"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="insights"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="chart-deflection"] svg rect`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="gap-topic"]`, chromedp.ByQuery),
		chromedp.Text(`[data-testid="stats-cards"]`, &cards, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="chart-deflection"] svg rect').length`, &deflectionBars),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="chart-handoffs"] svg rect').length`, &handoffBars),
		chromedp.Evaluate(`document.querySelector('[data-testid="chart-handoffs"] svg rect').getAttribute('data-value')`, &handoffValue),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="chart-hours"] svg rect').length`, &hourBars),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="chart-times"] svg polyline').length`, &timeLines),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="gap-topic"]').length`, &topics),
	)
	screenshot(sup, t, "insights-dashboard")
	if err != nil {
		t.Fatal(err)
	}
	// 8 conversations: the 7 seeded ones the bot finished, and the one
	// handed off.
	if !strings.Contains(cards, "8") || !strings.Contains(cards, "88%") {
		t.Errorf("cards %q, want 8 conversations and 88%% deflection", cards)
	}
	// 7 days, two parts a day.
	if deflectionBars != 14 {
		t.Errorf("%d bars in the deflection chart, want 14", deflectionBars)
	}
	if handoffBars != 1 || handoffValue != "1" {
		t.Errorf("hand-offs chart: %d bars, value %q; want one bar of 1", handoffBars, handoffValue)
	}
	if hourBars != 24 {
		t.Errorf("%d bars in the hours chart, want 24", hourBars)
	}
	if timeLines != 4 {
		t.Errorf("%d lines in the times chart, want 4", timeLines)
	}
	if topics != 3 {
		t.Errorf("%d gap topics, want 3", topics)
	}
	// Every axis label lies inside its chart, none cut off at an edge.
	var clipped []string
	if err := chromedp.Run(sup, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid^="chart-"] svg')].flatMap(s => {
		const b = s.getBoundingClientRect();
		return [...s.querySelectorAll('text.tick')].filter(e => { const r = e.getBoundingClientRect(); return r.left < b.left - 0.5 || r.right > b.right + 0.5; }).map(e => s.closest('figure').dataset.testid + ': ' + e.textContent);
	})`, &clipped)); err != nil {
		t.Fatal(err)
	}
	if len(clipped) > 0 {
		t.Errorf("axis labels cut off at the chart's edge: %q", clipped)
	}
	var csvHref string
	if err := chromedp.Run(sup, chromedp.AttributeValue(`[data-testid="stats-csv"]`, "href", &csvHref, nil, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csvHref, "format=csv") || !strings.Contains(csvHref, time.Now().UTC().Format("2006-01-02")) {
		t.Errorf("CSV link %q", csvHref)
	}
}
