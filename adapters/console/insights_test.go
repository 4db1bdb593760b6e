package console_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

func TestGapsEndpoint(t *testing.T) {
	r := newRig(t, manual)
	ctx := context.Background()
	for i, q := range []string{"can I rent lamps for a wedding", "do you rent out lamps for events", "what is the weather in Paris"} {
		s, err := r.engine.Start(ctx, bot.Identity{Channel: bot.Web, ID: fmt.Sprint("v", i)}, bot.Profile{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: q}); err != nil {
			t.Fatal(err)
		}
		// Whatever the bot made of it, the customer was not helped.
		ms, err := r.engine.Messages(ctx, s.Conversation.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		switch d := ms[len(ms)-1].Decision; {
		case d.Kind == bot.DecisionClarify:
			r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: "Something else", Payload: bot.PayloadSomethingElse})
		case d.Reason == "ask_helpful":
			r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: "No", Payload: bot.PayloadHelpfulNo})
		}
	}
	sup := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	rep := sup.must(http.StatusOK, "GET", "/api/agent/insights/gaps?since=7d", nil)
	if rep["questions"] != float64(3) {
		t.Fatalf("report %v, want 3 questions", rep)
	}
	topics := rep["topics"].([]any)
	if len(topics) != 2 {
		t.Fatalf("topics %v, want the two rental questions together and the weather alone", topics)
	}
	first := topics[0].(map[string]any)
	if first["count"] != float64(2) || len(first["examples"].([]any)) != 2 {
		t.Errorf("first topic %v", first)
	}

	agent := r.login(r.addAgent("Ann", handoff.RoleAgent))
	if status, _ := agent.call("GET", "/api/agent/insights/gaps", nil); status != http.StatusForbidden {
		t.Errorf("an agent got %d, want 403", status)
	}
	if status, _ := sup.call("GET", "/api/agent/insights/gaps?since=forever", nil); status != http.StatusBadRequest {
		t.Errorf("since=forever got %d, want 400", status)
	}
	if status, _ := r.anon().call("GET", "/api/agent/insights/gaps", nil); status != http.StatusUnauthorized {
		t.Errorf("anonymous got %d, want 401", status)
	}
}

func TestContentStatusEndpoint(t *testing.T) {
	r := newRig(t, manual)
	sup := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	// The rig serves a plain *kb.KB, which reports no content status.
	if status, _ := sup.call("GET", "/api/agent/insights/content", nil); status != http.StatusServiceUnavailable {
		t.Errorf("got %d, want 503 without a live knowledge base", status)
	}
	agent := r.login(r.addAgent("Ann", handoff.RoleAgent))
	if status, _ := agent.call("GET", "/api/agent/insights/content", nil); status != http.StatusForbidden {
		t.Errorf("an agent got %d, want 403", status)
	}
}
