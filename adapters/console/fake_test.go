package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/adapters/console"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// The tests in this file run the console on fakeCore, a small in-memory
// stand-in for the three interfaces it declares in core.go, where the
// point is the console's own behaviour (statuses, access, frames) rather
// than the core's. The end-to-end tests (rig_test.go) keep the real core.

// fakeCore holds what the fakes serve. Tests fill it before the requests.
type fakeCore struct {
	mu        sync.Mutex
	convs     map[string]*bot.Conversation
	customers map[string]*bot.Customer
	tickets   map[string]*handoff.Ticket // by conversation
	agents    map[string]*handoff.Agent
	sessions  map[string]string // token → agent id
	// actErr, when set, is what every act of the queue returns.
	actErr error
	bus    *bot.LocalBus
	queue  bot.Feed[handoff.Event]
}

// errNotFaked is what a fake returns for what no test here needs.
var errNotFaked = errors.New("not part of the fake")

// The three views of fakeCore the console takes.
type (
	fakeEngine struct{ *fakeCore }
	fakeQueue  struct{ *fakeCore }
	fakeAgents struct{ *fakeCore }
)

var (
	_ console.Engine = fakeEngine{}
	_ console.Queue  = fakeQueue{}
	_ console.Agents = fakeAgents{}
)

// get returns a copy of m[id], or notFound.
func get[T any](f *fakeCore, m map[string]*T, id string, notFound error) (*T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := m[id]; ok {
		cp := *v
		return &cp, nil
	}
	return nil, notFound
}

// list returns copies of the values of m for which keep holds.
func list[T any](f *fakeCore, m map[string]*T, keep func(*T) bool) []T {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []T
	for _, v := range m {
		if keep(v) {
			out = append(out, *v)
		}
	}
	return out
}

func (f fakeEngine) Conversation(_ context.Context, id string) (*bot.Conversation, error) {
	return get(f.fakeCore, f.convs, id, bot.ErrNotFound)
}

func (f fakeEngine) Conversations(_ context.Context, customerID string) ([]bot.Conversation, error) {
	return list(f.fakeCore, f.convs, func(c *bot.Conversation) bool { return c.CustomerID == customerID }), nil
}

func (f fakeEngine) Customer(_ context.Context, id string) (*bot.Customer, error) {
	return get(f.fakeCore, f.customers, id, bot.ErrNotFound)
}

func (f fakeEngine) Transcript(context.Context, string, int64) ([]bot.Message, error) {
	return nil, nil
}

func (f fakeEngine) UpdateCustomer(context.Context, string, func(c *bot.Customer) error) (*bot.Customer, error) {
	return nil, errNotFaked
}

func (f fakeEngine) Subscribe(conversationID string, buffer int) bot.Subscription {
	return f.bus.Subscribe(conversationID, buffer)
}

func (f fakeEngine) Typing(conversationID string, from bot.Sender, agent string) {
	f.bus.Publish(bot.Event{Kind: bot.EventTyping, ConversationID: conversationID, From: from, Agent: agent})
}

func (f fakeQueue) Ticket(_ context.Context, conversationID string) (*handoff.Ticket, error) {
	return get(f.fakeCore, f.tickets, conversationID, handoff.ErrNotFound)
}

func (f fakeQueue) Tickets(_ context.Context, filter handoff.Filter) ([]handoff.Ticket, error) {
	return list(f.fakeCore, f.tickets, func(t *handoff.Ticket) bool {
		return (filter.Agent == "" || t.Agent == filter.Agent) && (filter.Status == "" || t.Status == filter.Status)
	}), nil
}

func (f fakeQueue) Closed(_ context.Context, before time.Time, limit int) ([]handoff.Ticket, error) {
	out := list(f.fakeCore, f.tickets, func(t *handoff.Ticket) bool {
		return !t.Open() && (before.IsZero() || t.ClosedAt.Before(before))
	})
	slices.SortFunc(out, func(a, b handoff.Ticket) int { return b.ClosedAt.Compare(a.ClosedAt) })
	return out[:min(limit, len(out))], nil
}

