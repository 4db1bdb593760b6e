package main

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/frontdesk/frontdesk/internal/browsertest"
)

// TestTheDemoShopHeaderFitsAPhone: with the demo login on, the demo
// shop's header on a 390 px phone stays one row: the logo and the login
// button each on one line, inside the header, before and after logging in.
func TestTheDemoShopHeaderFitsAPhone(t *testing.T) {
	ctx := browsertest.New(t, 390, 844)
	base := startServe(t, "--demo-login")
	const demoLogin = `[data-testid="demo-login"]`
	type box struct {
		HeaderBottom, ButtonBottom, ButtonRight, PageWidth float64
		ButtonLines, LogoLines                             float64
		Label                                              string
	}
	measure := `(() => {
		const hd = document.querySelector('.site-header').getBoundingClientRect();
		const b = document.getElementById('demo-login');
		const br = b.getBoundingClientRect();
		const lines = (e) => { const r = e.getBoundingClientRect(), cs = getComputedStyle(e); return (r.height - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom) - parseFloat(cs.borderTopWidth) - parseFloat(cs.borderBottomWidth)) / parseFloat(cs.lineHeight === 'normal' ? parseFloat(cs.fontSize) * 1.2 : cs.lineHeight); };
		return { HeaderBottom: hd.bottom, ButtonBottom: br.bottom, ButtonRight: br.right, PageWidth: document.documentElement.clientWidth,
			ButtonLines: lines(b), LogoLines: lines(document.querySelector('.logo')), Label: b.innerText };
	})()`
	check := func(when string) {
		var m box
		if err := chromedp.Run(ctx, chromedp.Evaluate(measure, &m)); err != nil {
			t.Fatal(err)
		}
		if m.ButtonBottom > m.HeaderBottom || m.ButtonRight > m.PageWidth {
			t.Errorf("%s: the login button (bottom %.0f, right %.0f) leaves the header (bottom %.0f, width %.0f)", when, m.ButtonBottom, m.ButtonRight, m.HeaderBottom, m.PageWidth)
		}
		if m.ButtonLines > 1.5 || m.LogoLines > 1.5 {
			t.Errorf("%s: the button %q takes %.1f lines, the logo %.1f", when, m.Label, m.ButtonLines, m.LogoLines)
		}
	}
	err := chromedp.Run(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(demoLogin, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(ctx, t, "demo-header-phone")
	check("logged out")
	if err := chromedp.Run(ctx, chromedp.Click(demoLogin, chromedp.ByQuery), waitText("bot", "Hi Ana Demo!")); err != nil {
		t.Fatal(err)
	}
	screenshot(ctx, t, "demo-header-phone-logged-in")
	check("logged in")
}
