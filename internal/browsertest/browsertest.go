// Package browsertest starts headless Chromium (Debian's chromium
// package) for the tests of the chat widget and the agent console, the
// way net/http/httptest starts servers. Only tests import it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// New starts a headless Chromium with a window of width x height and
// returns a context for its first tab, cancelled when the test ends (150 s
// at most). Without chromium the test is skipped, or fails under CI
// (CI set), where .ci/run installs it.
func New(t *testing.T, width, height int) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/run installs it")
		}
		t.Skip("chromium not installed")
	}
	// Chromium may still be writing its profile as it exits: the test
	// removes the directory itself and does not fail on leftovers, as
	// t.TempDir would.
	profile, err := os.MkdirTemp("", "frontdesk-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 150*time.Second)
	t.Cleanup(func() {
		chromedp.Cancel(ctx)
		cancelT()
		cancelC()
		cancelA()
		os.RemoveAll(profile)
	})
	return ctx
}

// Poll waits until the JavaScript expression js is true in the tab, for
// timeout at most. It checks every 100 ms on a timer, not on animation
// frames (chromedp's default), which a tab in the background never draws:
// a test with two tabs, customer and agent, polls the one behind.
func Poll(js string, timeout time.Duration) chromedp.Action {
	return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond))
}

// Screenshot saves the tab as $FRONTDESK_SCREENSHOTS/name.png when that
// variable is set, for people to look at; otherwise it does nothing.
func Screenshot(ctx context.Context, t *testing.T, name string) {
	dir := os.Getenv("FRONTDESK_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.Sleep(300*time.Millisecond), chromedp.CaptureScreenshot(&png)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}
