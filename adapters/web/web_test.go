package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/kbtest"
	"github.com/frontdesk/frontdesk/internal/wstest"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// sharedKB is built once: the protocol tests do not depend on its state.
var sharedKB *kb.KB

func TestMain(m *testing.M) { kbtest.Main(m, &sharedKB) }

// server is a real HTTP server with the web channel over a real store.
type server struct {
	t      *testing.T
	http   *httptest.Server
	web    *web.Server
	engine *bot.Engine
	db     *bolt.DB
	path   string
}

func startServer(t *testing.T, path string, opts web.Options) *server {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "frontdesk.db")
	}
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	e := bot.NewEngine(sharedKB, db, bot.NewBus(), bot.Options{})
	if opts.Assets == nil {
		opts.Assets = fstest.MapFS{"widget.js": {Data: []byte("// widget")}, "index.html": {Data: []byte("<!doctype html>")}, "widget.css": {Data: []byte("")}}
	}
	w := web.NewServer(e, opts)
	mux := http.NewServeMux()
	w.Routes(mux)
	s := &server{t: t, http: httptest.NewServer(mux), web: w, engine: e, db: db, path: path}
	t.Cleanup(s.stop)
	return s
}

func (s *server) stop() {
	if s.http == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.web.Shutdown(ctx)
	s.http.Close()
	s.db.Close()
	s.http = nil
}

type client struct {
	*wstest.Conn
	t *testing.T
}

func (s *server) dial(header http.Header) (*client, *http.Response, error) {
	url := "ws" + strings.TrimPrefix(s.http.URL, "http") + "/ws"
	conn, resp, err := wstest.Dial(s.t, url, header, "customer")
	if err != nil {
		return nil, resp, err
	}
	return &client{Conn: conn, t: s.t}, resp, nil
}

func (s *server) connect() *client {
	s.t.Helper()
	c, _, err := s.dial(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func isType(t string) func(map[string]any) bool {
	return func(f map[string]any) bool { return f["type"] == t }
}

// hello greets and returns the welcome and the frames up to the last
// backlog message (the greeting on a first visit).
func (c *client) hello(token string, lastSeq int) map[string]any {
	c.t.Helper()
	c.Send(map[string]any{"type": "hello", "token": token, "last_seq": lastSeq})
	w := c.Frame()
	if w["type"] != "welcome" {
		c.t.Fatalf("first frame %v, want welcome", w)
	}
	return w
}

// begin starts a stored conversation as a new visitor: hello, the
// greeting, and a first message, which stores it (a new visitor's hello
// stores nothing). It returns the welcome and the conversation's last seq,
// once the bot has answered.
func (c *client) begin() (map[string]any, int) {
	c.t.Helper()
	w := c.hello("", 0)
	c.Frame() // greeting
	c.Send(map[string]any{"type": "message", "id": "first", "text": "hello"})
	fs := c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "bot" })
	return w, int(fs[len(fs)-1]["seq"].(float64))
}

func TestHelloWelcomesAndGreetsANewVisitor(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	w := c.hello("", 0)
	token, _ := w["token"].(string)
	if len(token) != 64 || w["conversation_id"] == "" || w["state"] != "bot" {
		t.Fatalf("welcome %v", w)
	}
	if cust := w["customer"].(map[string]any); cust["returning"] != false {
		t.Errorf("new visitor returning: %v", cust)
	}
	g := c.Frame()
	if g["type"] != "message" || g["from"] != "bot" || g["seq"] != 1.0 {
		t.Errorf("greeting %v", g)
	}
}

func TestMessageIsAckedEchoedAndAnswered(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	c.hello("", 0)
	c.Frame() // greeting
	c.Send(map[string]any{"type": "message", "id": "m1", "text": "how do I return a lamp"})
	var ack, echo, answer map[string]any
	for _, f := range c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["text"] == "Was this helpful?" }) {
		switch {
		case f["type"] == "ack":
			ack = f
		case f["type"] == "message" && f["from"] == "customer":
			echo = f
		case f["type"] == "message" && f["from"] == "bot" && answer == nil:
			answer = f
		}
	}
	if ack == nil || ack["id"] != "m1" || ack["seq"] != 2.0 {
		t.Errorf("ack %v, want id m1 seq 2", ack)
	}
	if echo == nil || echo["id"] != "m1" || echo["seq"] != 2.0 {
		t.Errorf("echo %v", echo)
	}
	if answer == nil || !strings.Contains(answer["text"].(string), "30 days") {
		t.Errorf("answer %v", answer)
	}
}

