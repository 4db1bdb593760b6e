package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// conn is one agent websocket. Three goroutines serve it, all owned by
// the request's handler, which waits for them: the reader (the handler's
// own) handles what the console sends; the forwarder turns queue and
// conversation events into frames; the writer owns the socket's writes.
// Frames reach the writer through a bounded queue; a console too slow to
// drain it is disconnected, reconnects and reloads what it shows.
type conn struct {
	s         *Server
	ws        *websocket.Conn
	agent     *handoff.Agent
	token     string
	tokenHash []byte
	send      chan any
	done      chan struct{} // closed when the connection ends
	once      sync.Once

	mu sync.Mutex
	// owned are the conversations the agent has (from the queue); watched
	// those the console asked to follow. Messages, state changes and
	// typing of these reach the console.
	owned   map[string]bool
	watched map[string]bool

	lastTyping map[string]time.Time // reader only
}

// Frames the server sends. docs/agent-api.md is the contract.
type (
	readyFrame struct {
		Type     string           `json:"type"` // "ready"
		Agent    agentView        `json:"agent"`
		Presence handoff.Presence `json:"presence"`
	}
	queueFrame struct {
		Type   string            `json:"type"` // "queue"
		Event  handoff.EventKind `json:"event"`
		Ticket *ticketView       `json:"ticket"`
		// Agent is who the event is about: the assignee, the transfer
		// target, the agent who escalated or resolved.
		Agent string `json:"agent,omitempty"`
	}
	messageFrame struct {
		Type           string      `json:"type"` // "message"
		ConversationID string      `json:"conversation_id"`
		Message        messageView `json:"message"`
	}
	typingFrame struct {
		Type           string     `json:"type"` // "typing"
		ConversationID string     `json:"conversation_id"`
		From           bot.Sender `json:"from"`
	}
	presenceFrame struct {
		Type     string           `json:"type"` // "presence"
		AgentID  string           `json:"agent_id"`
		Presence handoff.Presence `json:"presence"`
	}
	stateFrame struct {
		Type           string    `json:"type"` // "state"
		ConversationID string    `json:"conversation_id"`
		State          bot.State `json:"state"`
		Agent          string    `json:"agent,omitempty"`
	}
	errorFrame struct {
		Type    string `json:"type"` // "error"
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

// inFrame is any frame a console sends; Type says which fields matter.
type inFrame struct {
	Type           string           `json:"type"`
	Presence       handoff.Presence `json:"presence"`
	ConversationID string           `json:"conversation_id"`
}

// Error codes of error frames.
const (
	codeBadFrame  = "bad_frame"
	codeForbidden = "forbidden"
	codeNotFound  = "not_found"
	codeInternal  = "internal"
)

// handleWS upgrades an authenticated agent's request to the agent
// websocket. Without a valid session it answers 401 and upgrades nothing.
func (s *Server) handleWS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.authenticate(r, true)
		if !s.authOK(w, r, err) {
			return
		}
		ws, err := s.upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // the upgrader has replied
		}
		c := &conn{
			s: s, ws: ws, agent: sess.agent, token: sess.token, tokenHash: sess.hash,
			send: make(chan any, sendQueue), done: make(chan struct{}),
			owned: map[string]bool{}, watched: map[string]bool{}, lastTyping: map[string]time.Time{},
		}
		if !s.track(c) {
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(writeWait))
			ws.Close()
			return
		}
		defer s.wg.Done()
		ctx := r.Context()
		// Subscribe before reading what the agent owns, so that no change
		// falls in between.
		events := s.engine.Subscribe("", sendQueue)
		queue := s.queue.Subscribe(sendQueue)
		if err := c.loadOwned(ctx); err != nil {
			s.opts.Log.Error("agent websocket: load owned conversations", "agent", c.agent.ID, "err", err)
		}
		c.enqueue(readyFrame{Type: "ready", Agent: viewAgent(c.agent), Presence: s.queue.Presence(c.agent.ID)})
		ws.SetReadLimit(maxFrame)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); c.writeLoop() }()
		go func() { defer wg.Done(); c.forward(ctx, events, queue) }()
		c.readLoop(ctx)
		c.close()
		events.Close()
		queue.Close()
		wg.Wait()
		ws.Close()
		if s.untrack(c) {
			// The agent's last console closed: sign it off now rather than
			// routing work to it until its heartbeat times out.
			hctx, cancel := context.WithTimeout(context.Background(), writeWait)
			if err := s.queue.Heartbeat(hctx, c.agent.ID, handoff.PresenceOffline); err != nil && !errors.Is(err, handoff.ErrDisabled) && !errors.Is(err, handoff.ErrNotFound) {
				s.opts.Log.Warn("sign off agent", "agent", c.agent.ID, "err", err)
			}
			cancel()
		}
	})
}