func (f fakeQueue) Claim(_ context.Context, conversationID, agentID string) (handoff.Ticket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.actErr != nil {
		return handoff.Ticket{}, f.actErr
	}
	t, ok := f.tickets[conversationID]
	if !ok || !t.Waiting() {
		return handoff.Ticket{}, handoff.ErrNotFound
	}
	t.Status, t.Agent = handoff.StatusAssigned, agentID
	return *t, nil
}

func (f fakeQueue) Reply(context.Context, bot.AgentMessage) (bot.Message, error) {
	return bot.Message{}, errNotFaked
}

func (f fakeQueue) Transfer(context.Context, string, string, handoff.Target) (handoff.Ticket, error) {
	return handoff.Ticket{}, errNotFaked
}

func (f fakeQueue) Escalate(context.Context, string, string) (handoff.Ticket, error) {
	return handoff.Ticket{}, errNotFaked
}

func (f fakeQueue) Resolve(context.Context, string, string) (handoff.Ticket, error) {
	return handoff.Ticket{}, errNotFaked
}

func (f fakeQueue) ReturnToBot(context.Context, string, string) (handoff.Ticket, error) {
	return handoff.Ticket{}, errNotFaked
}

func (f fakeQueue) Heartbeat(context.Context, string, handoff.Presence) error { return nil }

func (f fakeQueue) Presence(string) handoff.Presence { return handoff.PresenceOnline }

func (f fakeQueue) Presences() map[string]handoff.Presence { return map[string]handoff.Presence{} }

func (f fakeQueue) Subscribe(buffer int) *handoff.Subscription { return f.queue.Subscribe("", buffer) }

func (f fakeAgents) Login(context.Context, string, string, string) (string, *handoff.Agent, error) {
	return "", nil, errNotFaked
}

func (f fakeAgents) Authenticate(_ context.Context, token string) (*handoff.Agent, *handoff.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.agents[f.sessions[token]]
	if !ok {
		return nil, nil, handoff.ErrNoSession
	}
	cp := *a
	return &cp, &handoff.Session{TokenHash: []byte(token), AgentID: a.ID, Expires: time.Now().Add(time.Hour)}, nil
}

func (f fakeAgents) Logout(context.Context, string) error { return errNotFaked }

func (f fakeAgents) Agent(_ context.Context, id string) (*handoff.Agent, error) {
	return get(f.fakeCore, f.agents, id, handoff.ErrNotFound)
}

func (f fakeAgents) List(context.Context) ([]handoff.Agent, error) {
	return list(f.fakeCore, f.agents, func(*handoff.Agent) bool { return true }), nil
}

func (f fakeAgents) Add(context.Context, handoff.NewAgent) (*handoff.Agent, error) {
	return nil, errNotFaked
}
func (f fakeAgents) Disable(context.Context, string) error { return errNotFaked }
func (f fakeAgents) Enable(context.Context, string) error  { return errNotFaked }
func (f fakeAgents) SetPassword(context.Context, string, string) error {
	return errNotFaked
}
func (f fakeAgents) ChangePassword(context.Context, string, string, string, string) error {
	return errNotFaked
}

