package postgres_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/adapters/console"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/pgtest"
)

// End to end through the agent console: an agent whose console's
// websocket is on node B, online by its heartbeat frame, is offered a
// ticket a customer queued on node A, and her console shows it.
func TestAConsoleOnNodeBGetsAnOfferQueuedOnNodeA(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	qa := queueNode(t, a, handoff.Options{})
	qb := queueNode(t, b, handoff.Options{})
	agents := handoff.NewAgents(b.db, handoff.AgentsOptions{PasswordCost: bcrypt.MinCost})
	ann, err := agents.Add(ctx, handoff.NewAgent{Name: "Ann", Email: "ann@example.com", Role: handoff.RoleAgent, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	srv := console.NewServer(b.eng, qb, agents, nil, console.Options{})
	mux := http.NewServeMux()
	srv.Routes(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)

	body, _ := json.Marshal(map[string]string{"email": ann.Email, "password": "correct horse battery"})
	res, err := http.Post(hs.URL+"/api/agent/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || login.Token == "" {
		t.Fatalf("login: %d", res.StatusCode)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/api/agent/ws",
		http.Header{"Authorization": {"Bearer " + login.Token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	frame := func() map[string]any {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m map[string]any
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("read frame: %v", err)
		}
		return m
	}
	if f := frame(); f["type"] != "ready" {
		t.Fatalf("first frame %v, want ready", f)
	}
	if err := ws.WriteJSON(map[string]string{"type": "heartbeat", "presence": "online"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for qa.Presence(ann.ID) != handoff.PresenceOnline {
		if time.Now().After(deadline) {
			t.Fatal("node A never saw ann online")
		}
		time.Sleep(10 * time.Millisecond)
	}

	conv, cust := waiting(t, a.db)
	tk, err := qa.EnqueueWith(ctx, conv, cust, handoff.EnqueueOptions{})
	if err != nil || tk.Agent != ann.ID {
		t.Fatalf("ticket %+v, %v; want offered to ann", tk, err)
	}
	for {
		f := frame()
		if f["type"] != "queue" || f["event"] != "assigned" {
			continue
		}
		v, _ := f["ticket"].(map[string]any)
		if f["agent"] != ann.ID || v == nil || v["conversation_id"] != conv.ID {
			t.Fatalf("assigned frame %v, want ann's offer of %s", f, conv.ID)
		}
		break
	}
}
