package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/kb"
)

// ---- JSON views ------------------------------------------------------------
//
// The API's shapes are a contract (docs/agent-api.md): they are declared
// here, apart from the domain types, so that a change in bot or handoff
// does not silently change what outside tools receive.

type agentView struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Email    string       `json:"email"`
	Role     handoff.Role `json:"role"`
	Teams    []string     `json:"teams"`
	MaxChats int          `json:"max_chats"`
}

func viewAgent(a *handoff.Agent) agentView {
	return agentView{ID: a.ID, Name: a.Name, Email: a.Email, Role: a.Role, Teams: nonNil(a.Teams), MaxChats: a.Capacity()}
}

type agentStatus struct {
	agentView
	Presence handoff.Presence `json:"presence"`
	// Load is how many open conversations the agent owns.
	Load     int  `json:"load"`
	Disabled bool `json:"disabled"`
}

type customerView struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	Email              string            `json:"email"`
	Segment            string            `json:"segment"`
	Tags               []string          `json:"tags"`
	Attrs              map[string]string `json:"attrs"`
	Topics             []bot.Topic       `json:"topics"`
	DedicatedAgent     string            `json:"dedicated_agent"`
	DedicatedAgentName string            `json:"dedicated_agent_name,omitempty"`
	Channels           []bot.Channel     `json:"channels"`
	Visits             int               `json:"visits"`
	FirstSeen          time.Time         `json:"first_seen"`
	LastSeen           time.Time         `json:"last_seen"`
}

func viewCustomer(c *bot.Customer, names names) *customerView {
	if c == nil {
		return nil
	}
	v := &customerView{
		ID: c.ID, Name: c.Name, Email: c.Email, Segment: c.Segment, Tags: nonNil(c.Tags),
		Attrs: c.Attrs, Topics: nonNil(c.Topics), DedicatedAgent: c.DedicatedAgent,
		DedicatedAgentName: names[c.DedicatedAgent], Channels: []bot.Channel{},
		Visits: c.Visits, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen,
	}
	if v.Attrs == nil {
		v.Attrs = map[string]string{}
	}
	// The identities' ids are secrets (a hashed visitor token) or private
	// (a Telegram user id): only their channels are shown.
	for _, id := range c.Identities {
		if !slices.Contains(v.Channels, id.Channel) {
			v.Channels = append(v.Channels, id.Channel)
		}
	}
	return v
}

type ticketView struct {
	ConversationID string         `json:"conversation_id"`
	TicketID       string         `json:"ticket_id"`
	Reason         string         `json:"reason"`
	Priority       int            `json:"priority"`
	QueuedAt       time.Time      `json:"queued_at"`
	Created        time.Time      `json:"created"`
	AssignedAt     time.Time      `json:"assigned_at,omitzero"`
	FirstReplyAt   time.Time      `json:"first_reply_at,omitzero"`
	ClosedAt       time.Time      `json:"closed_at,omitzero"`
	Customer       *customerView  `json:"customer"`
	Channel        bot.Channel    `json:"channel,omitempty"`
	Team           string         `json:"team"`
	Tier           int            `json:"tier"`
	Status         handoff.Status `json:"status"`
	Agent          string         `json:"agent"`
	AgentName      string         `json:"agent_name,omitempty"`
	// WaitingSeconds is how long the ticket has waited in the queue: until
	// now while it waits, until it was assigned afterwards.
	WaitingSeconds int64 `json:"waiting_seconds"`
	SLABreached    bool  `json:"sla_breached"`
	Escalated      bool  `json:"escalated"`
	// CanClaim says whether the requesting agent may claim it now.
	CanClaim bool `json:"can_claim"`
}

