package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/wait"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

func TestAgentWebsocketIsToldWhenACustomerAsksForAPerson(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	ws := ann.connect()
	c := r.waitingCustomer()

	fs := ws.Until(queueEvent("queued", c.conversation))
	tk := fs[len(fs)-1]["ticket"].(map[string]any)
	if tk["reason"] != "requested" || tk["status"] != "queued" || tk["customer"].(map[string]any)["id"] == "" || tk["can_claim"] != true {
		t.Errorf("queued ticket %v", tk)
	}
}

func TestAgentWebsocketFollowsOwnedConversations(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	ws := ann.connect()
	c := r.waitingCustomer()
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	ws.Until(queueEvent("assigned", c.conversation))

	// The customer's messages and typing reach the owner.
	c.Send(map[string]any{"type": "typing"})
	ws.Until(func(f map[string]any) bool {
		return f["type"] == "typing" && f["conversation_id"] == c.conversation && f["from"] == "customer"
	})
	c.say("are you there?")
	fs := ws.Until(func(f map[string]any) bool {
		m, _ := f["message"].(map[string]any)
		return f["type"] == "message" && f["conversation_id"] == c.conversation && m["text"] == "are you there?"
	})
	if m := fs[len(fs)-1]["message"].(map[string]any); m["from"] != "customer" || m["seq"] == nil || m["internal"] != false {
		t.Errorf("message frame %v", fs[len(fs)-1])
	}
	// The agent's typing reaches the customer.
	ws.Send(map[string]any{"type": "typing", "conversation_id": c.conversation})
	c.Until(func(f map[string]any) bool { return f["type"] == "typing" && f["from"] == "agent" })

	// Resolving: the console sees the ticket leave and the state change.
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "resolve"), nil)
	ws.Until(queueEvent("resolved", c.conversation))
}

func TestAgentWebsocketWatchesOnlyWhatTheAgentMayRead(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	bob := r.login(r.addAgent("Bob", handoff.RoleAgent))
	bws := bob.connect()
	c := r.waitingCustomer()

	// A waiting conversation may be watched by anyone.
	bws.Send(map[string]any{"type": "watch", "conversation_id": c.conversation})
	// The console reads its frames in order: once the heartbeat's change
	// of presence comes back, the watch is in place.
	bws.Send(map[string]any{"type": "heartbeat", "presence": "away"})
	bws.Until(func(f map[string]any) bool { return f["type"] == "presence" && f["presence"] == "away" })
	c.say("hello? anyone?")
	bws.Until(func(f map[string]any) bool { return f["type"] == "message" && f["conversation_id"] == c.conversation })

	// Once Ann has it, Bob stops following it, and may not watch it again.
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	bws.Until(queueEvent("assigned", c.conversation))
	bws.Send(map[string]any{"type": "watch", "conversation_id": c.conversation})
	f := bws.Until(func(f map[string]any) bool { return f["type"] == "error" })
	if e := f[len(f)-1]; e["code"] != "forbidden" {
		t.Errorf("watching Ann's conversation: %v, want a forbidden error", e)
	}
	bws.Send(map[string]any{"type": "typing", "conversation_id": c.conversation})
	if e := bws.Until(func(f map[string]any) bool { return f["type"] == "error" }); e[len(e)-1]["code"] != "forbidden" {
		t.Errorf("typing in Ann's conversation: %v", e[len(e)-1])
	}
	c.say("secret question")
	ann.must(http.StatusCreated, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "marker"})
	// Bob's console gets nothing of it: a heartbeat's presence event is
	// the next frame after the queue's.
	bws.Send(map[string]any{"type": "heartbeat", "presence": "online"})
	for _, f := range bws.Until(func(f map[string]any) bool { return f["type"] == "presence" }) {
		if f["type"] == "message" || f["type"] == "typing" {
			t.Errorf("Bob's console got %v from Ann's conversation", f)
		}
	}
	bws.Send(map[string]any{"type": "watch", "conversation_id": "con_nope"})
	if e := bws.Until(func(f map[string]any) bool { return f["type"] == "error" }); e[len(e)-1]["code"] != "not_found" {
		t.Errorf("watching an unknown conversation: %v", e[len(e)-1])
	}
}

