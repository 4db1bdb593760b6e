package console_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

func TestStatsEndpoint(t *testing.T) {
	r := newRig(t, manual)
	ctx := context.Background()
	// One customer is answered and says it helped; one asks for a person.
	s, err := r.engine.Start(ctx, bot.Identity{Channel: bot.Web, ID: "v1"}, bot.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: "how can i track my package"})
	r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: "Yes", Payload: bot.PayloadHelpfulYes})
	conv, _ := handedOff(t, r, "v2", "where is my package")
	sup := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	sup.must(http.StatusOK, "POST", conversationPath(conv, "claim"), nil)
	sup.must(http.StatusCreated, "POST", conversationPath(conv, "messages"), map[string]any{"text": "Hi, Sue here."})

	today := time.Now().UTC().Format("2006-01-02")
	out := sup.must(http.StatusOK, "GET", "/api/agent/stats?from="+today+"&to="+today, nil)
	if out["conversations"] != float64(2) || out["deflected"] != float64(1) || out["deflection_rate"] != 0.5 {
		t.Errorf("stats %v", out)
	}
	if out["handoffs"].(map[string]any)["requested"] != float64(1) {
		t.Errorf("hand-offs %v", out["handoffs"])
	}
	if fr := out["first_response_seconds"].(map[string]any); fr["count"] != float64(1) {
		t.Errorf("first response %v", fr)
	}
	help := out["helpfulness"].([]any)
	if len(help) != 1 || help[0].(map[string]any)["article_id"] != "track-order" || help[0].(map[string]any)["title"] == "" {
		t.Errorf("helpfulness %v", help)
	}
	if days := out["days"].([]any); len(days) != 1 {
		t.Errorf("days %v", days)
	}
	if def := sup.must(http.StatusOK, "GET", "/api/agent/stats", nil); len(def["days"].([]any)) != 7 {
		t.Errorf("the default period has %d days, want 7", len(def["days"].([]any)))
	}

	resp, err := http.DefaultClient.Do(sup.request("GET", "/api/agent/stats?from="+today+"&to="+today+"&format=csv", nil))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != 2 || rows[0][0] != "day" || rows[1][0] != today || rows[1][1] != "2" {
		t.Errorf("CSV %v %v %q", err, resp.Header, rows)
	}

	for _, bad := range []string{"?from=yesterday", "?from=2026-11-10&to=2026-11-01", "?from=2020-01-01&to=2026-01-01", "?format=xml"} {
		if status, _ := sup.call("GET", "/api/agent/stats"+bad, nil); status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, status)
		}
	}
	agent := r.login(r.addAgent("Ann", handoff.RoleAgent))
	if status, _ := agent.call("GET", "/api/agent/stats", nil); status != http.StatusForbidden {
		t.Errorf("an agent got %d, want 403", status)
	}
}