// onFakes serves the console on a fakeCore with agents Ann and Ben
// (agents) and Sue (a supervisor), whose tokens are their names in lower
// case, and five conversations: con_wait waiting in the queue, con_ann
// with Ann, con_ben with Ben, con_bot that never left the bot, and
// con_old, an earlier conversation of con_ann's customer.
func onFakes(t *testing.T) (*fakeCore, *httptest.Server) {
	t.Helper()
	f := &fakeCore{
		convs: map[string]*bot.Conversation{}, customers: map[string]*bot.Customer{}, tickets: map[string]*handoff.Ticket{},
		agents: map[string]*handoff.Agent{}, sessions: map[string]string{}, bus: bot.NewBus(),
	}
	for _, a := range []handoff.Agent{{ID: "agt_ann", Name: "Ann", Role: handoff.RoleAgent}, {ID: "agt_ben", Name: "Ben", Role: handoff.RoleAgent},
		{ID: "agt_sue", Name: "Sue", Role: handoff.RoleSupervisor}} {
		f.agents[a.ID] = &a
		f.sessions[strings.ToLower(a.Name)] = a.ID
	}
	now := time.Now()
	for _, c := range []struct {
		id, agent string
		status    handoff.Status
	}{{"con_wait", "", handoff.StatusQueued}, {"con_ann", "agt_ann", handoff.StatusAssigned}, {"con_ben", "agt_ben", handoff.StatusAssigned}, {"con_bot", "", ""}} {
		cus := "cus_" + strings.TrimPrefix(c.id, "con_")
		f.customers[cus] = &bot.Customer{ID: cus, Name: "Customer of " + c.id}
		conv := &bot.Conversation{ID: c.id, CustomerID: cus, Channel: bot.Web, State: bot.StateBot, Created: now, Updated: now}
		switch c.status {
		case handoff.StatusQueued:
			conv.State = bot.StateQueued
		case handoff.StatusAssigned:
			conv.State, conv.Agent = bot.StateAgent, c.agent
		}
		f.convs[c.id] = conv
		if c.status != "" {
			f.tickets[c.id] = &handoff.Ticket{ID: "tkt_" + c.id, ConversationID: c.id, CustomerID: cus, Reason: "requested",
				Status: c.status, Agent: c.agent, Tier: 1, Created: now, QueuedAt: now}
		}
	}
	f.convs["con_old"] = &bot.Conversation{ID: "con_old", CustomerID: "cus_ann", Channel: bot.Web, State: bot.StateClosed, Created: now, Updated: now}
	s := console.NewServer(fakeEngine{f}, fakeQueue{f}, fakeAgents{f}, nil, console.Options{})
	mux := http.NewServeMux()
	s.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		srv.Close()
	})
	return f, srv
}