func TestHeartbeatSetsPresenceAndClosingSignsOff(t *testing.T) {
	r := newRig(t, manual)
	annAgent := r.addAgent("Ann", handoff.RoleAgent)
	ann := r.login(annAgent)
	ws := ann.connect()
	ws.Send(map[string]any{"type": "heartbeat", "presence": "away"})
	f := ws.Until(func(f map[string]any) bool { return f["type"] == "presence" })
	if p := f[len(f)-1]; p["agent_id"] != annAgent.ID || p["presence"] != "away" {
		t.Errorf("presence frame %v", p)
	}
	if p := r.queue.Presence(annAgent.ID); p != handoff.PresenceAway {
		t.Errorf("presence %s, want away", p)
	}
	ws.Send(map[string]any{"type": "heartbeat", "presence": "sleeping"})
	if e := ws.Until(func(f map[string]any) bool { return f["type"] == "error" }); e[len(e)-1]["code"] != "bad_frame" {
		t.Errorf("bad presence: %v", e[len(e)-1])
	}
	ws.WS.Close()
	wait.For(t, 5*time.Second, "the agent to go offline after its only console closed", func() bool {
		return r.queue.Presence(annAgent.ID) == handoff.PresenceOffline
	})
}

func TestAgentWebsocketAcceptsTheCookieAndChecksTheOrigin(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	cookie := http.Header{"Cookie": {"frontdesk_agent=" + ann.token}}
	ws, _, err := r.dialAgent(cookie, "")
	if err != nil {
		t.Fatalf("with the cookie: %v", err)
	}
	if f := ws.Frame(); f["type"] != "ready" {
		t.Errorf("first frame %v", f)
	}
	ws2, _, err := r.dialAgent(nil, "?token="+ann.token)
	if err != nil {
		t.Fatalf("with ?token=: %v", err)
	}
	ws2.Frame()
	evil := http.Header{"Cookie": {"frontdesk_agent=" + ann.token}, "Origin": {"https://evil.example"}}
	if _, resp, err := r.dialAgent(evil, ""); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("from another site: %v, want 403", err)
	}
	same := http.Header{"Cookie": {"frontdesk_agent=" + ann.token}, "Origin": {r.http.URL}}
	if _, _, err := r.dialAgent(same, ""); err != nil {
		t.Errorf("from the console's own origin: %v", err)
	}
}

func TestAgentWebsocketRefusesBigAndBadFrames(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	ws := ann.connect()
	ws.WS.WriteMessage(websocket.TextMessage, []byte("not json"))
	if f := ws.Until(func(f map[string]any) bool { return f["type"] == "error" }); f[len(f)-1]["code"] != "bad_frame" {
		t.Errorf("%v", f)
	}
	ws.Send(map[string]any{"type": "dance"})
	if f := ws.Until(func(f map[string]any) bool { return f["type"] == "error" }); f[len(f)-1]["code"] != "bad_frame" {
		t.Errorf("%v", f)
	}
	ws.Send(map[string]any{"type": "watch", "conversation_id": strings.Repeat("x", 9000)})
	ws.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := ws.WS.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
				t.Errorf("after a 9 KiB frame: %v, want close 1009", err)
			}
			break
		}
	}
}

func TestLogoutClosesTheSessionsWebsockets(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	ws := ann.connect()
	ann.must(http.StatusOK, "POST", "/api/agent/logout", nil)
	ws.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := ws.WS.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
				t.Errorf("after logout: %v, want close 1008", err)
			}
			break
		}
	}
}