// viewTicket describes t to agent a, with its customer and channel.
func (s *Server) viewTicket(ctx context.Context, t *handoff.Ticket, a *handoff.Agent, names names, now time.Time) *ticketView {
	if t == nil {
		return nil
	}
	v := &ticketView{
		ConversationID: t.ConversationID, TicketID: t.ID, Reason: t.Reason, Priority: t.Priority,
		QueuedAt: t.QueuedAt, Created: t.Created, AssignedAt: t.AssignedAt, FirstReplyAt: t.FirstReplyAt,
		ClosedAt: t.ClosedAt, Team: t.Team, Tier: t.Tier, Status: t.Status, Agent: t.Agent,
		AgentName: names[t.Agent], SLABreached: t.SLABreached, Escalated: t.Escalated,
		CanClaim: t.Waiting() && handoff.CanActOn(a, t),
	}
	switch {
	case t.Waiting():
		v.WaitingSeconds = int64(now.Sub(t.QueuedAt) / time.Second)
	case !t.AssignedAt.IsZero():
		v.WaitingSeconds = int64(t.AssignedAt.Sub(t.QueuedAt) / time.Second)
	}
	v.WaitingSeconds = max(v.WaitingSeconds, 0)
	st := s.engine
	if c, err := st.Customer(ctx, t.CustomerID); err == nil {
		v.Customer = viewCustomer(c, names)
	} else {
		v.Customer = &customerView{ID: t.CustomerID, Tags: []string{}, Attrs: map[string]string{}, Topics: []bot.Topic{}, Channels: []bot.Channel{}}
	}
	if c, err := st.Conversation(ctx, t.ConversationID); err == nil {
		v.Channel = c.Channel
	}
	return v
}

type messageView struct {
	Seq          int64            `json:"seq"`
	From         bot.Sender       `json:"from"`
	Text         string           `json:"text"`
	Time         time.Time        `json:"time"`
	Agent        string           `json:"agent"`
	AgentName    string           `json:"agent_name"`
	Internal     bool             `json:"internal"`
	Decision     *bot.Decision    `json:"decision"`
	QuickReplies []bot.QuickReply `json:"quick_replies,omitempty"`
	// Payload is the quick reply a customer chose.
	Payload string `json:"payload,omitempty"`
}

func viewMessage(m *bot.Message) messageView {
	return messageView{Seq: m.Seq, From: m.From, Text: m.Text, Time: m.Time, Agent: m.Agent, AgentName: m.AgentName,
		Internal: m.Internal, Decision: m.Decision, QuickReplies: m.QuickReplies, Payload: m.Payload}
}

func viewMessages(ms []bot.Message) []messageView {
	out := make([]messageView, len(ms))
	for i := range ms {
		out[i] = viewMessage(&ms[i])
	}
	return out
}

type conversationView struct {
	*bot.Conversation
	AgentName string `json:"agent_name,omitempty"`
}

type pastConversation struct {
	ID            string        `json:"id"`
	Channel       bot.Channel   `json:"channel"`
	State         bot.State     `json:"state"`
	Created       time.Time     `json:"created"`
	Updated       time.Time     `json:"updated"`
	MessageCount  int64         `json:"message_count"`
	HandoffReason string        `json:"handoff_reason,omitempty"`
	Rating        int           `json:"rating,omitempty"`
	LastMessages  []messageView `json:"last_messages"`
}

type suggestionView struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Confidence float64  `json:"confidence"`
	Body       string   `json:"body"`
	Tags       []string `json:"tags"`
}

// names maps agent ids to display names.
type names map[string]string

// names returns every agent's name, for views of several tickets.
func (s *Server) names(ctx context.Context) names {
	list, err := s.agents.List(ctx)
	if err != nil {
		s.opts.Log.Error("list agents", "err", err)
		return names{}
	}
	n := make(names, len(list))
	for _, a := range list {
		n[a.ID] = a.Name
	}
	return n
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ---- Requests and errors ---------------------------------------------------

// maxBody bounds a request body: a message is at most bot.MaxTextLen
// bytes, which JSON escaping may make up to six times longer.
const maxBody = 64 << 10

// decode reads the JSON body into v; an empty body leaves v as is. It
// answers 400 and returns false when the body is not JSON.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "request body too large or unreadable")
		return false
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return true
	}
	if err := json.Unmarshal(data, v); err != nil {
		writeError(w, http.StatusBadRequest, "request body is not the expected JSON object")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers with an error body: the message for a person under
// "error" (the agent API's original form) and "message", and the code a
// program branches on under "code" (see codeOfStatus).
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Code: codeOfStatus(status), Message: msg})
}

// errorBody is every error response of the agent API.
type errorBody struct {
	Error   string   `json:"error"`
	Code    bot.Code `json:"code"`
	Message string   `json:"message"`
}