func TestRetriedMessageIsStoredOnce(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	w := c.hello("", 0)
	c.Frame()
	msg := map[string]any{"type": "message", "id": "retry-1", "text": "hello"}
	c.Send(msg)
	first := c.Until(isType("ack"))
	c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "bot" })
	c.Send(msg)
	second := c.Until(isType("ack"))
	if first[len(first)-1]["seq"] != second[len(second)-1]["seq"] {
		t.Errorf("retry acked with seq %v, first with %v", second[len(second)-1]["seq"], first[len(first)-1]["seq"])
	}
	ms, err := s.db.Messages(context.Background(), w["conversation_id"].(string), 0)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, m := range ms {
		if m.ClientID == "retry-1" {
			n++
		}
	}
	if n != 1 || len(ms) != 3 {
		t.Errorf("%d copies stored, %d messages in all; want 1 and 3 (greeting, hello, reply)", n, len(ms))
	}
}

func TestReconnectResumesWithExactlyTheMissedMessages(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	w, last := c.begin()
	token := w["token"].(string)
	c.WS.Close()

	// While the client is away, the bot and an agent say things.
	conv := w["conversation_id"].(string)
	for _, text := range []string{"one", "two"} {
		if _, _, err := s.db.Append(context.Background(), bot.Message{ConversationID: conv, From: bot.FromAgent, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	c2 := s.connect()
	w2 := c2.hello(token, last)
	if w2["conversation_id"] != conv || w2["customer"].(map[string]any)["returning"] != true {
		t.Fatalf("resumed welcome %v", w2)
	}
	a, b := c2.Frame(), c2.Frame()
	if a["seq"] != float64(last+1) || a["text"] != "one" || b["seq"] != float64(last+2) || b["text"] != "two" {
		t.Errorf("resumed with %v, %v; want seq %d and %d", a, b, last+1, last+2)
	}
	// Nothing else is pending: a new message's ack comes next.
	c2.Send(map[string]any{"type": "message", "id": "x", "text": "thanks"})
	if f := c2.Frame(); f["type"] != "ack" && !(f["type"] == "message" && f["seq"] == float64(last+3)) {
		t.Errorf("after the backlog got %v, want the new message's ack or echo", f)
	}
}

func TestResumeAfterServerRestartOnTheSameData(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	w := c.hello("", 0)
	c.Frame()
	c.Send(map[string]any{"type": "message", "id": "before-restart", "text": "where is my package"})
	c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["text"] == "Was this helpful?" })
	path := s.path
	s.stop()

	s2 := startServer(t, path, web.Options{})
	c2 := s2.connect()
	w2 := c2.hello(w["token"].(string), 0)
	if w2["conversation_id"] != w["conversation_id"] {
		t.Fatalf("after restart conversation %v, want %v", w2["conversation_id"], w["conversation_id"])
	}
	var texts []string
	for _, f := range c2.Until(func(f map[string]any) bool { return f["text"] == "Was this helpful?" }) {
		texts = append(texts, f["text"].(string))
	}
	if len(texts) != 4 || texts[1] != "where is my package" {
		t.Errorf("history after restart %q, want greeting, question, answer, helpful?", texts)
	}
}

func TestOversizedFrameClosesWith1009(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	c.hello("", 0)
	c.Frame()
	c.Send(map[string]any{"type": "message", "id": "big", "text": strings.Repeat("x", 5000)})
	c.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.WS.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Errorf("closed with %v, want 1009", err)
		}
		return
	}
}

