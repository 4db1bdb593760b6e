package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/frontdesk/frontdesk/bot"
)

// conn is one customer websocket, served by two goroutines: the reader
// (the handler's) owns the session; the writer owns the socket's writes
// and, once hello has subscribed, the conversation's events. Frames reach
// the writer through a bounded queue; a client too slow to drain it is
// disconnected and catches up from the store when it reconnects.
type conn struct {
	s    *Server
	ws   *websocket.Conn
	send *outbox
	// subscribed hands the writer the conversation's subscription, after
	// hello has queued the backlog, so events follow it.
	subscribed chan bot.Subscription
	done       chan struct{} // closed when the connection ends
	once       sync.Once
	// goingAway: the server is shutting down; the close frame says 1001.
	goingAway atomic.Bool

	session *bot.Session
	// sent is the highest seq delivered; set by hello, then owned by the
	// writer.
	sent       int64
	limiter    *rate.Limiter
	lastTyping time.Time
}

const writeWait = 10 * time.Second

// handleWS upgrades the request and starts the connection's reader and
// writer, then returns: the HTTP server's per-request state (its buffers,
// the request) is freed, and an idle connection costs only its two
// goroutines and their buffers.
func (s *Server) handleWS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := s.upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // the upgrader has replied
		}
		c := &conn{s: s, ws: ws, send: newOutbox(s.opts.SendQueue), subscribed: make(chan bot.Subscription, 1), done: make(chan struct{}),
			limiter: rate.NewLimiter(rate.Limit(s.opts.RatePerSecond), s.opts.RateBurst)}
		if !s.track(c) {
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(writeWait))
			ws.Close()
			return
		}
		ws.SetReadLimit(s.opts.MaxFrame)
		writer := make(chan struct{})
		go func() { defer close(writer); c.writeLoop() }()
		go func() {
			defer s.untrack(c)
			// The request's context ends when this handler returns; the
			// connection's acts are bounded by the store, not by it.
			c.readLoop(context.Background())
			c.close()
			<-writer
			ws.Close()
		}()
	})
}

// close ends the connection; safe to call more than once.
func (c *conn) close() { c.once.Do(func() { close(c.done) }) }

// goAway tells the client the server is shutting down (close code
// 1001) and ends the connection: the writer sends the close frame and
// closes the socket, which unblocks the reader whatever its deadline.
func (c *conn) goAway() {
	c.goingAway.Store(true)
	c.close()
}

// enqueue hands a frame to the writer. A full queue means the client is
// not keeping up: it is disconnected rather than slowing anyone else.
func (c *conn) enqueue(f any) {
	if e, ok := f.(errorFrame); ok {
		c.s.opts.Observer.Error(string(bot.Web), e.Code)
	}
	depth, ok := c.send.push(f)
	c.s.opts.Observer.ObserveSendQueue(depth)
	if !ok {
		c.s.opts.Log.Warn("websocket client too slow; disconnecting", "conversation", c.conversationID())
		c.close()
	}
}

func (c *conn) conversationID() string {
	if c.session == nil {
		return ""
	}
	return c.session.Conversation.ID
}

// writeLoop writes queued frames, relays the conversation's events once
// subscribed (see event), and pings. If the subscription lags, the
// connection is closed: the client reconnects and resumes from the store.
func (c *conn) writeLoop() {
	ping := time.NewTicker(c.s.opts.PingInterval)
	defer ping.Stop()
	var sub bot.Subscription
	var events <-chan bot.Event
	for {
		select {
		case sub = <-c.subscribed:
			events = sub.C()
		case e, ok := <-events:
			if !ok {
				events = nil
				if sub.Lagged() {
					c.close()
				}
				continue
			}
			c.event(e)
		case <-c.send.ready:
			for _, f := range c.send.take() {
				c.ws.SetWriteDeadline(time.Now().Add(writeWait))
				if err := c.ws.WriteJSON(f); err != nil {
					c.close()
					c.ws.Close() // unblock the reader
					return
				}
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.close()
				c.ws.Close()
				return
			}
		case <-c.done:
			code, reason := websocket.CloseNormalClosure, ""
			if c.goingAway.Load() {
				code, reason = websocket.CloseGoingAway, "server shutting down"
			}
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason))
			c.ws.Close() // unblock the reader
			return
		}
	}
}

