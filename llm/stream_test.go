package llm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/internal/browsertest"
	"github.com/frontdesk/frontdesk/internal/openaitest"
	"github.com/frontdesk/frontdesk/llm"
)

// serveWeb serves the rig's engine on the web channel, with the real
// widget, and returns its base URL.
func (r *rig) serveWeb() string {
	r.t.Helper()
	w := web.NewServer(r.engine, web.Options{Assets: content.Web()})
	mux := http.NewServeMux()
	w.Routes(mux)
	srv := httptest.NewServer(mux)
	r.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w.Shutdown(ctx)
		srv.Close()
	})
	return srv.URL
}

// wsClient reads frames of a customer websocket.
type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialWS(t *testing.T, base string) *wsClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &wsClient{t: t, ws: ws}
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) frame() map[string]any {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f map[string]any
	if err := c.ws.ReadJSON(&f); err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return f
}

// until reads frames until one satisfies ok, returning all read.
func (c *wsClient) until(ok func(map[string]any) bool) []map[string]any {
	c.t.Helper()
	var fs []map[string]any
	for {
		f := c.frame()
		fs = append(fs, f)
		if ok(f) {
			return fs
		}
	}
}

const streamed = "You can return any item within 30 days [[return-item]]. Print the label from your account [[return-item]]."

func TestAStreamedAnswerReachesTheWebsocketAsDraftsThenOneMessage(t *testing.T) {
	hold := make(chan struct{})
	r := newRig(t, llm.Options{Timeout: 5 * time.Second}, func(openaitest.Request) openaitest.Reply {
		// Held after 48 bytes: "You can return any item within 30 days [[return-".
		return openaitest.Reply{Text: streamed, Hold: hold, HoldAfter: 8}
	})
	base := r.serveWeb()
	c := dialWS(t, base)
	c.send(map[string]any{"type": "hello", "token": "", "last_seq": 0})
	w := c.frame()
	if w["type"] != "welcome" {
		t.Fatalf("first frame %v", w)
	}
	c.frame() // the greeting
	c.send(map[string]any{"type": "message", "id": "c_1", "text": "how do I return a lamp"})
	// While the model pauses, the draft shows what it wrote so far,
	// without the half-written marker.
	fs := c.until(func(f map[string]any) bool {
		return f["type"] == "draft" && f["text"] == "You can return any item within 30 days"
	})
	for _, f := range fs {
		if f["type"] == "message" || f["type"] == "ack" {
			t.Errorf("%v before the answer was written: the turn is committed once, at its end", f)
		}
	}
	id, _ := fs[len(fs)-1]["id"].(string)
	if !strings.HasPrefix(id, "d_") {
		t.Fatalf("draft id %q", id)
	}
	close(hold)
	fs = c.until(func(f map[string]any) bool { return f["type"] == "message" && f["text"] == "Was this helpful?" })
	var answer map[string]any
	for _, f := range fs {
		switch f["type"] {
		case "draft":
			if f["id"] != id || strings.Contains(f["text"].(string), "[[") {
				t.Errorf("draft %v", f)
			}
		case "message":
			if f["from"] == "bot" && answer == nil {
				answer = f
			}
		}
	}
	if answer == nil {
		t.Fatalf("no answer in %v", fs)
	}
	if answer["text"] != "You can return any item within 30 days. Print the label from your account." || answer["draft"] != id {
		t.Errorf("answer %v", answer)
	}
	// The answer is stored once, whole, at the seq it was sent with.
	ms, err := r.db.Messages(context.Background(), w["conversation_id"].(string), 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.From == bot.FromBot && m.Decision != nil && m.Decision.Kind == bot.DecisionAnswer {
			n++
			if m.Text != answer["text"] || float64(m.Seq) != answer["seq"] || len(m.Decision.Sources) != 1 {
				t.Errorf("stored %+v, sent %v", m, answer)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d answers stored", n)
	}
}

func TestARejectedStreamIsReplacedByTheArticle(t *testing.T) {
	r := newRig(t, llm.Options{}, answerTo("Returns are free for ever [[free-returns]] and you get 100% back."))
	base := r.serveWeb()
	c := dialWS(t, base)
	c.send(map[string]any{"type": "hello", "token": "", "last_seq": 0})
	c.frame()
	c.frame()
	c.send(map[string]any{"type": "message", "id": "c_1", "text": "how do I return a lamp"})
	fs := c.until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "bot" })
	answer := fs[len(fs)-1]
	if answer["text"] != r.article("return-item") {
		t.Errorf("answer %v, want the article", answer)
	}
	for _, f := range fs {
		if f["type"] == "draft" && answer["draft"] != f["id"] {
			t.Errorf("the message does not end draft %v", f)
		}
	}
}

func TestTheWidgetShowsTheDraftThenTheAnswer(t *testing.T) {
	ctx := browsertest.New(t, 1280, 900)
	hold := make(chan struct{})
	r := newRig(t, llm.Options{Timeout: 10 * time.Second}, func(openaitest.Request) openaitest.Reply {
		return openaitest.Reply{Text: streamed, Hold: hold, HoldAfter: 8}
	})
	base := r.serveWeb()
	poll := func(js string) chromedp.Action {
		return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))
	}
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`[data-testid="fd-launcher"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="fd-launcher"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="fd-input"]`, chromedp.ByQuery),
		chromedp.SendKeys(`[data-testid="fd-input"]`, "how do I return a lamp", chromedp.ByQuery),
		chromedp.Click(`[data-testid="fd-send"]`, chromedp.ByQuery),
		poll(`[...document.querySelectorAll('[data-testid="fd-draft"]')].some(e => e.textContent.includes("You can return any item within 30 days") && !e.textContent.includes("[["))`),
	)
	if err != nil {
		browsertest.Screenshot(ctx, t, "llm-draft-failed")
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "llm-draft")
	close(hold)
	var drafts int
	var answer string
	err = chromedp.Run(ctx,
		poll(`[...document.querySelectorAll('[data-testid="fd-message"][data-from="bot"]')].some(e => e.textContent.includes("Print the label from your account."))`),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="fd-draft"]').length`, &drafts),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-testid="fd-message"][data-from="bot"]')].map(e => e.textContent).join("\n")`, &answer),
	)
	if err != nil {
		browsertest.Screenshot(ctx, t, "llm-answer-failed")
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "llm-answer")
	if drafts != 0 {
		t.Errorf("%d drafts left beside the answer", drafts)
	}
	if strings.Contains(answer, "[[") || strings.Count(answer, "You can return any item within 30 days") != 1 {
		t.Errorf("bot messages:\n%s", answer)
	}
}