// statusOfCode maps the core's error codes to HTTP statuses: the one
// table of the agent API.
var statusOfCode = map[bot.Code]int{
	bot.CodeInvalid:      http.StatusBadRequest,
	bot.CodeUnauthorized: http.StatusUnauthorized,
	bot.CodeForbidden:    http.StatusForbidden,
	bot.CodeNotFound:     http.StatusNotFound,
	bot.CodeConflict:     http.StatusConflict,
	bot.CodeRateLimited:  http.StatusTooManyRequests,
	bot.CodeUnavailable:  http.StatusServiceUnavailable,
	bot.CodeInternal:     http.StatusInternalServerError,
}

// codeOfStatus is the code of an error answered with status: the
// inverse of statusOfCode, for errors decided at the edge (a malformed
// body, a missing session); 413 is invalid input too.
func codeOfStatus(status int) bot.Code {
	for c, st := range statusOfCode {
		if st == status {
			return c
		}
	}
	if status >= 400 && status < 500 {
		return bot.CodeInvalid
	}
	return bot.CodeInternal
}

// fail answers for an error of the queue or the engine while doing what
// (e.g. "claim"): handoff's sentinel errors become 403, 409 and 400, and
// anything unexpected a logged 500. The conversation is known to exist,
// so a missing ticket means it is not waiting for or with a person.
func (s *Server) fail(w http.ResponseWriter, err error, what string, sess *session, conversationID string) {
	code := bot.ErrorCode(err)
	switch {
	case code == bot.CodeNotFound:
		// The conversation is known to exist: what is missing is a ticket.
		writeError(w, http.StatusConflict, "the conversation is not handed off to people (no open ticket)")
		return
	case code == bot.CodeInternal:
		s.opts.Log.Error(what, "conversation", conversationID, "agent", sess.agent.ID, "err", err)
		writeError(w, http.StatusInternalServerError, "could not "+what+"; try again")
		return
	case errors.Is(err, handoff.ErrInvalid):
		// The wrapping says which argument.
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeError(w, statusOfCode[code], bot.ErrorMessage(err))
}

// conversation loads the {id} of the path, answering 404 (or 500) when
// there is none.
func (s *Server) conversation(w http.ResponseWriter, r *http.Request) (*bot.Conversation, bool) {
	id := r.PathValue("id")
	c, err := s.engine.Conversation(r.Context(), id)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		writeError(w, http.StatusNotFound, "no conversation with that id")
		return nil, false
	case err != nil:
		s.opts.Log.Error("load conversation", "conversation", id, "err", err)
		writeError(w, http.StatusInternalServerError, "could not load the conversation")
		return nil, false
	}
	return c, true
}

// ticket returns the conversation's open ticket, or its latest closed
// one, or nil if it was never handed off.
func (s *Server) ticket(ctx context.Context, conversationID string) (*handoff.Ticket, error) {
	t, err := s.queue.Ticket(ctx, conversationID)
	if errors.Is(err, handoff.ErrNotFound) {
		return nil, nil
	}
	return t, err
}

// canRead reports whether agent a may read the conversation, whose
// ticket is t (nil if never handed off). Supervisors and admins read
// everything. An agent reads a conversation waiting in the queue (to
// decide to claim it), one it owns, and the past conversations of a
// customer it is looking after now, but never a conversation another
// agent has.
func (s *Server) canRead(ctx context.Context, a *handoff.Agent, conv *bot.Conversation, t *handoff.Ticket) (bool, error) {
	sit := handoff.Situation{Conversation: conv, Ticket: t}
	if handoff.May(a, handoff.AccessRead, sit) {
		return true, nil
	}
	var err error
	if sit.HasCustomer, err = s.helps(ctx, a, conv.CustomerID); err != nil {
		return false, err
	}
	return handoff.May(a, handoff.AccessRead, sit), nil
}

// helps reports whether the agent has one of the customer's
// conversations assigned.
func (s *Server) helps(ctx context.Context, a *handoff.Agent, customerID string) (bool, error) {
	mine, err := s.queue.Tickets(ctx, handoff.Filter{Agent: a.ID, Status: handoff.StatusAssigned})
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(mine, func(m handoff.Ticket) bool { return m.CustomerID == customerID }), nil
}

