package main

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/internal/pgtest"
)

// A store that is not PostgreSQL is a usage error, told before anything
// is opened; one that cannot be reached fails at start and never echoes
// the URL's password.
func TestServeChecksTheStore(t *testing.T) {
	dir := t.TempDir()
	_, _, err := runCmd(t, "serve", "--data-dir", dir, "--store", "mysql://x")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("a store that is not PostgreSQL: %v, want a usage error", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr syncBuffer
	err = run(ctx, []string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--store", "postgres://frontdesk:s3cret@127.0.0.1:1/shop"}, &syncBuffer{}, &stderr)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve on an unreachable database: %v (context %v), want an error at start", err, ctx.Err())
	}
	if !strings.Contains(err.Error(), "frontdesk@127.0.0.1:1/shop") {
		t.Errorf("the error does not name the database: %v", err)
	}
	if strings.Contains(err.Error()+stderr.String(), "s3cret") {
		t.Errorf("the password was echoed: %v\n%s", err, stderr.String())
	}
}

// Two serve processes' worth of nodes on one PostgreSQL, each with its
// own data directory (its own search index): agents are added with
// --store, a customer on node 1 hands off, an agent on node 2 claims and
// replies, and the customer sees the reply on node 1; the customer then
// resumes on node 2 with nothing lost.
func TestTwoNodesShareOnePostgres(t *testing.T) {
	dsn := pgtest.DB(t)
	withStdin(t, "a long password\n")
	out, _, err := runCmd(t, "agent", "add", "--store", dsn, "--data-dir", filepath.Join(t.TempDir(), "none"), "--name", "Maria", "--email", "maria@example.com")
	if err != nil {
		t.Fatalf("agent add --store: %v", err)
	}
	if !strings.Contains(out, "maria@example.com") {
		t.Errorf("agent add printed %q", out)
	}
	node1 := startServeIn(t, filepath.Join(t.TempDir(), "node1"), "--store", dsn, "--manual-assign", "true")
	node2 := startServeIn(t, filepath.Join(t.TempDir(), "node2"), "--store", dsn, "--manual-assign", "true")

	c := dialCustomer(t, node1)
	c.say("how long does delivery take?", "")
	c.until(botSays("Was this helpful?"))
	c.say("I'd like to talk to a person please", "")
	c.until(botSays("connecting you with a person"))

	token := loginToken(t, node2, "maria@example.com", "a long password")
	var queue struct {
		Tickets []struct {
			ConversationID string `json:"conversation_id"`
		} `json:"tickets"`
	}
	if code := agentAPI(t, node2, token, "GET", "/api/agent/queue", nil, &queue); code != http.StatusOK {
		t.Fatalf("queue on node 2: %d", code)
	}
	found := false
	for _, tk := range queue.Tickets {
		found = found || tk.ConversationID == c.conv
	}
	if !found {
		t.Errorf("node 2's queue %+v lacks the conversation handed off on node 1", queue.Tickets)
	}
	if code := agentAPI(t, node2, token, "POST", "/api/agent/conversations/"+c.conv+"/claim", nil, nil); code != http.StatusOK {
		t.Fatalf("claim on node 2: %d", code)
	}
	c.until(from("system", "Maria from our team has joined"))
	if code := agentAPI(t, node2, token, "POST", "/api/agent/conversations/"+c.conv+"/messages", map[string]any{"text": "Hello, this is Maria."}, nil); code != http.StatusCreated {
		t.Fatalf("reply on node 2: %d", code)
	}
	reply := c.until(from("agent", "this is Maria"))

	// The customer comes back on node 2: the same conversation, every
	// message after the last one they saw, and the next message in order.
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(node2, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c2 := &scriptedCustomer{t: t, ws: ws, n: 100}
	c2.send(map[string]any{"type": "hello", "token": c.token, "last_seq": 0})
	welcome := c2.until(func(f map[string]any) bool { return f["type"] == "welcome" })
	if welcome["conversation_id"] != c.conv {
		t.Fatalf("node 2 resumed conversation %v, want %s", welcome["conversation_id"], c.conv)
	}
	again := c2.until(from("agent", "this is Maria"))
	if again["seq"] != reply["seq"] {
		t.Errorf("the reply has seq %v on node 2, %v on node 1", again["seq"], reply["seq"])
	}
	c2.say("thanks Maria", "")
	echo := c2.until(from("customer", "thanks Maria"))
	if echo["seq"].(float64) <= reply["seq"].(float64) {
		t.Errorf("the customer's next message has seq %v, not after the reply's %v", echo["seq"], reply["seq"])
	}
	// Node 1's socket of the same customer gets it too, through the
	// database's notifications.
	c.until(from("customer", "thanks Maria"))
}