func TestShutdownClosesAgentWebsocketsGoingAway(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	ws := ann.connect()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- r.console.Shutdown(ctx)
	}()
	ws.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := ws.WS.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
				t.Errorf("at shutdown: %v, want close 1001", err)
			}
			break
		}
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestConsolePageIsServedWithAStrictPolicy(t *testing.T) {
	r := newRig(t, manual)
	for path, ctype := range map[string]string{
		"/console":             "text/html; charset=utf-8",
		"/console/console.js":  "text/javascript; charset=utf-8",
		"/console/console.css": "text/css; charset=utf-8",
	} {
		resp, err := http.Get(r.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: %d %q, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), csp)
		}
	}
	resp, err := http.Get(r.http.URL + "/console/nothing.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown asset: %d", resp.StatusCode)
	}
}

func TestAgentWebsocketHidesTheCustomerOfOtherAgentsConversations(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	bob := r.login(r.addAgent("Bob", handoff.RoleAgent))
	sue := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	aws, bws, sws := ann.connect(), bob.connect(), sue.connect()

	c := r.newCustomer()
	conv, err := r.engine.Conversation(context.Background(), c.conversation)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.engine.UpdateCustomer(context.Background(), conv.CustomerID, func(cu *bot.Customer) error {
		cu.Name, cu.Email = "Vera Secret", "vera.secret@example.com"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c.askForPerson()
	r.waitForTicket(c.conversation)

	// customerOf returns the customer of the last frame's ticket.
	customerOf := func(fs []map[string]any) map[string]any {
		cu, _ := fs[len(fs)-1]["ticket"].(map[string]any)["customer"].(map[string]any)
		return cu
	}
	// While it waits, everyone sees who is waiting, as in the queue.
	if cu := customerOf(aws.Until(queueEvent("queued", c.conversation))); cu == nil || cu["name"] != "Vera Secret" {
		t.Errorf("Ann's queued event: customer %v, want Vera", cu)
	}
	bob.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	bob.must(http.StatusOK, "POST", conversationPath(c.conversation, "resolve"), nil)

	// Bob's conversation: Ann's console hears that it was taken and
	// resolved, but not who the customer is; Bob and Sue see the customer.
	for _, event := range []string{"assigned", "resolved"} {
		fs := aws.Until(queueEvent(event, c.conversation))
		f := fs[len(fs)-1]
		data, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "Vera") || strings.Contains(string(data), "vera.secret") || customerOf(fs) != nil {
			t.Errorf("Ann's %s event shows Bob's customer: %s", event, data)
		}
		if tk := f["ticket"].(map[string]any); tk["agent"] != bob.agent.ID || tk["agent_name"] != "Bob" {
			t.Errorf("Ann's %s event: ticket %v, want Bob's", event, tk)
		}
		for name, ws := range map[string]*agentWS{"Bob": bws, "Sue": sws} {
			if cu := customerOf(ws.Until(queueEvent(event, c.conversation))); cu == nil || cu["name"] != "Vera Secret" || cu["email"] != "vera.secret@example.com" {
				t.Errorf("%s's %s event: customer %v, want Vera with her email", name, event, cu)
			}
		}
	}
}

func TestTheQueueAndItsEventsShowTheSameCustomers(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	bob := r.login(r.addAgent("Bob", handoff.RoleAgent))
	aws := ann.connect()
	c := r.waitingCustomer()
	bob.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	fs := aws.Until(queueEvent("assigned", c.conversation))

	q := ann.must(http.StatusOK, "GET", "/api/agent/queue", nil)
	for _, list := range []string{"tickets", "mine", "assigned"} {
		ts, _ := q[list].([]any)
		for _, tk := range ts {
			if tk.(map[string]any)["conversation_id"] == c.conversation {
				t.Errorf("Ann's queue lists Bob's conversation in %s", list)
			}
		}
	}
	if cu := fs[len(fs)-1]["ticket"].(map[string]any)["customer"]; cu != nil {
		t.Errorf("Ann's assigned event carries the customer %v, which her queue does not show", cu)
	}
}
