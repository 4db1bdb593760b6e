package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/wsconn"
)

// conn is one customer websocket, served by two goroutines: the reader
// owns the session; the writer (wsconn.Relay) owns the socket's writes
// and, once hello has subscribed, the conversation's events. Frames reach
// the writer through a bounded queue; a client too slow to drain it is
// disconnected (1013) and catches up from the store when it reconnects.
type conn struct {
	s  *Server
	ws *wsconn.Conn
	// subscribed hands the writer the conversation's subscription, after
	// hello has queued the backlog, so events follow it.
	subscribed chan wsconn.Stream[bot.Event]

	// addr holds the limits of the client's address, visitor those of
	// the visitor once hello has found them; both outlive the connection
	// (see limits).
	addr    *addrLimit
	visitor *visitorLimit

	session *bot.Session
	// sent is the highest seq delivered; set by hello, then owned by the
	// writer.
	sent       int64
	lastTyping time.Time
	// readSeq is the last read mark the customer sent (see read).
	readSeq int64
}

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
		c := &conn{s: s, subscribed: make(chan wsconn.Stream[bot.Event], 1)}
		c.ws = wsconn.New(ws, wsconn.Options{MaxFrame: s.opts.MaxFrame, SendQueue: s.opts.SendQueue,
			PingInterval: s.opts.PingInterval, ReadTimeout: s.opts.ReadTimeout})
		if !s.track(c) {
			wsconn.TurnAway(ws)
			return
		}
		c.addr = s.limits.address(s.clientAddr(r))
		writer := make(chan struct{})
		go func() { defer close(writer); wsconn.Relay(c.ws, c.subscribed, c.event) }()
		go func() {
			defer s.untrack(c)
			defer func() {
				s.limits.releaseAddress(c.addr)
				if c.visitor != nil {
					s.limits.releaseVisitor(c.visitor)
				}
			}()
			// The request's context ends when this handler returns; the
			// connection's acts are bounded by the store, not by it.
			c.readLoop(context.Background())
			c.ws.Close(websocket.CloseNormalClosure, "")
			<-writer
		}()
	})
}

// enqueue hands a frame to the writer. A full queue means the client is
// not keeping up: it is disconnected (1013) rather than slowing anyone
// else, and catches up from the store when it reconnects.
func (c *conn) enqueue(f any) {
	if e, ok := f.(errorFrame); ok {
		c.s.opts.Observer.Error(string(bot.Web), e.Code)
	}
	depth, err := c.ws.Send(f)
	c.s.opts.Observer.ObserveSendQueue(depth)
	if errors.Is(err, wsconn.ErrTooSlow) {
		c.s.opts.Log.Warn("websocket client too slow; disconnecting", "conversation", c.conversationID())
	}
}

func (c *conn) conversationID() string {
	if c.session == nil {
		return ""
	}
	return c.session.Conversation.ID
}

// readLoop handles the client's frames until the connection ends. The
// writer relays the conversation's events (see event), once hello has
// subscribed to them.
func (c *conn) readLoop(ctx context.Context) {
	var sub bot.Subscription
	defer func() {
		if sub != nil {
			sub.Close()
		}
	}()
	for {
		data, err := c.ws.Read()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.s.opts.Observer.Refused(string(bot.Web), "too_large")
				c.s.opts.Log.Info("websocket frame too large; closed with 1009", "conversation", c.conversationID())
			}
			return
		}
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
			switch {
			case errors.Is(err, errTooManyVisitors):
				c.refuseHello("too many new chats from your network; please try again in a minute")
				return
			case errors.Is(err, errTooManyResumes):
				c.refuseHello("too many chats from your network are loading at once; please try again in a moment")
				return
			case errors.Is(err, errConnClosed):
				return
			case err != nil:
				c.s.opts.Log.Error("websocket hello failed", "err", err)
				c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "could not start the conversation; please retry"})
				c.ws.End(websocket.CloseNormalClosure, "")
				return
			}
			sub = s
			c.subscribed <- sub
			// The history may have taken a while: count the silence from
			// now (pongs are read only from here on).
			c.ws.Touch()
		case "message":
			c.message(ctx, f)
		case "typing":
			// At most one typing event a second reaches the people, and
			// none before the conversation is stored.
			if now := time.Now(); !c.session.Pending && now.Sub(c.lastTyping) >= time.Second {
				c.lastTyping = now
				c.s.engine.Typing(c.conversationID(), bot.FromCustomer, "")
			}
		case "profile":
			if !c.allow() {
				c.enqueue(errorFrame{Type: "error", Code: codeRateLimited, Message: "you are sending too fast; please wait a moment"})
				continue
			}
			if c.session.Pending {
				// Kept until the first message stores the customer.
				c.session.SetProfile(bot.Profile{Name: f.Name, Email: f.Email})
				continue
			}
			if _, err := c.s.engine.UpdateProfile(ctx, c.session.Customer.ID, bot.Profile{Name: f.Name, Email: f.Email}); err != nil {
				c.s.opts.Log.Error("update profile", "customer", c.session.Customer.ID, "err", err)
				c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "could not save your details"})
			}
		case "link":
			c.link(ctx, f)
		case "read":
			c.read(ctx, f)
		default:
			c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: "unknown frame type " + truncate(f.Type, 40)})
		}
	}
}

