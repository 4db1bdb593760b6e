package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/wait"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
)

// botAPI is a small stand-in for the Telegram Bot API server, speaking its
// wire format: form-encoded requests to /bot<token>/<method>, replies
// {"ok":true,"result":...}. It hands out one /start update and records the
// messages sent.
type botAPI struct {
	mu   sync.Mutex
	sent []string
	once sync.Once
	// down answers this many requests with 502 Bad Gateway first, as
	// during an outage.
	down int
	// pending are updates for the next getUpdates.
	pending []any
	nextID  int
}

// push queues a text message from a Telegram user.
func (b *botAPI) push(user int, text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	msg := map[string]any{"message_id": b.nextID, "date": time.Now().Unix(), "text": text,
		"from": map[string]any{"id": user, "is_bot": false, "first_name": "Ana"},
		"chat": map[string]any{"id": user, "type": "private", "first_name": "Ana"}}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		msg["entities"] = []any{map[string]any{"type": "bot_command", "offset": 0, "length": len(cmd)}}
	}
	b.pending = append(b.pending, map[string]any{"update_id": 1000 + b.nextID, "message": msg})
}

func (b *botAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	if !strings.HasPrefix(r.URL.Path, "/bot123:secret/") {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"ok":false,"error_code":401,"description":"Unauthorized"}`))
		return
	}
	b.mu.Lock()
	out := b.down > 0
	b.down--
	b.mu.Unlock()
	if out {
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>502 Bad Gateway</html>"))
		return
	}
	r.ParseForm()
	var result any = true
	switch method {
	case "getMe":
		result = map[string]any{"id": 123, "is_bot": true, "first_name": "Lumen", "username": "lumen_shop_bot"}
	case "getUpdates":
		var ups []any
		b.once.Do(func() {
			ups = append(ups, map[string]any{"update_id": 500, "message": map[string]any{
				"message_id": 1, "date": time.Now().Unix(), "text": "/start",
				"from":     map[string]any{"id": 42, "is_bot": false, "first_name": "Ana"},
				"chat":     map[string]any{"id": 42, "type": "private", "first_name": "Ana"},
				"entities": []any{map[string]any{"type": "bot_command", "offset": 0, "length": 6}},
			}})
		})
		b.mu.Lock()
		ups = append(ups, b.pending...)
		b.pending = nil
		b.mu.Unlock()
		if ups == nil {
			// A short long poll: nothing new.
			select {
			case <-time.After(200 * time.Millisecond):
			case <-r.Context().Done():
			}
			ups = []any{}
		}
		result = ups
	case "sendMessage":
		b.mu.Lock()
		b.sent = append(b.sent, r.Form.Get("chat_id")+": "+r.Form.Get("text"))
		b.mu.Unlock()
		result = map[string]any{"message_id": 100, "date": time.Now().Unix(), "chat": map[string]any{"id": 42, "type": "private"}, "text": r.Form.Get("text")}
	}
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func (b *botAPI) messages() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.sent, "\n")
}

// TestServeRunsTheTelegramChannel starts "frontdesk serve" with a token
// and FRONTDESK_TELEGRAM_API_URL: it polls, greets the /start, and the web
// widget is offered "continue on Telegram".
func TestServeRunsTheTelegramChannel(t *testing.T) {
	t.Run("with Telegram up", func(t *testing.T) { serveWithTelegram(t, &botAPI{}) })
	// An outage at start-up must not keep the web chat down: Telegram
	// joins when it is back.
	t.Run("with Telegram down at start", func(t *testing.T) { serveWithTelegram(t, &botAPI{down: 3}) })
}

func serveWithTelegram(t *testing.T, api *botAPI) {
	srv := httptest.NewServer(api)
	defer srv.Close()
	t.Setenv("FRONTDESK_TELEGRAM_TOKEN", "123:secret")
	t.Setenv("FRONTDESK_TELEGRAM_API_URL", srv.URL)
	base := startServe(t)

	wait.For(t, 20*time.Second, "a greeting to the Telegram chat", func() bool { return strings.Contains(api.messages(), "42: ") })
	if got := api.messages(); !strings.Contains(got, "42: Hi Ana! I'm the virtual assistant") {
		t.Errorf("greeting on Telegram: %q, want the new customer greeted by first name", got)
	}

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteJSON(map[string]any{"type": "hello", "token": "", "last_seq": 0})
	var welcome struct {
		Type     string   `json:"type"`
		Channels []string `json:"channels"`
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := ws.ReadJSON(&welcome); err != nil {
		t.Fatal(err)
	}
	if welcome.Type != "welcome" || strings.Join(welcome.Channels, ",") != "telegram" {
		t.Errorf("welcome %+v, want Telegram offered", welcome)
	}
}

func TestServeRefusesABadTelegramToken(t *testing.T) {
	srv := httptest.NewServer(&botAPI{})
	defer srv.Close()
	t.Setenv("FRONTDESK_TELEGRAM_TOKEN", "999:wrong")
	t.Setenv("FRONTDESK_TELEGRAM_API_URL", srv.URL)
	_, _, err := runCmd(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "data"))
	if err == nil || !strings.Contains(err.Error(), "telegram-token") {
		t.Errorf("serve with a refused token: %v, want an error naming the setting", err)
	}
}

// TestTheWidgetOffersToContinueOnTelegram clicks "Continue on Telegram" in
// the widget and follows the one-time link into the Telegram chat: /start
// with the code links the Telegram account to the web customer.
func TestTheWidgetOffersToContinueOnTelegram(t *testing.T) {
	ctx := browser(t)
	api := &botAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	t.Setenv("FRONTDESK_TELEGRAM_TOKEN", "123:secret")
	t.Setenv("FRONTDESK_TELEGRAM_API_URL", srv.URL)
	base := startServe(t)

	var href string
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(launcher, chromedp.ByQuery),
		chromedp.Click(launcher, chromedp.ByQuery),
		waitText("bot", "assistant"),
		chromedp.WaitVisible(`[data-testid="fd-telegram"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="fd-telegram"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="fd-telegram-link"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`[data-testid="fd-telegram-link"]`, "href", &href, nil, chromedp.ByQuery),
	)
	if err != nil {
		screenshot(ctx, t, "telegram-failed")
		t.Fatal(err)
	}
	code, ok := strings.CutPrefix(href, "https://t.me/lumen_shop_bot?start=")
	if !ok || len(code) < 20 {
		t.Fatalf("link %q, want a one-time t.me link with a long code", href)
	}
	// Telegram sends the code with /start: the account is linked once.
	api.push(77, "/start "+code)
	api.push(78, "/start "+code)
	wait.For(t, 10*time.Second, "both linking replies", func() bool {
		return strings.Contains(api.messages(), "77: Your Telegram is now linked") && strings.Contains(api.messages(), "78: ")
	})
	if strings.Contains(api.messages(), "78: Your Telegram is now linked") {
		t.Errorf("a used code linked a second account:\n%s", api.messages())
	}
}

func TestTelegramWebhookPathMustBeFree(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct{ path, want string }{
		{"/api/agent/login", `already served by the route "POST /api/agent/login"`},
		{"/api/agent/anything", `already served by the route "/api/agent/"`},
		{"/healthz", `already served by the route "GET /healthz"`},
		{"/readyz", `already served by the route "GET /readyz"`},
		{"/metrics", `already served by the route "GET /metrics"`},
		{"/console", `already served by the route "GET /console"`},
		{"/ws", `already served by the route "GET /ws"`},
		{"/telegram/{id}", "not a plain URL path"},
		{"/telegram/../webhook", "not clean"},
	} {
		t.Run(tc.path+" is refused", func(t *testing.T) {
			_, _, err := runCmd(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", data,
				"--telegram-token", "123:abc", "--telegram-api-url", "http://127.0.0.1:9", "--telegram-webhook", "https://chat.example.com"+tc.path)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "telegram-webhook") {
				t.Errorf("serve: %v, want a usage error saying %q", err, tc.want)
			}
		})
	}
}