func TestBadFramesGetErrorsAndTheConnectionStaysOpen(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	c.Send(map[string]any{"type": "message", "id": "early", "text": "hi"})
	if f := c.Frame(); f["type"] != "error" || f["code"] != "not_ready" {
		t.Errorf("message before hello: %v", f)
	}
	c.hello("", 0)
	c.Frame()
	if err := c.WS.WriteMessage(websocket.TextMessage, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if f := c.Frame(); f["type"] != "error" || f["code"] != "bad_frame" {
		t.Errorf("bad JSON: %v", f)
	}
	c.Send(map[string]any{"type": "dance"})
	if f := c.Frame(); f["type"] != "error" || f["code"] != "bad_frame" {
		t.Errorf("unknown type: %v", f)
	}
	c.Send(map[string]any{"type": "message", "text": "no id"})
	if f := c.Frame(); f["type"] != "error" || f["code"] != "bad_frame" {
		t.Errorf("message without id: %v", f)
	}
	c.Send(map[string]any{"type": "message", "id": "ok", "text": "hello"})
	if f := c.Until(isType("ack")); f[len(f)-1]["id"] != "ok" {
		t.Errorf("connection unusable after errors: %v", f)
	}
}

func TestRateLimit(t *testing.T) {
	s := startServer(t, "", web.Options{RateBurst: 3, RatePerSecond: 0.001})
	c := s.connect()
	c.hello("", 0)
	c.Frame()
	for i := range 4 {
		c.Send(map[string]any{"type": "message", "id": string(rune('a' + i)), "text": "hello"})
	}
	var acks, limited int
	for acks+limited < 4 {
		f := c.Frame()
		switch {
		case f["type"] == "ack":
			acks++
		case f["type"] == "error" && f["code"] == "rate_limited":
			limited++
		}
	}
	if acks != 3 || limited != 1 {
		t.Errorf("%d acked, %d limited; want 3 and 1", acks, limited)
	}
}

func TestOriginCheck(t *testing.T) {
	s := startServer(t, "", web.Options{AllowedOrigins: []string{"https://shop.example"}})
	cases := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{s.http.URL, true},
		{"https://shop.example", true},
		{"https://evil.example", false},
		{"null", false},
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		_, resp, err := s.dial(h)
		if tc.ok && err != nil {
			t.Errorf("origin %q refused: %v", tc.origin, err)
		}
		if !tc.ok && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("origin %q accepted (err %v)", tc.origin, err)
		}
	}
}

func TestStateChangesAreSent(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	c.hello("", 0)
	c.Frame()
	c.Send(map[string]any{"type": "message", "id": "h", "text": "Talk to a person", "payload": "human"})
	fs := c.Until(isType("state"))
	if fs[len(fs)-1]["state"] != "queued" {
		t.Errorf("state frame %v, want queued", fs[len(fs)-1])
	}
}

func TestAssets(t *testing.T) {
	s := startServer(t, "", web.Options{})
	for path, ctype := range map[string]string{"/widget.js": "javascript", "/": "text/html", "/widget.css": "text/css"} {
		resp, err := http.Get(s.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	_ = json.Valid
}

func TestAckTravelsWithItsMessageAndRefusalsNameTheMessage(t *testing.T) {
	s := startServer(t, "", web.Options{RateBurst: 1, RatePerSecond: 0.001})
	c := s.connect()
	c.hello("", 0)
	c.Frame() // greeting
	c.Send(map[string]any{"type": "message", "id": "a1", "text": "when are you open"})
	fs := c.Until(isType("ack"))
	if next := c.Frame(); next["type"] != "message" || next["id"] != "a1" || next["seq"] != fs[len(fs)-1]["seq"] {
		t.Errorf("after the ack came %v, want the acknowledged message itself", next)
	}
	c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "bot" })
	c.Send(map[string]any{"type": "message", "id": "a2", "text": "and on sunday?"})
	e := c.Until(isType("error"))
	if f := e[len(e)-1]; f["code"] != "rate_limited" || f["id"] != "a2" {
		t.Errorf("refusal %v, want rate_limited for id a2", f)
	}
}