// tokenLen is the length of a visitor token: 32 random bytes in hex.
const tokenLen = 64

// Reasons hello ends the connection without a session.
var (
	errTooManyVisitors = errors.New("too many new visitors from the address")
	errTooManyResumes  = errors.New("too many histories being sent to the address")
	errConnClosed      = errors.New("connection closed during hello")
)

// historyPage is how many stored messages hello reads at a time: the
// most it holds of a history, besides the frames in the send queue.
const historyPage = 200

// hello starts the session: it recognises the visitor by token (or issues
// a new one), subscribes to the conversation, then sends the welcome and
// the stored messages the client has not seen (at most MaxBacklog).
// Subscribing before reading the history means nothing falls in between;
// event skips what the history already sent.
//
// A new visitor's session is pending (see bot.Engine.Open): nothing is
// stored, and the greeting is sent from memory as seq 1, to be stored
// with the first message. New visitors count against their address's
// limit; returning ones wait for their address's turn to be sent their
// history.
func (c *conn) hello(ctx context.Context, f inFrame) (bot.Subscription, error) {
	token := f.Token
	counted := false
	if len(token) != tokenLen || !isHex(token) {
		if !c.s.limits.allowHello(c.addr) {
			return nil, errTooManyVisitors
		}
		token, counted = newToken(), true
	}
	if f.Link != "" {
		c.redeem(ctx, f.Link, token)
	}
	if f.Identity != nil {
		c.identify(ctx, &f, token)
	}
	s, err := c.s.engine.Open(ctx, visitorIdentity(token), bot.Profile{Name: f.Name, Email: f.Email})
	if err != nil {
		return nil, err
	}
	if s.Pending && !counted && !c.s.limits.allowHello(c.addr) {
		return nil, errTooManyVisitors
	}
	c.session = s
	c.visitor = c.s.limits.visitor(s.Customer.ID)
	sub := c.s.engine.Subscribe(s.Conversation.ID, eventBuffer)
	if err := c.welcome(ctx, token, f.LastSeq); err != nil {
		sub.Close()
		return nil, err
	}
	return sub, nil
}

// welcome sends the welcome and the history after lastSeq, and sets
// sent.
func (c *conn) welcome(ctx context.Context, token string, lastSeq int64) error {
	s := c.session
	channels, err := c.s.engine.LinkChannels(ctx)
	if err != nil && !errors.Is(err, bot.ErrNoLinkStore) {
		c.s.opts.Log.Error("list link channels", "err", err)
	}
	w := welcomeFrame{Type: "welcome", Token: token, ConversationID: s.Conversation.ID, State: s.Conversation.State,
		Customer: customerInfo{Returning: s.Returning, Name: s.Customer.Name, Verified: s.Customer.ExternalID != ""}, Channels: channels}
	if s.Pending {
		c.enqueue(w)
		if lastSeq != s.Greeting.Seq {
			// A last_seq other than the greeting's is from elsewhere.
			c.enqueue(toFrame(s.Greeting))
		}
		c.sent = s.Greeting.Seq
		return nil
	}
	conv, err := c.s.engine.Conversation(ctx, s.Conversation.ID)
	if err != nil {
		return err
	}
	w.State, w.AgentReadSeq = conv.State, conv.AgentReadSeq
	c.readSeq = conv.CustomerReadSeq
	after := max(lastSeq, 0)
	if after > conv.LastSeq {
		// The client saw a conversation that has since been closed and
		// replaced: everything in this one is new to it.
		after = 0
	}
	if conv.LastSeq-after > int64(c.s.opts.MaxBacklog) {
		after = conv.LastSeq - int64(c.s.opts.MaxBacklog)
		w.HistoryTruncated, w.FirstSeq = true, after+1
	}
	c.sent = after
	if after == conv.LastSeq {
		c.enqueue(w)
		return nil
	}
	// Refused before the welcome: the client has not started anything.
	if !c.s.limits.startResume(c.addr, c.ws.Done()) {
		select {
		case <-c.ws.Done():
			return errConnClosed
		default:
			return errTooManyResumes
		}
	}
	defer c.s.limits.endResume(c.addr)
	c.enqueue(w)
	sent, err := c.history(ctx, s.Conversation.ID, after)
	c.sent = sent
	return err
}

