package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/frontdesk/frontdesk/internal/browsertest"
)

// writePNG writes a real 40x30 PNG to dir/name and returns its path.
func writePNG(t *testing.T, dir, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{R: uint8(x * 6), G: 120, B: uint8(y * 8), A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadedImage waits until an image attachment named name has loaded (its
// bytes came through) in the messages matching sel.
func loadedImage(sel, name string) chromedp.Action {
	js := fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.dataset.name === %q && e.tagName === 'IMG' && e.complete && e.naturalWidth === 40)`, sel, name)
	return browsertest.Poll(js, 20*time.Second)
}

// TestAttachmentsAreSentAndShownBothWays: the customer sends a photo from
// the widget, the agent sees it in the console and sends a PDF and a
// photo back, which the customer sees. Someone without the visitor's
// token or an agent session cannot fetch the files. (A file that only
// claims to be an image is refused: see package attachment's tests.)
func TestAttachmentsAreSentAndShownBothWays(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	files := t.TempDir()
	withStdin(t, "a long password\n")
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"agent", "add", "--data-dir", dataDir, "--name", "Maria Lopez", "--email", "maria@example.com"}, &out, &errb); err != nil {
		t.Fatalf("agent add: %v\n%s", err, errb.String())
	}
	base := startServeIn(t, dataDir, "--manual-assign", "true")
	// The browser's 90 s start once the server is up.
	ctx := browser(t)
	photo := writePNG(t, files, "lamp.png")
	reply := writePNG(t, files, "wiring.png")
	pdf := filepath.Join(files, "manual.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	customer := ctx
	err := chromedp.Run(customer,
		openWidget(base),
		sendText("I want to talk to a person"),
		waitText("bot", "connecting you with a person"),
		chromedp.SetUploadFiles(`[data-testid="fd-file"]`, []string{photo}, chromedp.ByQuery),
		loadedImage(`[data-testid="fd-message"][data-from="customer"]:not([data-pending]) [data-testid="fd-attachment"]`, "lamp.png"),
	)
	if err != nil {
		screenshot(customer, t, "attachment-failed-customer")
		t.Fatal(err)
	}

	agent, cancel := chromedp.NewContext(ctx)
	defer cancel()
	err = chromedp.Run(agent,
		consoleLogin(base, "maria@example.com"),
		claimFromQueue(),
		loadedImage(`[data-testid="transcript-attachment"]`, "lamp.png"),
		chromedp.SetUploadFiles(`[data-testid="attach-file"]`, []string{pdf}, chromedp.ByQuery),
		agentText("agent", "manual.pdf"),
		chromedp.SetUploadFiles(`[data-testid="attach-file"]`, []string{reply}, chromedp.ByQuery),
		loadedImage(`[data-testid="transcript-attachment"]`, "wiring.png"),
	)
	if err != nil {
		screenshot(agent, t, "attachment-failed-agent")
		t.Fatal(err)
	}
	screenshot(agent, t, "attachment-agent")

	err = chromedp.Run(customer,
		waitText("agent", "manual.pdf"),
		loadedImage(`[data-testid="fd-message"][data-from="agent"] [data-testid="fd-attachment"]`, "wiring.png"),
	)
	if err != nil {
		screenshot(customer, t, "attachment-failed-reply")
		t.Fatal(err)
	}
	screenshot(customer, t, "attachment-customer")

	// The file is the conversation's: without the visitor's token, or
	// with another visitor's, it is not served.
	var src struct {
		Conv string `json:"conv"`
		ID   string `json:"id"`
	}
	if err := chromedp.Run(agent, chromedp.Evaluate(`(() => { const m = document.querySelector('[data-testid="transcript-attachment"]').src.match(/conversations\/([^/]+)\/attachments\/([^/?]+)/); return {conv: m[1], id: m[2]}; })()`, &src)); err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"", "Bearer " + strings.Repeat("ab", 32)} {
		req, _ := http.NewRequest(http.MethodGet, base+"/attachments/"+src.Conv+"/"+src.ID, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("the customer's file was served with Authorization %q", auth)
		}
	}
	resp, err := http.Get(base + "/api/agent/conversations/" + src.Conv + "/attachments/" + src.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the console served a file without a session: %d", resp.StatusCode)
	}
}
