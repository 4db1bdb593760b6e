package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
)

// The tests in this file run the web channel on fakeEngine, a small
// in-memory web.Engine, where the point is the channel's behaviour on the
// wire (frames, error codes, close codes) for answers of the core that a
// real one gives only rarely. The other tests keep the real engine.

// fakeEngine serves one new visitor: a pending session whose greeting is
// seq 1. Handle stores nothing; it does what handle says, or by default
// echoes the message and answers "noted" through a real in-process bus.
type fakeEngine struct {
	bus *bot.LocalBus
	mu  sync.Mutex
	// handle, if set, is what Handle does.
	handle func(in bot.Inbound) (bot.Message, error)
	// linkErr is what ChannelLink returns, redeemErr RedeemLinkCode.
	linkErr, redeemErr error
}

var _ web.Engine = (*fakeEngine)(nil)

var errNotFaked = errors.New("not part of the fake")

func (f *fakeEngine) Open(context.Context, bot.Identity, bot.Profile) (*bot.Session, error) {
	return &bot.Session{
		Customer:     bot.Customer{ID: "cus_1"},
		Conversation: bot.Conversation{ID: "con_1", CustomerID: "cus_1", Channel: bot.Web, State: bot.StateBot},
		Pending:      true,
		Greeting:     bot.Message{ConversationID: "con_1", Seq: 1, From: bot.FromBot, Text: "Hi! How can I help?", Time: time.Now()},
	}, nil
}

func (f *fakeEngine) Persist(context.Context, *bot.Session) error { return nil }

func (f *fakeEngine) Identify(context.Context, bot.Identity, bot.Verified) (*bot.Customer, error) {
	return nil, errNotFaked
}

func (f *fakeEngine) Handle(_ context.Context, in bot.Inbound) (bot.Message, error) {
	f.mu.Lock()
	handle := f.handle
	f.mu.Unlock()
	if handle != nil {
		return handle(in)
	}
	m := bot.Message{ConversationID: in.ConversationID, Seq: 2, From: bot.FromCustomer, ClientID: in.ClientID, Text: in.Text, Time: time.Now()}
	in.OnStored(m, false)
	f.bus.Publish(bot.Event{Kind: bot.EventMessage, ConversationID: in.ConversationID, Message: &m})
	reply := bot.Message{ConversationID: in.ConversationID, Seq: 3, From: bot.FromBot, Text: "noted", Time: time.Now()}
	f.bus.Publish(bot.Event{Kind: bot.EventMessage, ConversationID: in.ConversationID, Message: &reply})
	return reply, nil
}

func (f *fakeEngine) UpdateProfile(context.Context, string, bot.Profile) (*bot.Customer, error) {
	return nil, errNotFaked
}

func (f *fakeEngine) Typing(string, bot.Sender, string) {}

func (f *fakeEngine) Subscribe(conversationID string, buffer int) bot.Subscription {
	return f.bus.Subscribe(conversationID, buffer)
}

func (f *fakeEngine) Conversation(context.Context, string) (*bot.Conversation, error) {
	return nil, errNotFaked
}

func (f *fakeEngine) MessagePage(context.Context, string, int64, int) ([]bot.Message, int64, error) {
	return nil, 0, errNotFaked
}

func (f *fakeEngine) LinkChannels(context.Context) ([]bot.Channel, error) {
	return []bot.Channel{bot.Telegram}, nil
}

func (f *fakeEngine) ChannelLink(context.Context, string, bot.Channel) (string, error) {
	if f.linkErr != nil {
		return "", f.linkErr
	}
	return "https://t.me/shop_bot?start=abc123", nil
}

func (f *fakeEngine) RedeemLinkCode(context.Context, string, bot.Identity) (*bot.Customer, error) {
	return nil, f.redeemErr
}

// onFake serves the web channel on f, over a real HTTP server.
func onFake(t *testing.T, f *fakeEngine) *server {
	t.Helper()
	f.bus = bot.NewBus()
	w := web.NewServer(f, web.Options{})
	mux := http.NewServeMux()
	w.Routes(mux)
	s := &server{t: t, http: httptest.NewServer(mux), web: w}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w.Shutdown(ctx)
		s.http.Close()
	})
	return s
}

