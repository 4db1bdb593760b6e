package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/kbtest"
	"github.com/frontdesk/frontdesk/internal/wait"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/adapters/console"
	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/insights"
	"github.com/frontdesk/frontdesk/internal/wstest"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// sharedKB is built once from the shop test content; no test changes it.
var sharedKB *kb.KB

func TestMain(m *testing.M) { kbtest.Main(m, &sharedKB) }

// rig is the whole agent side on real parts: a bbolt file, the shop
// knowledge base, the bot engine as the queue's owner, the customer
// websocket and the console, behind one real HTTP server.
type rig struct {
	t       *testing.T
	db      *bolt.DB
	engine  *bot.Engine
	queue   *handoff.Queue
	agents  *handoff.Agents
	console *console.Server
	web     *web.Server
	http    *httptest.Server
}

const password = "correct horse battery"

func newRig(t *testing.T, opts handoff.Options) *rig {
	t.Helper()
	return newRigWithAgents(t, opts, handoff.AgentsOptions{PasswordCost: bcrypt.MinCost})
}

// newRigWithAgents is newRig with the agent accounts configured by aopts
// (a clock, a bcrypt cost, login limits).
func newRigWithAgents(t *testing.T, opts handoff.Options, aopts handoff.AgentsOptions) *rig {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, db: db}
	r.agents = handoff.NewAgents(db, aopts)
	r.engine = bot.NewEngine(sharedKB, db, bot.NewBus(), bot.Options{
		AgentName: func(id string) string {
			if a, err := r.agents.Agent(context.Background(), id); err == nil {
				return a.Name
			}
			return ""
		},
	})
	r.queue = handoff.NewQueue(db, r.engine, opts)
	r.engine.SetHandoff(r.queue)
	r.console = console.NewServer(r.engine, r.queue, r.agents, sharedKB, console.Options{
		Assets:   content.Console(),
		Canned:   []console.Canned{{Title: "Greeting", Text: "Hi {name}, how can I help?"}},
		Teams:    []string{"billing", "delivery"},
		Records:  db,
		Insights: insights.NewService(db, sharedKB),
		Stats:    db,
		APIKeys:  db,
	})
	r.web = web.NewServer(r.engine, web.Options{})
	mux := http.NewServeMux()
	r.web.Routes(mux)
	r.console.Routes(mux)
	r.http = httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.console.Shutdown(ctx); err != nil {
			t.Errorf("console shutdown: %v", err)
		}
		r.web.Shutdown(ctx)
		r.http.Close()
		db.Close()
	})
	return r
}

// manual is the queue configuration most tests use: tickets wait until
// an agent claims them.
var manual = handoff.Options{ManualAssign: true}

// addAgent creates an agent account with the test password.
func (r *rig) addAgent(name string, role handoff.Role, teams ...string) *handoff.Agent {
	r.t.Helper()
	a, err := r.agents.Add(context.Background(), handoff.NewAgent{
		Name: name, Email: strings.ToLower(name) + "@example.com", Role: role, Teams: teams, Password: password,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

// agentClient calls the agent API as one agent, by bearer token or, when
// cookie is set, by session cookie as the console page does.
type agentClient struct {
	r      *rig
	agent  *handoff.Agent
	token  string
	cookie bool
}

// login logs the agent in through the API.
func (r *rig) login(a *handoff.Agent) *agentClient {
	r.t.Helper()
	status, body := r.anon().call("POST", "/api/agent/login", map[string]string{"email": a.Email, "password": password})
	if status != http.StatusOK {
		r.t.Fatalf("login %s: %d %v", a.Email, status, body)
	}
	return &agentClient{r: r, agent: a, token: body["token"].(string)}
}

// anon is a client without a session.
func (r *rig) anon() *agentClient { return &agentClient{r: r} }

// withCookie returns the same session sent as the cookie.
func (c *agentClient) withCookie() *agentClient {
	d := *c
	d.cookie = true
	return &d
}

// request builds a request with the client's credentials; JSON body and
// content type are set when body is not nil.
func (c *agentClient) request(method, path string, body any) *http.Request {
	c.r.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			c.r.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.r.http.URL+path, rd)
	if err != nil {
		c.r.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case c.token == "":
	case c.cookie:
		req.AddCookie(&http.Cookie{Name: "frontdesk_agent", Value: c.token})
	default:
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req
}

// do sends req and returns the status and the JSON body as a map.
func (c *agentClient) do(req *http.Request) (int, map[string]any) {
	c.r.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	data, _ := io.ReadAll(resp.Body)
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			c.r.t.Fatalf("%s %s: %d, body not JSON: %q", req.Method, req.URL.Path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, m
}

func (c *agentClient) call(method, path string, body any) (int, map[string]any) {
	c.r.t.Helper()
	return c.do(c.request(method, path, body))
}

// must calls and fails the test unless the status is want.
func (c *agentClient) must(want int, method, path string, body any) map[string]any {
	c.r.t.Helper()
	status, m := c.call(method, path, body)
	if status != want {
		c.r.t.Fatalf("%s %s: %d %v, want %d", method, path, status, m, want)
	}
	return m
}

func conversationPath(id string, action ...string) string {
	p := "/api/agent/conversations/" + id
	if len(action) > 0 {
		p += "/" + action[0]
	}
	return p
}

// ---- The customer, through the web channel -------------------------------

type customer struct {
	*wstest.Conn
	t            *testing.T
	token        string
	conversation string
	n            int
}

func wsURL(base, path string) string { return "ws" + strings.TrimPrefix(base, "http") + path }

// newCustomer connects a new web visitor, reads the greeting and says
// hello, which stores the conversation (a visitor who has said nothing
// is not stored), and reads the bot's answer.
func (r *rig) newCustomer() *customer {
	r.t.Helper()
	conn, _, err := wstest.Dial(r.t, wsURL(r.http.URL, "/ws"), nil, "customer")
	if err != nil {
		r.t.Fatal(err)
	}
	c := &customer{Conn: conn, t: r.t}
	c.Send(map[string]any{"type": "hello", "token": "", "last_seq": 0})
	w := c.Frame()
	if w["type"] != "welcome" {
		r.t.Fatalf("first frame %v, want welcome", w)
	}
	c.token, c.conversation = w["token"].(string), w["conversation_id"].(string)
	c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "bot" })
	c.say("hello")
	c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "bot" })
	return c
}

