package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestJSONLogsCarryConversationsAndNoText runs a conversation through a
// hand-off and an agent's reply with --log-format json: every line is a
// JSON object, those about the conversation carry its id as
// "conversation", and no line holds what the customer or the agent wrote.
func TestJSONLogsCarryConversationsAndNoText(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "a long password\n")
	if _, errs, err := runCmd(t, "agent", "add", "--data-dir", dataDir, "--name", "Maria", "--email", "maria@example.com"); err != nil {
		t.Fatalf("agent add: %v\n%s", err, errs)
	}
	p := serveInProcess(t, dataDir, "--log-format", "json", "--manual-assign", "true")
	const customerSecret, agentSecret = "zebra-4411", "okapi-9922"
	c := dialCustomer(t, p.base)
	c.say("my order "+customerSecret+" never came", "")
	c.until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "bot" })
	c.say("I want to talk to a human about order "+customerSecret, "")
	c.until(botSays("connecting you with a person"))
	token := loginToken(t, p.base, "maria@example.com", "a long password")
	conv := "/api/agent/conversations/" + c.conv
	if code := agentAPI(t, p.base, token, "POST", conv+"/claim", nil, nil); code != http.StatusOK {
		t.Fatalf("claim: %d", code)
	}
	if code := agentAPI(t, p.base, token, "POST", conv+"/messages", map[string]any{"text": "Order " + agentSecret + " is on its way"}, nil); code != http.StatusCreated {
		t.Fatalf("reply: %d", code)
	}
	c.until(from("agent", agentSecret))
	if err, _ := p.stop(); err != nil {
		t.Fatal(err)
	}

	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	var about []string // messages of the lines about the conversation
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("line %d is not JSON: %v\n%s", i+1, err, line)
			continue
		}
		if rec["level"] == nil || rec["msg"] == nil || rec["time"] == nil {
			t.Errorf("line %d lacks time, level or msg: %s", i+1, line)
		}
		if strings.Contains(line, customerSecret) || strings.Contains(line, agentSecret) {
			t.Errorf("line %d holds message text: %s", i+1, line)
		}
		if rec["conversation"] == c.conv {
			about = append(about, fmt.Sprint(rec["msg"]))
		}
	}
	for _, msg := range []string{"handoff", "ticket queued", "conversation claimed", "agent message"} {
		if !slices.Contains(about, msg) {
			t.Errorf("no %q line with conversation=%s; lines about it: %q\n%s", msg, c.conv, about, p.stderr.String())
		}
	}
}

func TestLogFormatIsTextOrJSON(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	_, _, err := runCmd(t, "serve", "--log-format", "xml", "--data-dir", data)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "log-format") {
		t.Errorf("--log-format xml: %v, want a usage error", err)
	}
	t.Setenv("FRONTDESK_LOG_FORMAT", "yaml")
	if _, _, err := runCmd(t, "serve", "--data-dir", data); !errors.As(err, &ue) || !strings.Contains(err.Error(), `"yaml"`) {
		t.Errorf("FRONTDESK_LOG_FORMAT=yaml: %v, want a usage error", err)
	}
	var b strings.Builder
	log, err := newLogger(&b, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden")
	log.Info("shown", "conversation", "con_1")
	var rec map[string]any
	if err := json.Unmarshal([]byte(b.String()), &rec); err != nil || rec["msg"] != "shown" || rec["conversation"] != "con_1" {
		t.Errorf("a JSON log line: %q (%v)", b.String(), err)
	}
}