// readable loads the conversation of the path and checks that the agent
// may read it, answering 404 or 403 otherwise.
func (s *Server) readable(w http.ResponseWriter, r *http.Request, sess *session) (*bot.Conversation, *handoff.Ticket, bool) {
	conv, ok := s.conversation(w, r)
	if !ok {
		return nil, nil, false
	}
	t, err := s.ticket(r.Context(), conv.ID)
	if err != nil {
		s.fail(w, err, "load the ticket", sess, conv.ID)
		return nil, nil, false
	}
	ok, err = s.canRead(r.Context(), sess.agent, conv, t)
	switch {
	case err != nil:
		s.fail(w, err, "check access", sess, conv.ID)
		return nil, nil, false
	case !ok:
		writeError(w, http.StatusForbidden, "you may not see this conversation")
		return nil, nil, false
	}
	return conv, t, true
}

// ---- Queue and conversations -----------------------------------------------

type queueResponse struct {
	// Tickets wait for an agent, in queue order.
	Tickets []*ticketView `json:"tickets"`
	// Mine are the requesting agent's conversations.
	Mine []*ticketView `json:"mine"`
	// Assigned, for supervisors only, are the other agents'.
	Assigned []*ticketView `json:"assigned,omitempty"`
}

// inQueueOf reports whether agent a is shown ticket t, customer and all,
// in the queue: everyone sees the tickets waiting for a person and their
// own; only supervisors and admins see the tickets other agents have.
// GET /api/agent/queue lists by it, and the agent websocket's queue
// events leave the customer out of the tickets it rules out.
func inQueueOf(a *handoff.Agent, t *handoff.Ticket) bool {
	return t.Waiting() || t.Agent == a.ID || handoff.CanSupervise(a)
}

func (s *Server) handleQueue() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		ctx := r.Context()
		open, err := s.queue.Tickets(ctx, handoff.Filter{})
		if err != nil {
			s.fail(w, err, "list the queue", sess, "")
			return
		}
		names, now := s.names(ctx), time.Now()
		out := queueResponse{Tickets: []*ticketView{}, Mine: []*ticketView{}}
		if handoff.CanSupervise(sess.agent) {
			out.Assigned = []*ticketView{}
		}
		for i := range open {
			t := &open[i]
			if !inQueueOf(sess.agent, t) {
				continue
			}
			v := s.viewTicket(ctx, t, sess.agent, names, now)
			switch {
			case t.Waiting():
				out.Tickets = append(out.Tickets, v)
			case t.Agent == sess.agent.ID:
				out.Mine = append(out.Mine, v)
			default:
				out.Assigned = append(out.Assigned, v)
			}
		}
		writeJSON(w, http.StatusOK, out)
	})
}

type conversationResponse struct {
	Conversation      conversationView   `json:"conversation"`
	Ticket            *ticketView        `json:"ticket"`
	Customer          *customerView      `json:"customer"`
	PastConversations []pastConversation `json:"past_conversations"`
	Messages          []messageView      `json:"messages"`
	Suggestions       []suggestionView   `json:"suggestions"`
	// SuggestionsQuery is the customer message the suggestions are for.
	SuggestionsQuery string `json:"suggestions_query"`
}

// pastShown is how many past conversations, and how many of the last
// messages of each, a conversation's view includes.
const (
	pastShown         = 10
	pastMessagesShown = 3
)

func (s *Server) handleConversation() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		conv, t, ok := s.readable(w, r, sess)
		if !ok {
			return
		}
		ctx, st := r.Context(), s.engine
		msgs, err := st.Transcript(ctx, conv.ID, 0)
		if err != nil {
			s.fail(w, err, "load the messages", sess, conv.ID)
			return
		}
		names := s.names(ctx)
		out := conversationResponse{
			Conversation: conversationView{Conversation: conv, AgentName: names[conv.Agent]},
			Ticket:       s.viewTicket(ctx, t, sess.agent, names, time.Now()),
			Messages:     viewMessages(msgs),
		}
		cust, err := st.Customer(ctx, conv.CustomerID)
		switch {
		case err == nil:
			out.Customer = viewCustomer(cust, names)
		case !errors.Is(err, bot.ErrNotFound):
			s.fail(w, err, "load the customer", sess, conv.ID)
			return
		}
		if out.PastConversations, err = s.past(ctx, conv); err != nil {
			s.fail(w, err, "load past conversations", sess, conv.ID)
			return
		}
		out.SuggestionsQuery, out.Suggestions = s.suggest(ctx, msgs)
		writeJSON(w, http.StatusOK, out)
	})
}

