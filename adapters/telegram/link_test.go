package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
)

// widget is a web chat client on the real websocket.
type widget struct {
	t  testing.TB
	ws *websocket.Conn
}

func (r *rig) widget(hello map[string]any) (*widget, map[string]any) {
	r.t.Helper()
	w := r.dial(hello)
	return w, w.next("welcome")
}

// dial connects a widget and sends its hello.
func (r *rig) dial(hello map[string]any) *widget {
	r.t.Helper()
	mux := http.NewServeMux()
	web.NewServer(r.engine, web.Options{}).Routes(mux)
	srv := httptest.NewServer(mux)
	r.t.Cleanup(srv.Close)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { ws.Close() })
	w := &widget{t: r.t, ws: ws}
	hello["type"] = "hello"
	w.send(hello)
	return w
}

func (w *widget) send(f map[string]any) {
	w.t.Helper()
	if err := w.ws.WriteJSON(f); err != nil {
		w.t.Fatal(err)
	}
}

// next returns the next frame of the type, skipping others.
func (w *widget) next(typ string) map[string]any {
	w.t.Helper()
	w.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f map[string]any
		if err := w.ws.ReadJSON(&f); err != nil {
			w.t.Fatalf("waiting for a %s frame: %v", typ, err)
		}
		if f["type"] == typ {
			return f
		}
	}
}

func TestLinkingWebAndTelegram(t *testing.T) {
	ctx := context.Background()

	t.Run("without Telegram the widget is told it is unavailable", func(t *testing.T) {
		r := newRig(t)
		w, welcome := r.widget(map[string]any{"token": ""})
		if _, ok := welcome["channels"]; ok {
			t.Errorf("welcome offers channels without Telegram: %v", welcome)
		}
		w.send(map[string]any{"type": "link", "channel": "telegram"})
		if e := w.next("error"); e["code"] != "unavailable" {
			t.Errorf("error frame %v, want code unavailable", e)
		}
	})

	t.Run("continue on Telegram: a valid code links once; reused and expired codes do not", func(t *testing.T) {
		r := newRig(t)
		r.start(r.options())
		w, welcome := r.widget(map[string]any{"token": "", "name": "Ana"})
		if chs, _ := welcome["channels"].([]any); len(chs) != 1 || chs[0] != "telegram" {
			t.Fatalf("welcome channels %v, want [telegram]", welcome["channels"])
		}
		w.send(map[string]any{"type": "link", "channel": "telegram"})
		link := w.next("link")
		url, _ := link["url"].(string)
		code, ok := strings.CutPrefix(url, "https://t.me/shop_bot?start=")
		if !ok || len(code) < 22 {
			t.Fatalf("link frame %v", link)
		}
		webCustomer, err := r.db.CustomerByIdentity(ctx, r.conversationCustomerIdentity(welcome))
		if err != nil {
			t.Fatal(err)
		}

		r.api.push(textUpdate(3001, "Ana", "/start "+code))
		r.waitSent(3001, "now linked")
		if c := r.customer(3001); c.ID != webCustomer.ID {
			t.Errorf("telegram user is customer %s, want the web customer %s", c.ID, webCustomer.ID)
		}
		r.api.push(textUpdate(3002, "Mallory", "/start "+code))
		r.waitSent(3002, "not valid or was already used")
		if c := r.customer(3002); c.ID == webCustomer.ID {
			t.Error("a reused code linked a second user")
		}

		w.send(map[string]any{"type": "link", "channel": "telegram"})
		stale, _ := strings.CutPrefix(w.next("link")["url"].(string), "https://t.me/shop_bot?start=")
		r.clock.Add(bot.LinkCodeTTL + time.Minute)
		r.api.push(textUpdate(3003, "Late", "/start "+stale))
		r.waitSent(3003, "expired")
		if c := r.customer(3003); c.ID == webCustomer.ID {
			t.Error("an expired code linked")
		}
	})

	t.Run("/web opens the widget as the same customer, once", func(t *testing.T) {
		r := newRig(t)
		r.start(r.options())
		r.api.push(textUpdate(3004, "Bo", "/web"))
		m := r.waitSent(3004, "https://chat.example.com/?link=")
		code := m.Text[strings.Index(m.Text, "?link=")+len("?link="):]
		tgCustomer := r.customer(3004)

		_, welcome := r.widget(map[string]any{"token": "", "link": code})
		if got, err := r.db.CustomerByIdentity(ctx, r.conversationCustomerIdentity(welcome)); err != nil || got.ID != tgCustomer.ID {
			t.Errorf("web visitor is %v (%v), want the Telegram customer %s", got, err, tgCustomer.ID)
		}
		if cust := welcome["customer"].(map[string]any); cust["returning"] != true || cust["name"] != "Bo" {
			t.Errorf("welcome customer %v, want returning Bo", cust)
		}
		again := r.dial(map[string]any{"token": "", "link": code})
		if e := again.next("error"); e["code"] != "link_invalid" {
			t.Errorf("reused /web code: %v, want error link_invalid", e)
		}
		// The hello goes on as a new visitor's (stored only once they write).
		w2 := again.next("welcome")
		if cust := w2["customer"].(map[string]any); cust["returning"] != false {
			t.Errorf("a reused /web code welcomed %v, want a new visitor", cust)
		}
		switch conv, err := r.db.Conversation(ctx, w2["conversation_id"].(string)); {
		case err == nil && conv.CustomerID == tgCustomer.ID:
			t.Errorf("a reused /web code opened the Telegram customer's conversation %s", conv.ID)
		case err != nil && !errors.Is(err, bot.ErrNotFound):
			t.Error(err)
		}
	})
}

// conversationCustomerIdentity is the web identity of a welcome's token.
func (r *rig) conversationCustomerIdentity(welcome map[string]any) bot.Identity {
	r.t.Helper()
	conv, err := r.db.Conversation(context.Background(), welcome["conversation_id"].(string))
	if err != nil {
		r.t.Fatal(err)
	}
	c, err := r.db.Customer(context.Background(), conv.CustomerID)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, id := range c.Identities {
		if id.Channel == bot.Web {
			return id
		}
	}
	r.t.Fatalf("customer %s has no web identity", c.ID)
	return bot.Identity{}
}