func (c *conn) readLoop(ctx context.Context) {
	c.ws.SetReadDeadline(time.Now().Add(c.s.opts.ReadTimeout))
	c.ws.SetPongHandler(func(string) error {
		c.ws.SetReadDeadline(time.Now().Add(c.s.opts.ReadTimeout))
		return nil
	})
	var sub bot.Subscription
	defer func() {
		if sub != nil {
			sub.Close()
		}
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.s.opts.Observer.Refused(string(bot.Web), "too_large")
				c.s.opts.Log.Info("websocket frame too large; closed with 1009", "conversation", c.conversationID())
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(c.s.opts.ReadTimeout))
		f, err := decodeFrame(data)
		if err != nil {
			c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: "frame is not a JSON object"})
			continue
		}
		if f.Type != "hello" && c.session == nil {
			c.enqueue(errorFrame{Type: "error", Code: codeNotReady, Message: "send hello first"})
			continue
		}
		switch f.Type {
		case "hello":
			if c.session != nil {
				c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: "hello was already sent"})
				continue
			}
			s, err := c.hello(ctx, f)
			if err != nil {
				c.s.opts.Log.Error("websocket hello failed", "err", err)
				c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "could not start the conversation; please retry"})
				return
			}
			sub = s
			c.subscribed <- sub
		case "message":
			c.message(ctx, f)
		case "typing":
			// At most one typing event a second reaches the people.
			if now := time.Now(); now.Sub(c.lastTyping) >= time.Second {
				c.lastTyping = now
				c.s.engine.Typing(c.conversationID(), bot.FromCustomer, "")
			}
		case "profile":
			if !c.allow() {
				c.enqueue(errorFrame{Type: "error", Code: codeRateLimited, Message: "you are sending too fast; please wait a moment"})
				continue
			}
			if _, err := c.s.engine.UpdateProfile(ctx, c.session.Customer.ID, bot.Profile{Name: f.Name, Email: f.Email}); err != nil {
				c.s.opts.Log.Error("update profile", "customer", c.session.Customer.ID, "err", err)
				c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "could not save your details"})
			}
		case "link":
			c.link(ctx, f)
		default:
			c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: "unknown frame type " + truncate(f.Type, 40)})
		}
	}
}

// tokenLen is the length of a visitor token: 32 random bytes in hex.
const tokenLen = 64

// hello starts the session: it recognises the visitor by token (or issues
// a new one), subscribes to the conversation, then sends the welcome and
// every stored message the client has not seen. Subscribing before reading
// the backlog means nothing falls in between; event skips what the
// backlog already sent.
func (c *conn) hello(ctx context.Context, f inFrame) (bot.Subscription, error) {
	token := f.Token
	if len(token) != tokenLen || !isHex(token) {
		token = newToken()
	}
	if f.Link != "" {
		c.redeem(ctx, f.Link, token)
	}
	s, err := c.s.engine.Start(ctx, visitorIdentity(token), bot.Profile{Name: f.Name, Email: f.Email})
	if err != nil {
		return nil, err
	}
	c.session = s
	sub := c.s.engine.Bus().Subscribe(s.Conversation.ID, eventBuffer)
	conv, err := c.s.engine.Store().Conversation(ctx, s.Conversation.ID)
	if err != nil {
		sub.Close()
		return nil, err
	}
	if f.LastSeq > conv.LastSeq {
		// The client saw a conversation that has since been closed and
		// replaced: everything in this one is new to it.
		f.LastSeq = 0
	}
	backlog, err := c.s.engine.Messages(ctx, s.Conversation.ID, max(f.LastSeq, 0))
	if err != nil {
		sub.Close()
		return nil, err
	}
	channels, err := c.s.engine.LinkChannels(ctx)
	if err != nil && !errors.Is(err, bot.ErrNoLinkStore) {
		c.s.opts.Log.Error("list link channels", "err", err)
	}
	c.enqueue(welcomeFrame{Type: "welcome", Token: token, ConversationID: s.Conversation.ID, State: conv.State,
		Customer: customerInfo{Returning: s.Returning, Name: s.Customer.Name}, Channels: channels})
	for _, m := range backlog {
		// The backlog may be longer than the send queue: wait for the
		// writer rather than counting this client as slow.
		if !c.send.pushWait(toFrame(m), c.done) {
			sub.Close()
			return nil, errors.New("connection closed while sending the backlog")
		}
	}
	c.sent = max(f.LastSeq, 0)
	if len(backlog) > 0 {
		c.sent = backlog[len(backlog)-1].Seq
	}
	return sub, nil
}

// visitorIdentity is the identity of a web visitor. Only a hash of the
// token is stored, so the database alone does not let anyone impersonate
// a visitor.
func visitorIdentity(token string) bot.Identity {
	sum := sha256.Sum256([]byte(token))
	return bot.Identity{Channel: bot.Web, ID: hex.EncodeToString(sum[:])}
}