// past returns the customer's other conversations, newest first, each
// with its last few messages.
func (s *Server) past(ctx context.Context, conv *bot.Conversation) ([]pastConversation, error) {
	st := s.engine
	convs, err := st.Conversations(ctx, conv.CustomerID)
	if err != nil {
		return nil, err
	}
	out := []pastConversation{}
	for _, c := range convs {
		if c.ID == conv.ID {
			continue
		}
		if len(out) == pastShown {
			break
		}
		ms, err := st.Transcript(ctx, c.ID, max(c.LastSeq-pastMessagesShown, 0))
		if err != nil {
			return nil, err
		}
		out = append(out, pastConversation{ID: c.ID, Channel: c.Channel, State: c.State, Created: c.Created, Updated: c.Updated,
			MessageCount: c.LastSeq, HandoffReason: c.HandoffReason, Rating: c.Rating, LastMessages: viewMessages(ms)})
	}
	return out, nil
}

// Suggestions: how many, and the confidence that makes an older question
// a better basis than the newest message (which may be "a person,
// please").
const (
	suggestionsShown = 3
	suggestConfident = 0.2
	suggestLookBack  = 3
	// suggestFloor: below it an article is noise, shown only when it is
	// the best there is.
	suggestFloor = 0.05
)

// suggest returns articles for the customer's latest question: the
// newest of their last few typed messages that the knowledge base
// answers with some confidence, else the newest one's best guesses.
// Messages the bot took for small talk or for a request for a person
// ("a human, please") are not questions and are passed over.
func (s *Server) suggest(ctx context.Context, msgs []bot.Message) (string, []suggestionView) {
	if s.kb == nil {
		return "", []suggestionView{}
	}
	query, first := "", []kb.Hit(nil)
	looked := 0
	var reply *bot.Decision // the bot's decision on the message after msgs[i]
	for i := len(msgs) - 1; i >= 0 && looked < suggestLookBack; i-- {
		m := msgs[i]
		if m.From == bot.FromBot {
			reply = m.Decision
			continue
		}
		if m.From != bot.FromCustomer || m.Payload != "" || strings.TrimSpace(m.Text) == "" {
			continue
		}
		notQuestion := reply != nil && (reply.Kind == "smalltalk" || reply.Kind == "handoff" && reply.Reason == "requested")
		reply = nil
		if notQuestion {
			continue
		}
		looked++
		hits, err := s.kb.Search(ctx, m.Text)
		if err != nil {
			s.opts.Log.Error("suggest articles", "conversation", m.ConversationID, "err", err)
			break
		}
		if query == "" {
			query, first = m.Text, hits
		}
		if len(hits) > 0 && hits[0].Confidence >= suggestConfident {
			return m.Text, s.viewHits(hits, suggestionsShown, suggestFloor)
		}
	}
	return query, s.viewHits(first, suggestionsShown, suggestFloor)
}

// viewHits describes the first n hits; after the first, those below
// floor are left out.
func (s *Server) viewHits(hits []kb.Hit, n int, floor float64) []suggestionView {
	out := []suggestionView{}
	for _, h := range hits {
		if len(out) == n || len(out) > 0 && h.Confidence < floor {
			break
		}
		a := h.Article
		if a == nil {
			var ok bool
			if a, ok = s.kb.Article(h.ID); !ok {
				continue
			}
		}
		out = append(out, suggestionView{ID: a.ID, Title: a.Title, Confidence: h.Confidence, Body: a.Body, Tags: nonNil(a.Tags)})
	}
	return out
}

