package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/internal/pgtest"
)

// Two real nodes with automatic assignment: an agent whose console is on
// node 2 is online for routing on node 1, so a customer's hand-off on
// node 1 is offered to her at once; her console on node 2 shows the
// offer; she accepts on node 2 and the customer on node 1 is told.
func TestAHandOffOnNode1IsOfferedToAnAgentOnNode2(t *testing.T) {
	dsn := pgtest.DB(t)
	withStdin(t, "a long password\n")
	if _, _, err := runCmd(t, "agent", "add", "--store", dsn, "--data-dir", filepath.Join(t.TempDir(), "none"), "--name", "Maria", "--email", "maria@example.com"); err != nil {
		t.Fatalf("agent add --store: %v", err)
	}
	node1 := startServeIn(t, filepath.Join(t.TempDir(), "node1"), "--store", dsn)
	node2 := startServeIn(t, filepath.Join(t.TempDir(), "node2"), "--store", dsn)

	token := loginToken(t, node2, "maria@example.com", "a long password")
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(node2, "http")+"/api/agent/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	frame := func() map[string]any {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(15 * time.Second))
		var m map[string]any
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("agent's console on node 2: %v", err)
		}
		return m
	}
	if f := frame(); f["type"] != "ready" {
		t.Fatalf("first frame %v, want ready", f)
	}
	if err := ws.WriteJSON(map[string]string{"type": "heartbeat", "presence": "online"}); err != nil {
		t.Fatal(err)
	}
	// Her presence event comes back through the database once it is
	// stored, so node 1 routes with her from then on.
	for f := frame(); f["type"] != "presence" || f["presence"] != "online"; f = frame() {
	}

	c := dialCustomer(t, node1)
	c.say("I'd like to talk to a person please", "")
	for {
		f := frame()
		if f["type"] != "queue" || f["event"] != "assigned" {
			continue
		}
		tk, _ := f["ticket"].(map[string]any)
		if tk == nil || tk["conversation_id"] != c.conv {
			t.Fatalf("offer %v, want the conversation %s handed off on node 1", f, c.conv)
		}
		break
	}
	if code := agentAPI(t, node2, token, "POST", "/api/agent/conversations/"+c.conv+"/claim", nil, nil); code != http.StatusOK {
		t.Fatalf("accept on node 2: %d", code)
	}
	c.until(from("system", "Maria from our team has joined"))
}