// loadOwned fills owned with the conversations assigned to the agent.
func (c *conn) loadOwned(ctx context.Context) error {
	mine, err := c.s.queue.Tickets(ctx, handoff.Filter{Agent: c.agent.ID, Status: handoff.StatusAssigned})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range mine {
		c.owned[t.ConversationID] = true
	}
	return nil
}

// close ends the connection; safe to call more than once.
func (c *conn) close() { c.once.Do(func() { close(c.done) }) }

// goAway closes the connection with the code and reason. It may be called
// from any goroutine. Ending done as well as the read makes the writer
// close the socket, so the reader stops even if it was about to set a
// new read deadline.
func (c *conn) goAway(code int, reason string) {
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeWait))
	c.ws.SetReadDeadline(time.Now())
	c.close()
}

// enqueue hands a frame to the writer. A full queue means the console is
// not keeping up: it is disconnected rather than slowing anyone else.
func (c *conn) enqueue(f any) {
	select {
	case c.send <- f:
	case <-c.done:
	default:
		c.s.opts.Log.Warn("agent websocket too slow; disconnecting", "agent", c.agent.ID)
		c.goAway(websocket.CloseTryAgainLater, "too slow; reconnect")
	}
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case f := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteJSON(f); err != nil {
				c.close()
				c.ws.Close() // unblock the reader
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.close()
				c.ws.Close()
				return
			}
		case <-c.done:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			c.ws.Close() // unblock the reader
			return
		}
	}
}

func (c *conn) readLoop(ctx context.Context) {
	c.ws.SetReadDeadline(time.Now().Add(readTimeout))
	c.ws.SetPongHandler(func(string) error {
		c.ws.SetReadDeadline(time.Now().Add(readTimeout))
		return nil
	})
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.s.opts.Log.Info("agent websocket frame too large; closed with 1009", "agent", c.agent.ID)
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(readTimeout))
		var f inFrame
		if err := json.Unmarshal(data, &f); err != nil {
			c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: "frame is not a JSON object"})
			continue
		}
		switch f.Type {
		case "heartbeat":
			if !c.heartbeat(ctx, f.Presence) {
				return
			}
		case "typing":
			c.typing(f.ConversationID)
		case "watch":
			c.watch(ctx, f.ConversationID)
		case "unwatch":
			c.mu.Lock()
			if f.ConversationID == "" {
				clear(c.watched)
			} else {
				delete(c.watched, f.ConversationID)
			}
			c.mu.Unlock()
		default:
			c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: "unknown frame type"})
		}
	}
}

// heartbeat records the agent's presence. The session is checked again
// first: a console whose session ended (logout elsewhere, expiry, a
// disabled account) is closed. It reports whether the connection goes on.
func (c *conn) heartbeat(ctx context.Context, p handoff.Presence) bool {
	if _, _, err := c.s.agents.Authenticate(ctx, c.token); err != nil {
		if errors.Is(err, handoff.ErrNoSession) || errors.Is(err, handoff.ErrDisabled) {
			c.goAway(websocket.ClosePolicyViolation, "session ended; log in again")
			return false
		}
		c.s.opts.Log.Error("agent websocket: check session", "agent", c.agent.ID, "err", err)
	}
	if p == "" {
		p = handoff.PresenceOnline
	}
	err := c.s.queue.Heartbeat(ctx, c.agent.ID, p)
	switch {
	case errors.Is(err, handoff.ErrInvalid):
		c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: `presence is "online" or "away"`})
	case err != nil:
		c.s.opts.Log.Error("agent heartbeat", "agent", c.agent.ID, "err", err)
		c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "could not record presence"})
	}
	return true
}

// typing tells the customer that the agent is typing, at most once a
// second per conversation, and only in conversations the agent owns.
func (c *conn) typing(conversationID string) {
	c.mu.Lock()
	own := c.owned[conversationID]
	c.mu.Unlock()
	if !own {
		c.enqueue(errorFrame{Type: "error", Code: codeForbidden, Message: "you can only type in conversations you have"})
		return
	}
	if now := time.Now(); now.Sub(c.lastTyping[conversationID]) >= time.Second {
		c.lastTyping[conversationID] = now
		c.s.engine.Typing(conversationID, bot.FromAgent, c.agent.Name)
	}
}