func TestOnAFakeHelloIsWelcomedWithTheDocumentedFrames(t *testing.T) {
	f := &fakeEngine{redeemErr: bot.ErrLinkExpired}
	c := onFake(t, f).connect()
	c.Send(map[string]any{"type": "hello", "token": "", "last_seq": 0, "link": "old-code"})
	// A link code that expired is reported, and the hello goes on.
	if e := c.Frame(); e["type"] != "error" || e["code"] != "link_expired" {
		t.Fatalf("first frame %v, want error link_expired", e)
	}
	w := c.Frame()
	token, _ := w["token"].(string)
	cust, _ := w["customer"].(map[string]any)
	channels, _ := w["channels"].([]any)
	if w["type"] != "welcome" || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(token) || w["conversation_id"] != "con_1" ||
		w["state"] != "bot" || cust["returning"] != false || len(channels) != 1 || channels[0] != "telegram" {
		t.Fatalf("welcome %v", w)
	}
	if g := c.Frame(); g["type"] != "message" || g["seq"] != 1.0 || g["from"] != "bot" || g["text"] != "Hi! How can I help?" || g["time"] == nil {
		t.Fatalf("greeting %v", g)
	}

	// A message is acknowledged right before its echo, then answered.
	c.Send(map[string]any{"type": "message", "id": "m1", "text": "where is my parcel"})
	ack, echo, reply := c.Frame(), c.Frame(), c.Frame()
	if ack["type"] != "ack" || ack["id"] != "m1" || ack["seq"] != 2.0 {
		t.Errorf("ack %v", ack)
	}
	if echo["type"] != "message" || echo["id"] != "m1" || echo["from"] != "customer" || echo["seq"] != 2.0 {
		t.Errorf("echo %v", echo)
	}
	if reply["type"] != "message" || reply["from"] != "bot" || reply["text"] != "noted" {
		t.Errorf("reply %v", reply)
	}

	// A link to continue on Telegram.
	c.Send(map[string]any{"type": "link", "channel": "telegram"})
	if l := c.Frame(); l["type"] != "link" || l["channel"] != "telegram" || l["url"] != "https://t.me/shop_bot?start=abc123" {
		t.Errorf("link %v", l)
	}
}

func TestOnAFakeTheCoresErrorsBecomeErrorFrames(t *testing.T) {
	cases := []struct {
		name   string
		handle func(in bot.Inbound) (bot.Message, error)
		code   string
	}{
		{"an empty message", func(bot.Inbound) (bot.Message, error) { return bot.Message{}, bot.ErrEmpty }, "bad_frame"},
		{"a message the store could not keep", func(bot.Inbound) (bot.Message, error) {
			return bot.Message{}, errors.New("bbolt: disk I/O error")
		}, "internal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := onFake(t, &fakeEngine{handle: c.handle}).connect()
			cl.hello("", 0)
			cl.Frame() // the greeting
			cl.Send(map[string]any{"type": "message", "id": "m1", "text": "hello"})
			e := cl.Frame()
			msg, _ := e["message"].(string)
			if e["type"] != "error" || e["code"] != c.code || e["id"] != "m1" || msg == "" {
				t.Fatalf("got %v, want an error frame %s about m1", e, c.code)
			}
			if regexp.MustCompile(`bbolt|disk`).MatchString(msg) {
				t.Errorf("the store's error reached the customer: %q", msg)
			}
			// The connection stays open: the next frame is answered.
			cl.Send(map[string]any{"type": "dance"})
			if e := cl.Frame(); e["code"] != "bad_frame" {
				t.Errorf("after the error: %v, want bad_frame", e)
			}
		})
	}

	t.Run("a channel that is not offered", func(t *testing.T) {
		cl := onFake(t, &fakeEngine{linkErr: bot.ErrChannelUnavailable}).connect()
		cl.hello("", 0)
		cl.Frame()
		cl.Send(map[string]any{"type": "link", "channel": "whatsapp"})
		if e := cl.Frame(); e["type"] != "error" || e["code"] != "unavailable" {
			t.Fatalf("got %v, want error unavailable", e)
		}
	})

	t.Run("a chat started elsewhere closes with 1000", func(t *testing.T) {
		cl := onFake(t, &fakeEngine{handle: func(bot.Inbound) (bot.Message, error) { return bot.Message{}, bot.ErrStaleSession }}).connect()
		cl.hello("", 0)
		cl.Frame()
		cl.Send(map[string]any{"type": "message", "id": "m1", "text": "hello"})
		cl.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := cl.WS.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("got %v, want close 1000", err)
		}
	})
}