// fakeCall makes a request as the agent whose token is given ("" for
// none) and returns the status and the JSON body.
func fakeCall(t *testing.T, srv *httptest.Server, token, method, path string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("%s %s: %d, body is not JSON: %q", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, body
}

func TestOnFakesEachErrorCodeOfAnActHasItsStatus(t *testing.T) {
	f, srv := onFakes(t)
	// docs/agent-api.md's table. A not_found from an act on a conversation
	// that exists means it has no open ticket: a conflict.
	cases := []struct {
		err    error
		status int
		code   bot.Code
	}{
		{bot.NewError(bot.CodeInvalid, "the rule says no"), 400, bot.CodeInvalid},
		{bot.NewError(bot.CodeUnauthorized, "the rule says no"), 401, bot.CodeUnauthorized},
		{bot.ErrNotOwner, 403, bot.CodeForbidden},
		{bot.NewError(bot.CodeNotFound, "the rule says no"), 409, bot.CodeConflict},
		{handoff.ErrAlreadyClaimed, 409, bot.CodeConflict},
		{bot.NewError(bot.CodeRateLimited, "the rule says no"), 429, bot.CodeRateLimited},
		{bot.NewError(bot.CodeUnavailable, "the rule says no"), 503, bot.CodeUnavailable},
		{bot.NewError(bot.CodeInternal, "bucket 7 is corrupt"), 500, bot.CodeInternal},
		{errors.New("bbolt: disk I/O error"), 500, bot.CodeInternal},
	}
	for _, c := range cases {
		t.Run(string(bot.ErrorCode(c.err))+" "+c.err.Error(), func(t *testing.T) {
			f.mu.Lock()
			f.actErr = c.err
			f.mu.Unlock()
			status, body := fakeCall(t, srv, "ann", "POST", "/api/agent/conversations/con_wait/claim")
			if status != c.status || body["code"] != string(c.code) {
				t.Fatalf("claim answered %d %v, want %d %s", status, body, c.status, c.code)
			}
			msg, _ := body["message"].(string)
			switch {
			case msg == "" || body["error"] != msg:
				t.Errorf("message %q, error %q: want the same sentence in both", msg, body["error"])
			case c.code == bot.CodeInternal && (strings.Contains(msg, "bucket") || strings.Contains(msg, "bbolt")):
				t.Errorf("an internal error's detail reached the agent: %q", msg)
			case c.status == 400 && msg != c.err.Error():
				t.Errorf("message %q, want the rule's %q", msg, c.err.Error())
			}
		})
	}
}

func TestOnFakesAgentsReadWhatTheAccessRulesAllow(t *testing.T) {
	_, srv := onFakes(t)
	cases := []struct {
		token, conversation string
		status              int
		code                bot.Code
	}{
		{"ann", "con_wait", 200, ""},
		{"ann", "con_ann", 200, ""},
		{"ann", "con_ben", 403, bot.CodeForbidden},
		{"ann", "con_bot", 403, bot.CodeForbidden},
		{"ann", "con_old", 200, ""}, // her customer's history
		{"ben", "con_old", 403, bot.CodeForbidden},
		{"sue", "con_ben", 200, ""},
		{"sue", "con_bot", 200, ""},
		{"ann", "con_nope", 404, bot.CodeNotFound},
		{"", "con_wait", 401, bot.CodeUnauthorized},
		{"mallory", "con_wait", 401, bot.CodeUnauthorized},
	}
	for _, c := range cases {
		who := c.token
		if who == "" {
			who = "nobody"
		}
		t.Run(who+" reads "+c.conversation, func(t *testing.T) {
			status, body := fakeCall(t, srv, c.token, "GET", "/api/agent/conversations/"+c.conversation)
			if status != c.status {
				t.Fatalf("answered %d %v, want %d", status, body, c.status)
			}
			if c.code != "" && body["code"] != string(c.code) {
				t.Errorf("code %v, want %s", body["code"], c.code)
			}
			if c.status == 200 {
				conv, _ := body["conversation"].(map[string]any)
				cust, _ := body["customer"].(map[string]any)
				if conv["id"] != c.conversation || cust["id"] == nil {
					t.Errorf("conversation %v, customer %v", conv, cust)
				}
			}
		})
	}
}

func TestOnFakesTheAgentWebsocketSpeaksTheDocumentedFrames(t *testing.T) {
	f, srv := onFakes(t)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/api/agent/ws",
		http.Header{"Authorization": {"Bearer ann"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	next := func() map[string]any {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m map[string]any
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("read frame: %v", err)
		}
		return m
	}
	send := func(v any) {
		t.Helper()
		if err := ws.WriteJSON(v); err != nil {
			t.Fatal(err)
		}
	}

	ready := next()
	if agent, _ := ready["agent"].(map[string]any); ready["type"] != "ready" || agent["id"] != "agt_ann" || agent["name"] != "Ann" || ready["presence"] != "online" {
		t.Fatalf("first frame %v, want ready for Ann, online", ready)
	}

	// A ticket waiting in the queue is shown with its customer.
	f.mu.Lock()
	waiting := *f.tickets["con_wait"]
	f.mu.Unlock()
	f.queue.Publish("", handoff.Event{Kind: handoff.EventQueued, Ticket: &waiting})
	q := next()
	ticket, _ := q["ticket"].(map[string]any)
	customer, _ := ticket["customer"].(map[string]any)
	if q["type"] != "queue" || q["event"] != "queued" || ticket["conversation_id"] != "con_wait" || customer["id"] != "cus_wait" || ticket["can_claim"] != true {
		t.Fatalf("queue frame %v", q)
	}

	// A message in Ann's own conversation reaches her console.
	f.bus.Publish(bot.Event{Kind: bot.EventMessage, ConversationID: "con_ann",
		Message: &bot.Message{Seq: 3, From: bot.FromCustomer, Text: "are you there?", Time: time.Now()}})
	m := next()
	msg, _ := m["message"].(map[string]any)
	if m["type"] != "message" || m["conversation_id"] != "con_ann" || msg["seq"] != 3.0 || msg["from"] != "customer" || msg["text"] != "are you there?" {
		t.Fatalf("message frame %v", m)
	}

	// Refusals, each an error frame with its documented code.
	for _, c := range []struct {
		frame map[string]any
		code  string
	}{
		{map[string]any{"type": "watch", "conversation_id": "con_nope"}, "not_found"},
		{map[string]any{"type": "watch", "conversation_id": "con_ben"}, "forbidden"},
		{map[string]any{"type": "typing", "conversation_id": "con_wait"}, "forbidden"},
		{map[string]any{"type": "dance"}, "bad_frame"},
	} {
		send(c.frame)
		if e := next(); e["type"] != "error" || e["code"] != c.code || e["message"] == "" {
			t.Errorf("%v: got %v, want an error frame %s", c.frame, e, c.code)
		}
	}
}
