package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/internal/wait"
)

// clusterBotAPI is the Telegram Bot API server of both nodes: each node
// is given its own base URL (…/n1, …/n2), so that the server can tell
// which node asks for updates; behind the prefix, botAPI answers.
type clusterBotAPI struct {
	api *botAPI
	mu  sync.Mutex
	// polls are the times of each node's getUpdates requests.
	polls map[string][]time.Time
}

func (c *clusterBotAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	node, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if strings.HasSuffix(rest, "/getUpdates") {
		c.mu.Lock()
		c.polls[node] = append(c.polls[node], time.Now())
		c.mu.Unlock()
	}
	r.URL.Path = "/" + rest
	c.api.ServeHTTP(w, r)
}

// firstPoll returns the time of node's first getUpdates request at or
// after since, if there is one.
func (c *clusterBotAPI) firstPoll(node string, since time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, at := range c.polls[node] {
		if !at.Before(since) {
			return at, true
		}
	}
	return time.Time{}, false
}

// clusterHTTP is one agent API call from any goroutine: the status and
// the decoded JSON body.
func clusterHTTP(ctx context.Context, base, token, method, path string, body any) (int, map[string]any, error) {
	var data []byte
	if body != nil {
		data, _ = json.Marshal(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(data))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

// clusterConn is a customer's websocket whose frames a goroutine reads
// into a channel, so that the test can send while frames arrive.
type clusterConn struct {
	ws     *websocket.Conn
	frames chan map[string]any
}

func dialCluster(t *testing.T, base string) *clusterConn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial %s: %v", base, err)
	}
	c := &clusterConn{ws: ws, frames: make(chan map[string]any, 1024)}
	go func() {
		defer close(c.frames)
		for {
			var f map[string]any
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			c.frames <- f
		}
	}()
	t.Cleanup(func() { ws.Close() })
	return c
}

// next returns the next frame, or nil when the connection ended or
// nothing came for 15 s.
func (c *clusterConn) next() map[string]any {
	select {
	case f := <-c.frames:
		return f
	case <-time.After(15 * time.Second):
		return nil
	}
}

// until reads frames until one satisfies ok; it fails the test when the
// connection ends first.
func (c *clusterConn) until(t *testing.T, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	for {
		f := c.next()
		if f == nil {
			t.Fatalf("the connection ended, or went quiet, before %s", what)
		}
		if ok(f) {
			return f
		}
	}
}

