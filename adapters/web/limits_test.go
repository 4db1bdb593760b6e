package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
)

// from dials as a client at the address, as a reverse proxy would
// report it (the server must trust the proxy for it to count).
func (s *server) from(addr string) *client {
	s.t.Helper()
	c, _, err := s.dial(http.Header{"X-Forwarded-For": {"198.51.100.7, " + addr}})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// closeCode reads until the connection ends and returns its close code
// (0 when it ended without a close frame).
func (c *client) closeCode() int {
	c.t.Helper()
	c.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.WS.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			return 0
		}
	}
}

// customerMessages counts the customer's messages stored in a
// conversation.
func (s *server) customerMessages(conv string) int {
	s.t.Helper()
	ms, err := s.db.Messages(context.Background(), conv, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.From == bot.FromCustomer {
			n++
		}
	}
	return n
}

func TestReconnectingDoesNotRefillAVisitorsRateLimit(t *testing.T) {
	s := startServer(t, "", web.Options{})
	start := time.Now()
	c := s.connect()
	w, _ := c.begin()
	token, conv := w["token"].(string), w["conversation_id"].(string)
	c.WS.Close()
	var acked, refused int
	for i := range 30 {
		c := s.connect()
		c.hello(token, 0)
		for j := range 12 {
			c.Send(map[string]any{"type": "message", "id": fmt.Sprint("m", i, "-", j), "text": "hello"})
		}
		answered := map[string]bool{}
		for len(answered) < 12 {
			f := c.Frame()
			id, _ := f["id"].(string)
			switch {
			case f["type"] == "ack":
				acked++
			case f["type"] == "error" && f["code"] == "rate_limited":
				refused++
			default:
				continue
			}
			answered[id] = true
		}
		c.WS.Close()
	}
	elapsed := time.Since(start)
	stored := s.customerMessages(conv)
	// 10 at once, then 1 a second, however often the visitor reconnects.
	limit := 10 + int(elapsed.Seconds()) + 1
	t.Logf("30 reconnects with 12 messages each: %d stored (%d acked, %d refused) in %v; limit %d", stored, acked, refused, elapsed.Round(time.Millisecond), limit)
	if stored > limit || acked+1 != stored {
		t.Errorf("%d messages stored (%d acked after the first) in %v; want at most %d", stored, acked, elapsed, limit)
	}
}

func TestVisitorsAtOneAddressShareItsMessageLimit(t *testing.T) {
	s := startServer(t, "", web.Options{RateBurst: 5, RatePerSecond: 0.001, AddressRateBurst: 8, AddressRatePerSecond: 0.001})
	sendFive := func() (acked, refused int) {
		c := s.connect()
		c.hello("", 0)
		c.Frame() // greeting
		for i := range 5 {
			c.Send(map[string]any{"type": "message", "id": fmt.Sprint("m", i), "text": "hello"})
		}
		for acked+refused < 5 {
			switch f := c.Frame(); {
			case f["type"] == "ack":
				acked++
			case f["type"] == "error" && f["code"] == "rate_limited":
				refused++
			}
		}
		return acked, refused
	}
	if acked, _ := sendFive(); acked != 5 {
		t.Errorf("first visitor: %d of 5 acked, want all (within their own limit)", acked)
	}
	if acked, refused := sendFive(); acked != 3 || refused != 2 {
		t.Errorf("second visitor at the address: %d acked, %d refused; want 3 and 2 (the address's 8 in all)", acked, refused)
	}
}