// handleArticles searches the knowledge base for the console's article
// picker: GET /api/agent/articles?q=...
func (s *Server) handleArticles() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		q := strings.TrimSpace(r.URL.Query().Get("q"))
		if q == "" || len(q) > bot.MaxTextLen {
			writeError(w, http.StatusBadRequest, "give a search text of 1 to 4000 bytes as ?q=")
			return
		}
		out := struct {
			Query    string           `json:"query"`
			Articles []suggestionView `json:"articles"`
		}{Query: q, Articles: []suggestionView{}}
		if s.kb != nil {
			hits, err := s.kb.Search(r.Context(), q)
			if err != nil {
				s.fail(w, err, "search articles", sess, "")
				return
			}
			out.Articles = s.viewHits(hits, 5, 0)
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func (s *Server) handleClaim() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		conv, ok := s.conversation(w, r)
		if !ok {
			return
		}
		t, err := s.queue.Claim(r.Context(), conv.ID, sess.agent.ID)
		if errors.Is(err, handoff.ErrNotFound) {
			writeError(w, http.StatusConflict, "the conversation is not waiting for an agent")
			return
		}
		if err != nil {
			s.fail(w, err, "claim", sess, conv.ID)
			return
		}
		s.opts.Log.Info("conversation claimed", "conversation", conv.ID, "agent", sess.agent.ID)
		writeJSON(w, http.StatusOK, s.viewTicket(r.Context(), &t, sess.agent, s.names(r.Context()), time.Now()))
	})
}

type messageRequest struct {
	Text     string `json:"text"`
	Internal bool   `json:"internal"`
	// ArticleID names the knowledge-base article the reply sends; with no
	// text, the article's body is the text.
	ArticleID string `json:"article_id"`
}

// handleMessage stores an agent's reply or private note. Only the agent
// who owns the conversation replies; anyone who may read it may add a
// note, which the customer never sees.
func (s *Server) handleMessage() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		var in messageRequest
		if !decode(w, r, &in) {
			return
		}
		conv, t, ok := s.readable(w, r, sess)
		if !ok {
			return
		}
		if in.ArticleID != "" {
			var a *kb.Article
			if s.kb != nil {
				a, ok = s.kb.Article(in.ArticleID)
			}
			if a == nil || !ok {
				writeError(w, http.StatusBadRequest, "no article with that id")
				return
			}
			if strings.TrimSpace(in.Text) == "" {
				in.Text = a.Body
			}
		}
		in.Text = strings.TrimSpace(in.Text)
		switch {
		case in.Text == "":
			writeError(w, http.StatusBadRequest, "the message is empty")
			return
		case len(in.Text) > bot.MaxTextLen:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("the message is longer than %d bytes", bot.MaxTextLen))
			return
		case !utf8.ValidString(in.Text):
			writeError(w, http.StatusBadRequest, "the message is not valid UTF-8")
			return
		}
		ctx := r.Context()
		if !in.Internal && (t == nil || !t.Open() || t.Agent != sess.agent.ID) {
			writeError(w, http.StatusForbidden, "only the agent who has the conversation can reply; claim it first")
			return
		}
		// One act: the message, and the ticket's first reply.
		m, err := s.queue.Reply(ctx, bot.AgentMessage{ConversationID: conv.ID, AgentID: sess.agent.ID, AgentName: sess.agent.Name, Text: in.Text, Internal: in.Internal, ArticleID: in.ArticleID})
		if err != nil {
			s.fail(w, err, "send the message", sess, conv.ID)
			return
		}
		s.opts.Log.Info("agent message", "conversation", conv.ID, "agent", sess.agent.ID, "internal", in.Internal, "article", in.ArticleID)
		writeJSON(w, http.StatusCreated, viewMessage(&m))
	})
}

type transferRequest struct {
	AgentID string `json:"agent_id"`
	Team    string `json:"team"`
}

func (s *Server) handleTransfer() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		var in transferRequest
		if !decode(w, r, &in) {
			return
		}
		ctx := r.Context()
		in.AgentID, in.Team = strings.TrimSpace(in.AgentID), strings.TrimSpace(in.Team)
		if (in.AgentID == "") == (in.Team == "") {
			writeError(w, http.StatusBadRequest, `name either an "agent_id" or a "team"`)
			return
		}
		conv, ok := s.conversation(w, r)
		if !ok {
			return
		}
		if in.AgentID != "" {
			if _, err := s.agents.Agent(ctx, in.AgentID); errors.Is(err, handoff.ErrNotFound) {
				writeError(w, http.StatusBadRequest, "no agent with that id")
				return
			}
		} else if !slices.Contains(s.teams(ctx), in.Team) {
			writeError(w, http.StatusBadRequest, "no team with that name")
			return
		}
		t, err := s.queue.Transfer(ctx, conv.ID, sess.agent.ID, handoff.Target{Agent: in.AgentID, Team: in.Team})
		if err != nil {
			s.fail(w, err, "transfer", sess, conv.ID)
			return
		}
		writeJSON(w, http.StatusOK, s.viewTicket(ctx, &t, sess.agent, s.names(ctx), time.Now()))
	})
}