// TestTwoRealNodesOnOnePostgres runs the real binary twice, as two nodes
// on one PostgreSQL database, each with its own data directory, and the
// Telegram channel on both (one local Bot API server):
//
//   - agents on node 1 and node 2 race to claim the same conversations:
//     exactly one gets 200, the other 409 conflict;
//   - a customer on node 1 talks with an agent on node 2; while the
//     customer is sending, node 1 is killed with SIGKILL; the customer
//     resumes on node 2 with its token and last_seq, sends again what was
//     not acknowledged, and ends with every acknowledged message and
//     every reply the agent was told was stored, once each, at seqs 1..N
//     with no gap, as the agent API on node 2 shows them too;
//   - the Telegram poller, on node 1 until the kill, moves to node 2,
//     which answers a new Telegram message once; the time it took is
//     logged;
//   - an agent logged in on node 1 is still logged in on node 2.
func TestTwoRealNodesOnOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	dsn := pgtest.DB(t)
	bin := buildFrontdesk(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	dir := t.TempDir()
	const password = "a long password"
	for _, a := range []struct{ name, email string }{{"Ann", "ann@example.com"}, {"Bob", "bob@example.com"}} {
		add := exec.Command(bin, "agent", "add", "--store", dsn, "--data-dir", filepath.Join(dir, "agents"), "--name", a.name, "--email", a.email)
		add.Env = childEnv()
		add.Stdin = strings.NewReader(password + "\n")
		if out, err := add.CombinedOutput(); err != nil {
			t.Fatalf("agent add %s: %v\n%s", a.name, err, out)
		}
	}

	tg := &clusterBotAPI{api: &botAPI{}, polls: map[string][]time.Time{}}
	tgSrv := httptest.NewServer(tg)
	defer tgSrv.Close()
	node := func(n int) *serverProc {
		return &serverProc{bin: bin, dataDir: filepath.Join(dir, fmt.Sprint("node", n)), addr: freeAddr(t),
			logPath: filepath.Join(dir, fmt.Sprintf("node%d.log", n)), extra: []string{"--store", dsn},
			env: []string{"FRONTDESK_TELEGRAM_TOKEN=123:secret", fmt.Sprintf("FRONTDESK_TELEGRAM_API_URL=%s/n%d", tgSrv.URL, n)}}
	}
	n1, n2 := node(1), node(2)
	t.Cleanup(n1.kill)
	t.Cleanup(n2.kill)
	// Node 1 starts first and takes the Telegram role; node 2 waits for it.
	if err := n1.start(ctx); err != nil {
		t.Fatalf("node 1: %v\n%s", err, n1.logTail(30))
	}
	wait.For(t, 20*time.Second, "node 1 to poll Telegram", func() bool { _, ok := tg.firstPoll("n1", time.Time{}); return ok })
	if err := n2.start(ctx); err != nil {
		t.Fatalf("node 2: %v\n%s", err, n2.logTail(30))
	}
	base1, base2 := "http://"+n1.addr, "http://"+n2.addr
	wait.For(t, 20*time.Second, "node 1 to greet the Telegram /start", func() bool { return strings.Contains(tg.api.messages(), "42: Hi Ana") })

	login := func(base, email string) string {
		t.Helper()
		code, body, err := clusterHTTP(ctx, base, "", "POST", "/api/agent/login", map[string]string{"email": email, "password": password})
		if err != nil || code != http.StatusOK {
			t.Fatalf("login %s on %s: %d %v %v", email, base, code, body, err)
		}
		return body["token"].(string)
	}
	ann, bob := login(base1, "ann@example.com"), login(base2, "bob@example.com")

	// handOff starts a conversation on base, asks for a person, and
	// returns the connection and the conversation.
	handOff := func(base string) (*clusterConn, string) {
		t.Helper()
		c := dialCluster(t, base)
		c.ws.WriteJSON(map[string]any{"type": "hello", "token": "", "last_seq": 0})
		welcome := c.until(t, "the welcome", func(f map[string]any) bool { return f["type"] == "welcome" })
		c.ws.WriteJSON(map[string]any{"type": "message", "id": "h1", "text": "I'd like to talk to a person please"})
		c.until(t, "the hand-off", from("bot", "connecting you with a person"))
		return c, welcome["conversation_id"].(string)
	}
	type agent struct{ name, base, token string }
	agents := []agent{{"Ann", base1, ann}, {"Bob", base2, bob}}

	// The claim race: Ann on node 1 and Bob on node 2 claim at once, for
	// conversations started on either node.
	for race := range 3 {
		c, conv := handOff(agents[race%2].base)
		type result struct {
			who  agent
			code int
			body map[string]any
			err  error
		}
		results := make(chan result, 2)
		start := make(chan struct{})
		for _, a := range agents {
			go func() {
				<-start
				code, body, err := clusterHTTP(ctx, a.base, a.token, "POST", "/api/agent/conversations/"+conv+"/claim", nil)
				results <- result{a, code, body, err}
			}()
		}
		close(start)
		r1, r2 := <-results, <-results
		if r1.err != nil || r2.err != nil {
			t.Fatalf("race %d: %v %v", race, r1.err, r2.err)
		}
		winner, loser := r1, r2
		if r2.code == http.StatusOK {
			winner, loser = r2, r1
		}
		if winner.code != http.StatusOK || loser.code != http.StatusConflict || loser.body["code"] != "conflict" {
			t.Fatalf("race %d: %s got %d, %s got %d %v; want one 200 and one 409 conflict", race, winner.who.name, winner.code, loser.who.name, loser.code, loser.body)
		}
		joined := c.until(t, "the winner joining", from("system", "has joined"))
		if !strings.Contains(joined["text"].(string), winner.who.name) {
			t.Errorf("race %d: the customer was told %q, but %s won", race, joined["text"], winner.who.name)
		}
		t.Logf("claim race %d (conversation started on node %d): %s won, %s got 409", race, race%2+1, winner.who.name, loser.who.name)
		if code, _, err := clusterHTTP(ctx, winner.who.base, winner.who.token, "POST", "/api/agent/conversations/"+conv+"/resolve", nil); err != nil || code != http.StatusOK {
			t.Fatalf("race %d: resolve: %d %v", race, code, err)
		}
	}

	// A customer on node 1 with Bob, on node 2. The customer's view is
	// every message frame over both of its connections, by seq; each
	// connection must carry seqs one by one, from where the last ended.
	seen := map[int64]map[string]any{}
	var lastSeq int64
	acked := map[string]int64{} // client id -> seq
	record := func(conn int, f map[string]any) {
		switch f["type"] {
		case "ack":
			id, _ := f["id"].(string)
			seq, _ := f["seq"].(float64)
			if prev, ok := acked[id]; ok && prev != int64(seq) {
				t.Errorf("connection %d: %s acknowledged as seq %d, earlier as %d", conn, id, int64(seq), prev)
			}
			acked[id] = int64(seq)
		case "message":
			seq := int64(f["seq"].(float64))
			if seq != lastSeq+1 {
				t.Errorf("connection %d: message seq %d after %d", conn, seq, lastSeq)
			}
			if _, dup := seen[seq]; dup {
				t.Errorf("connection %d: seq %d again", conn, seq)
			}
			seen[seq] = f
			lastSeq = max(lastSeq, seq)
		case "error":
			t.Errorf("connection %d: error frame %v: %v", conn, f["code"], f["message"])
		}
	}
	readUntil := func(c *clusterConn, conn int, what string, ok func(map[string]any) bool) map[string]any {
		t.Helper()
		for {
			f := c.next()
			if f == nil {
				t.Fatalf("connection %d ended, or went quiet, before %s", conn, what)
			}
			record(conn, f)
			if ok(f) {
				return f
			}
		}
	}
	drain := func(c *clusterConn, conn int) {
		for {
			select {
			case f, ok := <-c.frames:
				if !ok {
					return
				}
				record(conn, f)
			default:
				return
			}
		}
	}
	var order []string          // client ids in the order first sent
	sent := map[string]string{} // client id -> text
	send := func(c *clusterConn, id, text string) error {
		if _, again := sent[id]; !again {
			order = append(order, id)
		}
		sent[id] = text
		return c.ws.WriteJSON(map[string]any{"type": "message", "id": id, "text": text})
	}
	unacked := func() []string {
		var ids []string
		for _, id := range order {
			if _, ok := acked[id]; !ok {
				ids = append(ids, id)
			}
		}
		return ids
	}

	cust := dialCluster(t, base1)
	cust.ws.WriteJSON(map[string]any{"type": "hello", "token": "", "last_seq": 0})
	welcome := readUntil(cust, 1, "the welcome", func(f map[string]any) bool { return f["type"] == "welcome" })
	conv, token := welcome["conversation_id"].(string), welcome["token"].(string)
	send(cust, "m1", "I'd like to talk to a person please")
	readUntil(cust, 1, "the hand-off", from("bot", "connecting you with a person"))
	if code, body, err := clusterHTTP(ctx, base2, bob, "POST", "/api/agent/conversations/"+conv+"/claim", nil); err != nil || code != http.StatusOK {
		t.Fatalf("Bob's claim on node 2: %d %v %v", code, body, err)
	}
	readUntil(cust, 1, "Bob joining", from("system", "Bob"))

	// Bob replies from node 2 every 50 ms, through the kill and the resume.
	var (
		repMu     sync.Mutex
		replies   []string // stored: 201
		replyErrs []string
	)
	stopReplies := make(chan struct{})
	var repliesDone sync.WaitGroup
	repliesDone.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stopReplies:
				return
			case <-time.After(50 * time.Millisecond):
			}
			text := fmt.Sprintf("reply %d from Bob", i)
			code, _, err := clusterHTTP(ctx, base2, bob, "POST", "/api/agent/conversations/"+conv+"/messages", map[string]any{"text": text})
			repMu.Lock()
			if err == nil && code == http.StatusCreated {
				replies = append(replies, text)
			} else {
				replyErrs = append(replyErrs, fmt.Sprintf("%s: %d %v", text, code, err))
			}
			repMu.Unlock()
		}
	})
	defer func() {
		select {
		case <-stopReplies:
		default:
			close(stopReplies)
		}
		repliesDone.Wait()
	}()

	// The customer writes every 100 ms (within the per-connection limit:
	// 10 at once, then 1 a second); after four more acknowledgements,
	// three more messages are on their way when node 1 is killed.
	next := 1
	say := func(c *clusterConn) error {
		next++
		id := fmt.Sprint("m", next)
		return send(c, id, "message "+id)
	}
	for len(acked) < 5 {
		if ctx.Err() != nil {
			t.Fatalf("only %d messages acknowledged on node 1", len(acked))
		}
		if err := say(cust); err != nil {
			t.Fatalf("send on node 1: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
		drain(cust, 1)
	}
	for range 3 {
		say(cust)
	}
	n1.kill()
	killedAt := time.Now()
	// What node 1 sent before it died (next is nil once the connection
	// has ended, or after 15 s).
	for f := cust.next(); f != nil; f = cust.next() {
		record(1, f)
	}
	lost := unacked()
	killSeq := lastSeq
	t.Logf("node 1 killed with %d customer messages acknowledged, %d not (%v), at seq %d", len(acked), len(lost), lost, lastSeq)

	// Sessions are in the database: Ann, who logged in on node 1, works
	// on node 2.
	if code, _, err := clusterHTTP(ctx, base2, ann, "GET", "/api/agent/me", nil); err != nil || code != http.StatusOK {
		t.Errorf("Ann's session from node 1 on node 2: %d %v", code, err)
	}

	// The customer resumes on node 2 and sends again what had no ack.
	cust2 := dialCluster(t, base2)
	cust2.ws.WriteJSON(map[string]any{"type": "hello", "token": token, "last_seq": lastSeq})
	w2 := readUntil(cust2, 2, "the welcome on node 2", func(f map[string]any) bool { return f["type"] == "welcome" })
	if w2["conversation_id"] != conv {
		t.Fatalf("node 2 resumed conversation %v, want %s", w2["conversation_id"], conv)
	}
	for _, id := range lost {
		send(cust2, id, sent[id])
	}
	for range 4 {
		if err := say(cust2); err != nil {
			t.Fatalf("send on node 2: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stopReplies)
	repliesDone.Wait()
	if len(replyErrs) > 0 {
		t.Errorf("Bob's replies on node 2 failed: %v", replyErrs)
	}
	have := func() bool {
		if len(unacked()) > 0 {
			return false
		}
		texts := map[string]bool{}
		for _, f := range seen {
			texts[fmt.Sprint(f["text"])] = true
		}
		for _, r := range replies {
			if !texts[r] {
				return false
			}
		}
		return true
	}
	for !have() {
		f := cust2.next()
		if f == nil {
			t.Fatalf("node 2 went quiet: not acknowledged %v; %d replies stored", unacked(), len(replies))
		}
		record(2, f)
	}
	time.Sleep(300 * time.Millisecond) // nothing more should come
	drain(cust2, 2)

	// Every acknowledged message at its seq, every text once, seqs 1..N.
	if int64(len(seen)) != lastSeq {
		t.Errorf("the customer saw %d messages, up to seq %d", len(seen), lastSeq)
	}
	count := map[string]int{}
	for _, f := range seen {
		count[fmt.Sprint(f["from"], ": ", f["text"])]++
	}
	for _, id := range order {
		f := seen[acked[id]]
		if f["from"] != "customer" || f["text"] != sent[id] {
			t.Errorf("%s acknowledged as seq %d, which is %v: %v", id, acked[id], f["from"], f["text"])
		}
		if n := count["customer: "+sent[id]]; n != 1 {
			t.Errorf("%q stored %d times", sent[id], n)
		}
	}
	for _, r := range replies {
		if n := count["agent: "+r]; n != 1 {
			t.Errorf("Bob's %q seen %d times", r, n)
		}
	}
	// The agent API on node 2 shows the same log.
	code, view, err := clusterHTTP(ctx, base2, bob, "GET", "/api/agent/conversations/"+conv, nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("conversation on node 2: %d %v", code, err)
	}
	var logged []string
	for _, m := range view["messages"].([]any) {
		m := m.(map[string]any)
		if m["internal"] != true {
			logged = append(logged, fmt.Sprint(m["seq"], " ", m["from"], ": ", m["text"]))
		}
	}
	var shown []string
	for seq := int64(1); seq <= lastSeq; seq++ {
		shown = append(shown, fmt.Sprint(seq, " ", seen[seq]["from"], ": ", seen[seq]["text"]))
	}
	if strings.Join(logged, "\n") != strings.Join(shown, "\n") {
		t.Errorf("the agent API's log differs from what the customer saw:\n%s\n---\n%s", strings.Join(logged, "\n"), strings.Join(shown, "\n"))
	}
	stored := 0 // of those sent again, stored before the kill
	for _, id := range lost {
		if acked[id] <= killSeq {
			stored++
		}
	}
	t.Logf("conversation: %d messages, %d from the customer (%d sent again on node 2, %d of them stored before the kill), %d replies from Bob", lastSeq, len(order), len(lost), stored, len(replies))

	// The Telegram poller moved to node 2 (which never polled while node
	// 1 lived), and node 2 answers a new message once.
	if at, ok := tg.firstPoll("n2", time.Time{}); ok && at.Before(killedAt) {
		t.Errorf("node 2 polled Telegram at %v, before node 1 was killed", at)
	}
	wait.For(t, 30*time.Second, "node 2 to poll Telegram", func() bool { _, ok := tg.firstPoll("n2", killedAt); return ok })
	polled, _ := tg.firstPoll("n2", killedAt)
	t.Logf("Telegram poller: node 2 polled %v after node 1 was killed", polled.Sub(killedAt).Round(time.Millisecond))
	if d := polled.Sub(killedAt); d > 15*time.Second {
		t.Errorf("node 2 took %v to take over the Telegram poller, want seconds", d)
	}
	tg.api.push(77, "hello")
	wait.For(t, 20*time.Second, "node 2 to answer on Telegram", func() bool { return strings.Contains(tg.api.messages(), "77: ") })
	time.Sleep(time.Second) // nothing should be sent twice
	lines := map[string]int{}
	for _, l := range strings.Split(tg.api.messages(), "\n") {
		lines[l]++
	}
	for l, n := range lines {
		if n > 1 {
			t.Errorf("sent to Telegram %d times: %q", n, l)
		}
	}
	if t.Failed() {
		t.Logf("node 1:\n%s\nnode 2:\n%s", errorLines(n1.logPath, 15), errorLines(n2.logPath, 15))
	}
}