func newToken() string {
	var b [tokenLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// eventBuffer is how many events may wait for a connection's writer.
// The writer moves them to the send queue as fast as they come, so a
// small buffer suffices, and idle connections stay light.
const eventBuffer = 16

// event queues the frames for one conversation event, skipping messages
// the backlog already delivered. The writer calls it.
func (c *conn) event(e bot.Event) {
	switch e.Kind {
	case bot.EventMessage:
		m := e.Message
		if m.Internal || m.Seq <= c.sent {
			return
		}
		c.sent = m.Seq
		if m.From == bot.FromCustomer && m.ClientID != "" {
			// The ack travels with the message it acknowledges, so it never
			// overtakes an earlier message: its seq is safe as last_seq.
			c.enqueue(ackFrame{Type: "ack", ID: m.ClientID, Seq: m.Seq})
		}
		c.enqueue(toFrame(*m))
	case bot.EventState:
		c.enqueue(stateFrame{Type: "state", State: e.State, Agent: e.Agent})
	case bot.EventTyping:
		if e.From != bot.FromCustomer {
			c.enqueue(typingFrame{Type: "typing", From: e.From})
		}
	}
}

// message stores a customer message through the engine and acknowledges
// it once it is durable.
func (c *conn) message(ctx context.Context, f inFrame) {
	if f.ID == "" || len(f.ID) > 100 {
		c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: "a message needs an id of 1 to 100 characters"})
		return
	}
	if utf8.RuneCountInString(f.Text) > c.s.opts.MaxText {
		c.enqueue(errorFrame{Type: "error", Code: codeTooLarge, Message: "message is too long", ID: f.ID})
		return
	}
	if !c.allow() {
		c.enqueue(errorFrame{Type: "error", Code: codeRateLimited, Message: "you are sending messages too fast; please wait a moment", ID: f.ID})
		return
	}
	stored := false
	_, err := c.s.engine.Handle(ctx, bot.Inbound{
		ConversationID: c.session.Conversation.ID, ClientID: f.ID, Text: f.Text, Payload: truncate(f.Payload, 200),
		OnStored: func(m bot.Message, dup bool) {
			stored = true
			if dup {
				// A retry of a message delivered before: no event will
				// carry its ack, so send it here.
				c.enqueue(ackFrame{Type: "ack", ID: f.ID, Seq: m.Seq})
			}
		},
	})
	switch {
	case errors.Is(err, bot.ErrEmpty):
		c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: "empty message", ID: f.ID})
	case err != nil && !stored:
		c.s.opts.Log.Error("handle message", "conversation", c.session.Conversation.ID, "err", err)
		c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "your message could not be saved; please send it again", ID: f.ID})
	case err != nil:
		// The message is stored and acknowledged; the engine has told the
		// customer that the bot's reply failed.
		c.s.opts.Log.Error("bot reply", "conversation", c.session.Conversation.ID, "err", err)
	}
}

// allow takes a token from the connection's bucket: RateBurst messages
// at once, refilled at RatePerSecond. A refusal takes none.
func (c *conn) allow() bool {
	if c.limiter.Allow() {
		return true
	}
	c.s.opts.Observer.Refused(string(bot.Web), "rate_limited")
	return false
}

// redeem links the visitor token to the customer who made the link code
// (the /web command on another channel). A bad code is reported in an
// error frame and the hello goes on with the token as it is.
func (c *conn) redeem(ctx context.Context, code, token string) {
	_, err := c.s.engine.RedeemLinkCode(ctx, truncate(code, 100), visitorIdentity(token))
	switch {
	case err == nil:
	case errors.Is(err, bot.ErrLinkExpired):
		c.enqueue(errorFrame{Type: "error", Code: codeLinkExpired, Message: "this link has expired; ask for a new one"})
	case errors.Is(err, bot.ErrLinkUnknown):
		c.enqueue(errorFrame{Type: "error", Code: codeLinkInvalid, Message: "this link is not valid or was already used"})
	default:
		c.s.opts.Log.Error("redeem link code", "err", err)
		c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "could not link your chat; please try again"})
	}
}

// link answers a request to continue the conversation on another
// channel with a one-time link, or an "unavailable" error.
func (c *conn) link(ctx context.Context, f inFrame) {
	if !c.allow() {
		c.enqueue(errorFrame{Type: "error", Code: codeRateLimited, Message: "you are sending too fast; please wait a moment"})
		return
	}
	ch := bot.Channel(f.Channel)
	url, err := c.s.engine.ChannelLink(ctx, c.session.Customer.ID, ch)
	switch {
	case err == nil:
		c.enqueue(linkFrame{Type: "link", Channel: ch, URL: url})
	case errors.Is(err, bot.ErrChannelUnavailable), errors.Is(err, bot.ErrNoLinkStore):
		c.enqueue(errorFrame{Type: "error", Code: codeUnavailable, Message: "continuing on " + truncate(f.Channel, 40) + " is not available"})
	default:
		c.s.opts.Log.Error("create channel link", "customer", c.session.Customer.ID, "err", err)
		c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "could not make a link; please try again"})
	}
}