// watch follows a conversation the agent may read.
func (c *conn) watch(ctx context.Context, conversationID string) {
	if conversationID == "" || len(conversationID) > 100 {
		c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: "watch needs a conversation_id"})
		return
	}
	conv, err := c.s.engine.Conversation(ctx, conversationID)
	if errors.Is(err, bot.ErrNotFound) {
		c.enqueue(errorFrame{Type: "error", Code: codeNotFound, Message: "no conversation with that id"})
		return
	}
	var t *handoff.Ticket
	if err == nil {
		t, err = c.s.ticket(ctx, conversationID)
	}
	ok := false
	if err == nil {
		ok, err = c.s.canRead(ctx, c.agent, conv, t)
	}
	switch {
	case err != nil:
		c.s.opts.Log.Error("agent websocket: watch", "agent", c.agent.ID, "conversation", conversationID, "err", err)
		c.enqueue(errorFrame{Type: "error", Code: codeInternal, Message: "could not watch the conversation"})
		return
	case !ok:
		c.enqueue(errorFrame{Type: "error", Code: codeForbidden, Message: "you may not see this conversation"})
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.watched) >= maxWatched && !c.watched[conversationID] {
		c.enqueue(errorFrame{Type: "error", Code: codeBadFrame, Message: "watching too many conversations; unwatch some"})
		return
	}
	c.watched[conversationID] = true
}

// follows reports whether the console gets the conversation's events.
func (c *conn) follows(conversationID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.owned[conversationID] || c.watched[conversationID]
}

// forward relays queue events, and the events of the conversations the
// console follows, until the connection ends. If either subscription
// lags, the connection is closed: the console reconnects and reloads.
func (c *conn) forward(ctx context.Context, events bot.Subscription, queue *handoff.Subscription) {
	for {
		select {
		case e, ok := <-events.C():
			if !ok {
				if events.Lagged() {
					c.goAway(websocket.CloseTryAgainLater, "fell behind; reconnect")
				}
				return
			}
			c.conversationEvent(e)
		case e, ok := <-queue.C():
			if !ok {
				if queue.Lagged() {
					c.goAway(websocket.CloseTryAgainLater, "fell behind; reconnect")
				}
				return
			}
			c.queueEvent(ctx, e)
		case <-c.done:
			return
		}
	}
}

func (c *conn) conversationEvent(e bot.Event) {
	if !c.follows(e.ConversationID) {
		return
	}
	switch e.Kind {
	case bot.EventMessage:
		c.enqueue(messageFrame{Type: "message", ConversationID: e.ConversationID, Message: viewMessage(e.Message)})
	case bot.EventState:
		c.enqueue(stateFrame{Type: "state", ConversationID: e.ConversationID, State: e.State, Agent: e.Agent})
	case bot.EventTyping:
		if e.From == bot.FromCustomer {
			c.enqueue(typingFrame{Type: "typing", ConversationID: e.ConversationID, From: e.From})
		}
	}
}

// queueEvent keeps owned and watched up to date and tells the console.
func (c *conn) queueEvent(ctx context.Context, e handoff.Event) {
	if e.Kind == handoff.EventPresence {
		c.enqueue(presenceFrame{Type: "presence", AgentID: e.Agent, Presence: e.Presence})
		return
	}
	t := e.Ticket
	if t == nil {
		return
	}
	c.mu.Lock()
	mine := t.Open() && t.Status == handoff.StatusAssigned && t.Agent == c.agent.ID
	if mine {
		c.owned[t.ConversationID] = true
	} else {
		delete(c.owned, t.ConversationID)
	}
	// An agent stops following a conversation it may no longer read: one
	// another agent took, or one that went back to the bot.
	closedByMe := !t.Open() && t.Agent == c.agent.ID // still readable: its own history
	if !mine && !closedByMe && !handoff.CanSupervise(c.agent) && (!t.Open() || t.Agent != "") {
		delete(c.watched, t.ConversationID)
	}
	c.mu.Unlock()
	names := names{}
	if t.Agent != "" {
		if a, err := c.s.agents.Agent(ctx, t.Agent); err == nil {
			names[a.ID] = a.Name
		}
	}
	v := c.s.viewTicket(ctx, t, c.agent, names, time.Now())
	if !inQueueOf(c.agent, t) {
		// Another agent's conversation, which the queue does not show
		// this agent: the console learns that the queue changed (to
		// reload it, or to see that a conversation it looked at was
		// taken), not who the customer is.
		v.Customer = nil
	}
	c.enqueue(queueFrame{Type: "queue", Event: e.Kind, Ticket: v, Agent: e.Agent})
}