func TestABacklogLongerThanTheSendQueueArrivesWhole(t *testing.T) {
	s := startServer(t, "", web.Options{SendQueue: 8})
	c := s.connect()
	w, last := c.begin()
	conv := w["conversation_id"].(string)
	for i := range 40 {
		if _, _, err := s.db.Append(context.Background(), bot.Message{ConversationID: conv, From: bot.FromAgent, Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	c2 := s.connect()
	c2.hello(w["token"].(string), 0)
	for want := 1.0; want <= float64(last+40); want++ {
		if f := c2.Frame(); f["seq"] != want {
			t.Fatalf("backlog frame %v, want seq %v", f, want)
		}
	}
}

func TestALastSeqFromAClosedConversationGetsTheNewOneWhole(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	w, _ := c.begin()
	conv, err := s.db.Conversation(context.Background(), w["conversation_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		s.db.Append(context.Background(), bot.Message{ConversationID: conv.ID, From: bot.FromAgent, Text: "x"})
	}
	conv, _ = s.db.Conversation(context.Background(), conv.ID)
	conv.State = bot.StateClosed
	if err := s.db.SaveConversation(context.Background(), conv); err != nil {
		t.Fatal(err)
	}
	c2 := s.connect()
	w2 := c2.hello(w["token"].(string), int(conv.LastSeq))
	if w2["conversation_id"] == conv.ID {
		t.Fatal("a closed conversation was resumed")
	}
	if f := c2.Frame(); f["type"] != "message" || f["seq"] != 1.0 {
		t.Errorf("first frame of the new conversation %v, want its seq 1", f)
	}
}

func TestShutdownTellsClientsItIsGoingAway(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	c.hello("", 0)
	c.Frame()
	idle := s.connect() // connected, has not said hello: blocked in its read
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.web.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown did not finish: %v", err)
	}
	for _, cl := range []*client{c, idle} {
		cl.WS.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			_, _, err := cl.WS.ReadMessage()
			if err == nil {
				continue
			}
			if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
				t.Errorf("closed with %v, want 1001", err)
			}
			break
		}
	}
}

func TestASlowClientIsDisconnectedWithoutSlowingOthersAndResumesWhole(t *testing.T) {
	// The slow tab resumes all it missed: more than the default MaxBacklog.
	s := startServer(t, "", web.Options{SendQueue: 16, MaxBacklog: 5000})
	// Two tabs of the same visitor: one stops reading, one keeps up.
	slow := s.connect()
	w, first := slow.begin()
	token, conv := w["token"].(string), w["conversation_id"].(string)
	fast := s.connect()
	fast.hello(token, first)

	// More than the socket buffers of both ends hold: about 7 MB.
	const n = 2000
	text := strings.Repeat("a long line from the team. ", 130) // about 3.5 KB a message
	done := make(chan error, 1)
	go func() {
		for i := range n {
			if _, err := s.engine.Notice(context.Background(), conv, fmt.Sprint(i, " ", text)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	// The fast tab gets every message while the slow one reads nothing
	// (on a busy machine it may lag too: then it resumes, as the widget
	// does, and still misses nothing).
	last := float64(first)
	for last < float64(first+n) {
		fast.WS.SetReadDeadline(time.Now().Add(10 * time.Second))
		var f map[string]any
		if err := fast.WS.ReadJSON(&f); err != nil {
			fast = s.connect()
			fast.hello(token, int(last))
			continue
		}
		if f["type"] == "message" {
			if seq := f["seq"].(float64); seq != last+1 {
				t.Fatalf("fast tab got seq %v after %v", seq, last)
			}
			last = f["seq"].(float64)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The slow tab was cut off rather than holding anyone up ...
	slow.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got int
	for {
		if _, _, err := slow.WS.ReadMessage(); err != nil {
			break
		}
		got++
	}
	if got >= n {
		t.Fatalf("the slow client read all %d frames: it was never disconnected", got)
	}
	// ... and resumes with everything it missed, each message once.
	again := s.connect()
	again.hello(token, first)
	for want := float64(first + 1); want <= float64(first+n); want++ {
		if f := again.Frame(); f["seq"] != want {
			t.Fatalf("resumed frame %v, want seq %v", f["seq"], want)
		}
	}
}