// teams returns the known teams: the configured ones and those agents
// belong to, sorted.
func (s *Server) teams(ctx context.Context) []string {
	out := slices.Clone(s.opts.Teams)
	if list, err := s.agents.List(ctx); err == nil {
		for _, a := range list {
			out = append(out, a.Teams...)
		}
	}
	slices.Sort(out)
	return nonNil(slices.Compact(out))
}

// handleTicketAction runs one of the queue's moves on the conversation
// of the path and answers with the ticket; after, if set, runs once the
// move succeeded.
func (s *Server) handleTicketAction(what string, move func(ctx context.Context, conversationID, by string) (handoff.Ticket, error), after func(ctx context.Context, conversationID string) error) http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		conv, ok := s.conversation(w, r)
		if !ok {
			return
		}
		ctx := r.Context()
		t, err := move(ctx, conv.ID, sess.agent.ID)
		if err != nil {
			s.fail(w, err, what, sess, conv.ID)
			return
		}
		if after != nil {
			if err := after(ctx, conv.ID); err != nil {
				// The move is stored; only the follow-up failed.
				s.opts.Log.Error(what+": follow-up", "conversation", conv.ID, "err", err)
			}
		}
		writeJSON(w, http.StatusOK, s.viewTicket(ctx, &t, sess.agent, s.names(ctx), time.Now()))
	})
}

func (s *Server) handleEscalate() http.Handler {
	return s.handleTicketAction("escalate", s.queue.Escalate, nil)
}

// handleResolve closes the ticket and gives the conversation back to the
// bot, which asks the customer for a rating (in the same act).
func (s *Server) handleResolve() http.Handler {
	return s.handleTicketAction("resolve", s.queue.Resolve, nil)
}

func (s *Server) handleReturnToBot() http.Handler {
	return s.handleTicketAction("return to bot", s.queue.ReturnToBot, nil)
}

// ---- Customers ---------------------------------------------------------------

type customerRequest struct {
	Segment        *string `json:"segment"`
	DedicatedAgent *string `json:"dedicated_agent"`
}

// handleCustomer sets a customer's segment and dedicated agent. The agent
// who has one of the customer's conversations may, and supervisors.
func (s *Server) handleCustomer() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		var in customerRequest
		if !decode(w, r, &in) {
			return
		}
		ctx, st := r.Context(), s.engine
		id := r.PathValue("id")
		c, err := st.Customer(ctx, id)
		switch {
		case errors.Is(err, bot.ErrNotFound):
			writeError(w, http.StatusNotFound, "no customer with that id")
			return
		case err != nil:
			s.fail(w, err, "load the customer", sess, "")
			return
		}
		helps, err := s.helps(ctx, sess.agent, id)
		if err != nil {
			s.fail(w, err, "check access", sess, "")
			return
		}
		if !handoff.May(sess.agent, handoff.AccessEditCustomer, handoff.Situation{HasCustomer: helps}) {
			writeError(w, http.StatusForbidden, "only the agent who has one of the customer's conversations, or a supervisor, may change the customer")
			return
		}
		if in.Segment == nil && in.DedicatedAgent == nil {
			writeError(w, http.StatusBadRequest, `give "segment" or "dedicated_agent"`)
			return
		}
		var seg, aid string
		if in.Segment != nil {
			if seg, err = handoff.Segment(*in.Segment); err != nil {
				writeError(w, http.StatusBadRequest, bot.ErrorMessage(err))
				return
			}
		}
		if in.DedicatedAgent != nil {
			aid = strings.TrimSpace(*in.DedicatedAgent)
			if aid != "" {
				if _, err := s.agents.Agent(ctx, aid); err != nil {
					writeError(w, http.StatusBadRequest, "no agent with that id")
					return
				}
			}
		}
		// One transaction: the bot may be recording a topic meanwhile.
		c, err = s.engine.UpdateCustomer(ctx, c.ID, func(c *bot.Customer) error {
			if in.Segment != nil {
				c.Segment = seg
			}
			if in.DedicatedAgent != nil {
				c.DedicatedAgent = aid
			}
			return nil
		})
		if err != nil {
			s.fail(w, err, "save the customer", sess, "")
			return
		}
		s.opts.Log.Info("customer updated", "customer", c.ID, "agent", sess.agent.ID, "segment", c.Segment, "dedicated_agent", c.DedicatedAgent)
		writeJSON(w, http.StatusOK, viewCustomer(c, s.names(ctx)))
	})
}