// history queues the stored messages after seq after, a page at a time,
// each page read in its own short transaction, and returns the last seq
// read. It waits for the writer rather than counting this client as
// slow: a history may be longer than the send queue.
func (c *conn) history(ctx context.Context, convID string, after int64) (int64, error) {
	for {
		ms, next, err := c.s.engine.MessagePage(ctx, convID, after, historyPage)
		if err != nil || next == after {
			return after, err
		}
		for _, m := range ms {
			if !c.ws.SendWait(toFrame(m)) {
				return after, errConnClosed
			}
		}
		after = next
	}
}

// refuseHello tells the client why its hello is refused and closes the
// connection with 1013 (try again later).
func (c *conn) refuseHello(why string) {
	c.s.opts.Observer.Refused(string(bot.Web), "rate_limited")
	c.enqueue(errorFrame{Type: "error", Code: codeRateLimited, Message: why})
	c.ws.End(websocket.CloseTryAgainLater, "rate limited")
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
		f := toFrame(*m)
		f.Draft = m.Draft
		c.enqueue(f)
	case bot.EventDraft:
		if e.Draft != nil {
			c.enqueue(draftFrame{Type: "draft", ID: e.Draft.ID, Text: e.Draft.Text})
		}
	case bot.EventState:
		c.enqueue(stateFrame{Type: "state", State: e.State, Agent: e.Agent})
	case bot.EventTyping:
		if e.From != bot.FromCustomer {
			c.enqueue(typingFrame{Type: "typing", From: e.From})
		}
	case bot.EventRead:
		if e.From == bot.FromAgent {
			c.enqueue(readFrame{Type: "read", From: bot.FromAgent, Seq: e.Seq})
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
	in := bot.Inbound{
		ConversationID: c.session.Conversation.ID, ClientID: f.ID, Text: f.Text, Payload: truncate(f.Payload, 200),
		OnStored: func(m bot.Message, dup bool) {
			stored = true
			if dup {
				// A retry of a message delivered before: no event will
				// carry its ack, so send it here.
				c.enqueue(ackFrame{Type: "ack", ID: f.ID, Seq: m.Seq})
			}
		},
	}
	if c.session.Pending {
		// The first message stores the session with it.
		in.Session = c.session
	}
	_, err := c.s.engine.Handle(ctx, in)
	if stored {
		c.session.Pending = false
	}
	switch {
	case errors.Is(err, bot.ErrStaleSession):
		c.stale()
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

// stale ends a connection whose pending session was started elsewhere
// (bot.ErrStaleSession): the client reconnects, is attached to the
// conversation it now has, and sends its unacknowledged messages again.
func (c *conn) stale() {
	c.s.opts.Log.Info("web visitor's chat was started on another connection; closing this one", "conversation", c.conversationID())
	c.ws.End(websocket.CloseNormalClosure, "")
}

// allow takes a token from the visitor's bucket (RateBurst messages at
// once, refilled at RatePerSecond, whatever their connections) and one
// from their address's. A refusal takes none.
func (c *conn) allow() bool {
	if c.s.limits.allowMessage(c.visitor, c.addr) {
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
	if c.session.Pending {
		// The link names the customer, who must be stored first.
		switch err := c.s.engine.Persist(ctx, c.session); {
		case errors.Is(err, bot.ErrStaleSession):
			c.stale()
			return
		case err != nil:
			c.s.opts.Log.Error("store web visitor for a channel link", "err", err)
			c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "could not make a link; please try again"})
			return
		}
		c.session.Pending = false
	}
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