// say sends a message with a fresh client id.
func (c *customer) say(text string) {
	c.t.Helper()
	c.n++
	c.Send(map[string]any{"type": "message", "id": fmt.Sprintf("m%d", c.n), "text": text})
}

// choose sends a quick reply's payload.
func (c *customer) choose(label, payload string) {
	c.t.Helper()
	c.n++
	c.Send(map[string]any{"type": "message", "id": fmt.Sprintf("m%d", c.n), "text": label, "payload": payload})
}

func botSays(substr string) func(map[string]any) bool {
	return func(f map[string]any) bool {
		text, _ := f["text"].(string)
		return f["type"] == "message" && f["from"] == "bot" && strings.Contains(text, substr)
	}
}

func stateIs(s string) func(map[string]any) bool {
	return func(f map[string]any) bool { return f["type"] == "state" && f["state"] == s }
}

// askForPerson has the customer ask a question the bot answers, then ask
// for a person; it returns when the conversation waits in the queue.
func (c *customer) askForPerson() {
	c.t.Helper()
	c.say("how long does delivery take")
	c.Until(botSays("Was this helpful?"))
	c.say("I want to talk to a real person")
	c.Until(stateIs("queued"))
}

// waitForTicket waits until the conversation has an open ticket: the
// customer sees the conversation queued a moment before the engine hands
// it to the queue.
func (r *rig) waitForTicket(conversationID string) {
	r.t.Helper()
	wait.For(r.t, 5*time.Second, "an open ticket of "+conversationID, func() bool {
		_, err := r.queue.Position(context.Background(), conversationID)
		return err == nil
	})
}

// waitingCustomer is a customer who asked for a person.
func (r *rig) waitingCustomer() *customer {
	r.t.Helper()
	c := r.newCustomer()
	c.askForPerson()
	r.waitForTicket(c.conversation)
	return c
}

// ---- The agent websocket ---------------------------------------------------

type agentWS struct {
	*wstest.Conn
}

func (r *rig) dialAgent(header http.Header, query string) (*agentWS, *http.Response, error) {
	conn, resp, err := wstest.Dial(r.t, wsURL(r.http.URL, "/api/agent/ws"+query), header, "agent")
	if err != nil {
		return nil, resp, err
	}
	return &agentWS{conn}, resp, nil
}

// connect opens the agent's websocket with its bearer token and reads
// the ready frame.
func (c *agentClient) connect() *agentWS {
	c.r.t.Helper()
	a, _, err := c.r.dialAgent(http.Header{"Authorization": {"Bearer " + c.token}}, "")
	if err != nil {
		c.r.t.Fatal(err)
	}
	if f := a.Frame(); f["type"] != "ready" {
		c.r.t.Fatalf("first agent frame %v, want ready", f)
	}
	return a
}

func queueEvent(kind, conversation string) func(map[string]any) bool {
	return func(f map[string]any) bool {
		t, _ := f["ticket"].(map[string]any)
		return f["type"] == "queue" && f["event"] == kind && t != nil && t["conversation_id"] == conversation
	}
}