// ---- Agents, presence, canned replies, dashboard -----------------------------

// statuses returns every agent with presence and load, and the open
// tickets they were counted from.
func (s *Server) statuses(ctx context.Context) ([]agentStatus, []handoff.Ticket, error) {
	list, err := s.agents.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	open, err := s.queue.Tickets(ctx, handoff.Filter{})
	if err != nil {
		return nil, nil, err
	}
	load := map[string]int{}
	for _, t := range open {
		if t.Status == handoff.StatusAssigned {
			load[t.Agent]++
		}
	}
	pres := s.queue.Presences()
	out := make([]agentStatus, 0, len(list))
	for i := range list {
		a := &list[i]
		p := pres[a.ID]
		if p == "" {
			p = handoff.PresenceOffline
		}
		out = append(out, agentStatus{agentView: viewAgent(a), Presence: p, Load: load[a.ID], Disabled: a.Disabled})
	}
	return out, open, nil
}

func (s *Server) handleAgents() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		list, _, err := s.statuses(r.Context())
		if err != nil {
			s.fail(w, err, "list agents", sess, "")
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Agents []agentStatus `json:"agents"`
			Teams  []string      `json:"teams"`
		}{list, s.teams(r.Context())})
	})
}

type presenceRequest struct {
	Presence handoff.Presence `json:"presence"`
}

// handlePresence records a heartbeat for tools that keep no websocket
// open; the console beats over its websocket.
func (s *Server) handlePresence() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		var in presenceRequest
		if !decode(w, r, &in) {
			return
		}
		if err := s.queue.Heartbeat(r.Context(), sess.agent.ID, in.Presence); err != nil {
			s.fail(w, err, "set presence", sess, "")
			return
		}
		writeJSON(w, http.StatusOK, presenceRequest{Presence: s.queue.Presence(sess.agent.ID)})
	})
}

type cannedView struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

func (s *Server) handleCanned() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		out := make([]cannedView, len(s.opts.Canned))
		for i, c := range s.opts.Canned {
			out[i] = cannedView{Title: c.Title, Text: c.Text}
		}
		writeJSON(w, http.StatusOK, map[string][]cannedView{"canned": out})
	})
}

type dashboardResponse struct {
	QueueLength        int           `json:"queue_length"`
	Escalated          int           `json:"escalated"` // second-tier tickets waiting
	LongestWaitSeconds int64         `json:"longest_wait_seconds"`
	SLABreaches        int           `json:"sla_breaches"` // open tickets that waited past their SLA
	Assigned           int           `json:"assigned"`
	AgentsOnline       int           `json:"agents_online"`
	AgentsAway         int           `json:"agents_away"`
	Agents             []agentStatus `json:"agents"`
}

// handleDashboard gives supervisors the state of the floor.
func (s *Server) handleDashboard() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !handoff.CanSupervise(sess.agent) {
			writeError(w, http.StatusForbidden, "the dashboard is for supervisors and admins")
			return
		}
		list, open, err := s.statuses(r.Context())
		if err != nil {
			s.fail(w, err, "build the dashboard", sess, "")
			return
		}
		now := time.Now()
		out := dashboardResponse{Agents: list}
		for _, t := range open {
			if t.SLABreached {
				out.SLABreaches++
			}
			if !t.Waiting() {
				out.Assigned++
				continue
			}
			out.QueueLength++
			if t.Tier > 1 {
				out.Escalated++
			}
			out.LongestWaitSeconds = max(out.LongestWaitSeconds, int64(now.Sub(t.QueuedAt)/time.Second))
		}
		for _, a := range list {
			switch a.Presence {
			case handoff.PresenceOnline:
				out.AgentsOnline++
			case handoff.PresenceAway:
				out.AgentsAway++
			}
		}
		writeJSON(w, http.StatusOK, out)
	})
}