func TestAFloodOfNewVisitorsStoresNothingAndIsRefusedPerAddress(t *testing.T) {
	s := startServer(t, "", web.Options{TrustProxy: true})
	const hellos, workers = 3000, 8
	var welcomed, refused, wrong atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range hellos / workers {
				c := s.from("203.0.113.1")
				c.Send(map[string]any{"type": "hello", "token": "", "last_seq": 0})
				switch f := c.Frame(); {
				case f["type"] == "welcome":
					welcomed.Add(1)
				case f["type"] == "error" && f["code"] == "rate_limited":
					if code := c.closeCode(); code != websocket.CloseTryAgainLater {
						t.Errorf("worker %d: a refused hello was closed with %d, want 1013", w, code)
						wrong.Add(1)
					}
					refused.Add(1)
				default:
					t.Errorf("worker %d: hello answered with %v", w, f)
					wrong.Add(1)
				}
				c.WS.Close()
				if wrong.Load() > 3 {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cs, err := s.db.ListCustomers(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// 60 at once, then 30 a minute.
	limit := 60 + int(elapsed.Minutes()*30) + 1
	t.Logf("%d new-visitor hellos from one address in %v: %d welcomed, %d refused, %d customers stored", hellos, elapsed.Round(time.Millisecond), welcomed.Load(), refused.Load(), len(cs))
	if len(cs) != 0 {
		t.Errorf("%d customers stored by hellos alone, want 0", len(cs))
	}
	if n := welcomed.Load(); n > int64(limit) || n < 60 {
		t.Errorf("%d hellos welcomed in %v, want 60 to %d", n, elapsed, limit)
	}
	if welcomed.Load()+refused.Load() != hellos {
		t.Errorf("%d welcomed + %d refused, want %d answers", welcomed.Load(), refused.Load(), hellos)
	}

	// Another address is not held up by this one.
	c := s.from("203.0.113.2")
	c.hello("", 0)
	// Without TrustProxy, the header is the client's say-so: the peer's
	// address counts, so naming other addresses does not escape the limit.
	strict := startServer(t, "", web.Options{HelloBurst: 2, HellosPerMinute: 0.001})
	for i := range 3 {
		c := strict.from(fmt.Sprint("203.0.113.", 10+i))
		c.Send(map[string]any{"type": "hello", "token": "", "last_seq": 0})
		f := c.Frame()
		if want := i < 2; (f["type"] == "welcome") != want {
			t.Errorf("hello %d with a forged X-Forwarded-For: %v, want welcomed %v", i, f, want)
		}
	}
}

func TestANewVisitorIsStoredWithTheirFirstMessageInOneAct(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	c.Send(map[string]any{"type": "hello", "token": "", "last_seq": 0, "name": "Ana"})
	w := c.Frame()
	token, conv := w["token"].(string), w["conversation_id"].(string)
	if w["type"] != "welcome" || w["customer"].(map[string]any)["returning"] != false || w["customer"].(map[string]any)["name"] != "Ana" {
		t.Fatalf("welcome %v", w)
	}
	g := c.Frame()
	if g["type"] != "message" || g["seq"] != 1.0 || g["from"] != "bot" || g["text"] == "" {
		t.Fatalf("greeting %v, want the bot's seq 1", g)
	}
	c.Send(map[string]any{"type": "profile", "email": "ana@example.com"})
	c.Send(map[string]any{"type": "typing"})

	// A reload before the first message: the same conversation, the
	// greeting again for a client that has not seen it, not for one that has.
	again := s.connect()
	if w2 := again.hello(token, 0); w2["conversation_id"] != conv {
		t.Errorf("reload of a new visitor: conversation %v, want %v", w2["conversation_id"], conv)
	}
	if g2 := again.Frame(); g2["seq"] != 1.0 || g2["from"] != "bot" {
		t.Errorf("greeting after a reload %v, want %v", g2, g)
	}
	resumed := s.connect()
	resumed.hello(token, 1)
	again.WS.Close()

	if cs, _ := s.db.ListCustomers(context.Background(), 0); len(cs) != 0 {
		t.Errorf("before the first message %d customers are stored, want none", len(cs))
	}
	if _, err := s.db.Conversation(context.Background(), conv); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("before the first message the conversation is stored (err %v)", err)
	}

	c.Send(map[string]any{"type": "message", "id": "m1", "text": "how do I return a lamp"})
	fs := c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["text"] == "Was this helpful?" })
	for _, f := range fs {
		if f["type"] == "message" && f["seq"] == 1.0 {
			t.Errorf("the greeting was sent twice: %v", f)
		}
		if f["type"] == "ack" && f["seq"] != 2.0 {
			t.Errorf("ack %v, want seq 2", f)
		}
	}
	// The other connection, which saw the greeting, gets what follows it.
	if f := resumed.Until(isType("message")); f[len(f)-1]["seq"] != 2.0 {
		t.Errorf("the resumed connection's first message %v, want seq 2", f[len(f)-1])
	}

	stored, err := s.db.Conversation(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := s.db.Messages(context.Background(), conv, 0)
	if stored.Rev != 1 || len(ms) != 4 || ms[0].Seq != 1 || ms[0].Text != g["text"] || ms[1].Seq != 2 || ms[1].ClientID != "m1" || ms[2].From != bot.FromBot {
		t.Fatalf("stored rev %d, messages %+v; want one act: greeting 1, message 2, answer, helpful?", stored.Rev, ms)
	}
	cs, _ := s.db.ListCustomers(context.Background(), 0)
	if len(cs) != 1 || cs[0].Name != "Ana" || cs[0].Email != "ana@example.com" || cs[0].ID != stored.CustomerID {
		t.Errorf("customers %+v, want Ana with the pre-chat email", cs)
	}

	// Resuming afterwards is as for any returning visitor.
	back := s.connect()
	wb := back.hello(token, 0)
	if wb["conversation_id"] != conv || wb["customer"].(map[string]any)["returning"] != true || wb["history_truncated"] != nil {
		t.Errorf("resumed welcome %v", wb)
	}
	for _, m := range ms {
		if f := back.Frame(); f["seq"] != float64(m.Seq) || f["text"] != m.Text {
			t.Fatalf("resumed with %v, want seq %d %q", f, m.Seq, m.Text)
		}
	}
	from2 := s.connect()
	from2.hello(token, 2)
	if f := from2.Frame(); f["seq"] != 3.0 {
		t.Errorf("resumed after seq 2 with %v, want seq 3", f)
	}
}

func TestAChannelLinkStoresAPendingVisitorFirst(t *testing.T) {
	s := startServer(t, "", web.Options{})
	if err := s.engine.OfferChannel(context.Background(), bot.Telegram, "https://t.me/shop_bot?start="); err != nil {
		t.Fatal(err)
	}
	c := s.connect()
	w := c.hello("", 0)
	c.Frame() // greeting
	c.Send(map[string]any{"type": "link", "channel": "telegram"})
	if f := c.Until(isType("link")); f[len(f)-1]["url"] == "" {
		t.Fatalf("link %v", f[len(f)-1])
	}
	ms, err := s.db.Messages(context.Background(), w["conversation_id"].(string), 0)
	if err != nil || len(ms) != 1 || ms[0].Seq != 1 {
		t.Fatalf("after the link: %+v (%v), want the greeting stored", ms, err)
	}
	c.Send(map[string]any{"type": "message", "id": "m1", "text": "hello"})
	if f := c.Until(isType("ack")); f[len(f)-1]["seq"] != 2.0 {
		t.Errorf("ack %v, want seq 2", f[len(f)-1])
	}
}

func TestAPendingChatLinkedElsewhereIsClosedAndResumesLinked(t *testing.T) {
	s := startServer(t, "", web.Options{})
	ctx := context.Background()
	owner, err := s.engine.Start(ctx, bot.Identity{Channel: bot.Telegram, ID: "42"}, bot.Profile{Name: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	code, err := s.engine.CreateLinkCode(ctx, owner.Customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	tab := s.connect()
	w := tab.hello("", 0)
	tab.Frame() // greeting
	token := w["token"].(string)
	// Another tab of the visitor follows the link from Telegram.
	linked := s.connect()
	linked.Send(map[string]any{"type": "hello", "token": token, "last_seq": 0, "link": code})
	if f := linked.Frame(); f["type"] != "welcome" || f["customer"].(map[string]any)["name"] != "Ana" {
		t.Fatalf("linked hello: %v", f)
	}
	// The first tab's chat is now Ana's: its message is not stored in a
	// conversation of its own; it is closed, and resumes as Ana.
	tab.Send(map[string]any{"type": "message", "id": "m1", "text": "hello"})
	if code := tab.closeCode(); code != websocket.CloseNormalClosure {
		t.Errorf("stale tab closed with %d, want 1000", code)
	}
	if _, err := s.db.Conversation(ctx, w["conversation_id"].(string)); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the stale tab's conversation was stored (err %v)", err)
	}
	again := s.connect()
	if w2 := again.hello(token, 0); w2["conversation_id"] == w["conversation_id"] || w2["customer"].(map[string]any)["name"] != "Ana" {
		t.Errorf("resumed welcome %v, want Ana's web conversation", w2)
	}
}
