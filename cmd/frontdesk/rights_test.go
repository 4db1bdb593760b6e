package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/store/records"
	"github.com/gorilla/websocket"
)

// webVisitor is a web chat customer on the customer websocket.
type webVisitor struct {
	t    *testing.T
	ws   *websocket.Conn
	conv string
	n    int
}

func visit(t *testing.T, base string) *webVisitor {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", http.Header{"Origin": {base}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	v := &webVisitor{t: t, ws: ws}
	v.send(map[string]any{"type": "hello", "token": "", "last_seq": 0})
	v.conv = v.until("welcome", "").ConversationID
	return v
}

func (v *webVisitor) send(f map[string]any) {
	v.t.Helper()
	if err := v.ws.WriteJSON(f); err != nil {
		v.t.Fatal(err)
	}
}

// until reads frames until one of the type (and, if id is set, that id).
func (v *webVisitor) until(typ, id string) frame {
	v.t.Helper()
	v.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f frame
		if err := v.ws.ReadJSON(&f); err != nil {
			v.t.Fatalf("webVisitor: %v", err)
		}
		if f.Type == typ && (id == "" || f.ID == id) {
			return f
		}
	}
}

// say sends a message and waits until it is stored (acknowledged).
func (v *webVisitor) say(text string) {
	v.t.Helper()
	v.n++
	id := fmt.Sprint("m", v.n)
	v.send(map[string]any{"type": "message", "id": id, "text": text})
	v.until("ack", id)
}

// api calls the agent API with a bearer token and returns the status and
// the body.
func api(t *testing.T, method, url, token string) (int, []byte) {
	t.Helper()
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader("{}")
	}
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// someone is a customer with words of their own, to look for afterwards.
type someone struct{ name, email, sentence string }

// chatAs has a new webVisitor give their name and email and write the
// sentence among other messages, and returns the conversation id.
func chatAs(t *testing.T, base string, p someone) string {
	t.Helper()
	v := visit(t, base)
	v.send(map[string]any{"type": "profile", "name": p.name, "email": p.email})
	v.say("hello")
	v.say(p.sentence)
	v.say("how long does delivery take")
	v.say("thanks")
	return v.conv
}

// TestForgetLeavesNoTraceInTheDatabaseFile erases one customer through
// the agent API while the server runs, and another with the CLI while it
// is stopped; each time the raw database file is then searched for what
// they wrote and who they are.
func TestForgetLeavesNoTraceInTheDatabaseFile(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	dbFile := filepath.Join(dataDir, "frontdesk.db")
	withStdin(t, "a long password\n")
	if _, _, err := runCmd(t, "agent", "add", "--data-dir", dataDir, "--name", "Root", "--email", "root@example.com", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	base, stop := serveStoppableIn(t, dataDir, "--manual-assign", "true")
	zelda := someone{"Zelda Quarrington", "zelda.q@example.org", "my violet lampshade from the Wexford warehouse arrived with a dent"}
	otto := someone{"Otto Brandvold", "otto.b@example.net", "the brass floor lamp in the Tromso flat hums at night"}
	zconv := chatAs(t, base, zelda)
	chatAs(t, base, otto)

	token, err := apiLogin(context.Background(), http.DefaultClient, base, "root@example.com", "a long password")
	if err != nil {
		t.Fatal(err)
	}
	status, data := api(t, "GET", base+"/api/agent/conversations/"+zconv, token)
	var cv struct {
		Conversation struct {
			CustomerID string `json:"customer_id"`
			State      string `json:"state"`
		} `json:"conversation"`
	}
	if err := json.Unmarshal(data, &cv); err != nil || status != http.StatusOK {
		t.Fatalf("conversation: %d %s", status, data)
	}
	if cv.Conversation.State != "bot" { // the bot may have handed off: give it back
		api(t, "POST", base+"/api/agent/conversations/"+zconv+"/claim", token)
		api(t, "POST", base+"/api/agent/conversations/"+zconv+"/return-to-bot", token)
	}
	admin := base + "/api/agent/admin/customers/" + cv.Conversation.CustomerID

	status, data = api(t, "GET", admin+"/export", token)
	if status != http.StatusOK || !bytes.Contains(data, []byte(zelda.sentence)) || !bytes.Contains(data, []byte(zelda.email)) {
		t.Fatalf("export: %d %.300s", status, data)
	}
	t.Run("the CLI still finds the customer while serve runs", func(t *testing.T) {
		out, _, err := runCmd(t, "customer", "show", zelda.email, "--data-dir", dataDir)
		if err != nil || !strings.Contains(out, cv.Conversation.CustomerID) {
			t.Errorf("customer show through the admin socket: %q, %v", out, err)
		}
	})
	start := time.Now()
	if status, data = api(t, "POST", admin+"/forget", token); status != http.StatusOK {
		t.Fatalf("forget: %d %s", status, data)
	}
	t.Logf("forget through the API: %s in %v", bytes.TrimSpace(data), time.Since(start).Round(time.Millisecond))
	if status, _ = api(t, "GET", admin+"/export", token); status != http.StatusNotFound {
		t.Errorf("export after forget: %d", status)
	}
	stop()
	if found := rawFileHolds(t, dbFile, zelda.sentence, zelda.name, zelda.email); len(found) > 0 {
		t.Errorf("after forget through the API the database file still holds %q", found)
	}
	if found := rawFileHolds(t, dbFile, otto.sentence, otto.email); len(found) != 2 {
		t.Fatalf("the other customer's data is gone too (only %q left)", found)
	}

	// Serve is stopped: the CLI opens the file.
	out, _, err := runCmd(t, "customer", "export", otto.email, "--data-dir", dataDir)
	var exp records.Export
	if err != nil || json.Unmarshal([]byte(out), &exp) != nil || exp.Customer.Name != otto.name || len(exp.Conversations) != 1 {
		t.Fatalf("customer export: %v\n%.300s", err, out)
	}
	var ue usageError
	if _, _, err := runCmd(t, "customer", "forget", otto.email, "--data-dir", dataDir); !errors.As(err, &ue) {
		t.Errorf("forget without --yes: %v, want a usage error", err)
	}
	out, _, err = runCmd(t, "customer", "forget", otto.email, "--yes", "--data-dir", dataDir)
	if err != nil || !strings.Contains(out, "1 conversations") {
		t.Fatalf("customer forget: %q %v", out, err)
	}
	if found := rawFileHolds(t, dbFile, otto.sentence, otto.name, otto.email); len(found) > 0 {
		t.Errorf("after customer forget the database file still holds %q", found)
	}
}

// rawFileHolds returns which of the strings are in the file's bytes, as
// `strings FILE | grep` would find them: in live records or free pages.
func rawFileHolds(t *testing.T, path string, what ...string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, w := range what {
		if bytes.Contains(data, []byte(w)) {
			found = append(found, w)
		}
	}
	return found
}

func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	prefill(t, filepath.Join(dataDir, "frontdesk.db"), 20, 6)
	withStdin(t, "a long password\n")
	if _, _, err := runCmd(t, "agent", "add", "--data-dir", dataDir, "--name", "Root", "--email", "root@example.com", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	withStdin(t, "a long password\n")
	if _, _, err := runCmd(t, "agent", "add", "--data-dir", dataDir, "--name", "Sue", "--email", "sue@example.com", "--role", "supervisor"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "copy.db")
	t.Run("from the file while serve is stopped", func(t *testing.T) {
		out, _, err := runCmd(t, "backup", file, "--data-dir", dataDir)
		if err != nil || !strings.Contains(out, "20 customers, 20 conversations, 120 messages, 2 agents") {
			t.Fatalf("%q %v", out, err)
		}
		os.Remove(file)
	})
	base, _ := serveStoppableIn(t, dataDir, "--manual-assign", "true")
	t.Run("from the data directory while serve runs, through its admin socket", func(t *testing.T) {
		out, _, err := runCmd(t, "backup", file, "--data-dir", dataDir)
		if err != nil || !strings.Contains(out, "20 customers, 20 conversations, 120 messages, 2 agents") {
			t.Fatalf("%q %v", out, err)
		}
		os.Remove(file)
	})
	for _, c := range []struct {
		name, stdin string
		args        []string
		want        string // in the error; "" for success
	}{
		{"a token that is no session is refused", "", []string{"--url", base, "--token", "nonsense"}, "backup refused"},
		{"a supervisor may not", "a long password\n", []string{"--url", base, "--email", "sue@example.com"}, "only admins"},
		{"a wrong password", "wrong password\n", []string{"--url", base, "--email", "root@example.com"}, "log in as root@example.com"},
		{"--email without --url", "", []string{"--email", "root@example.com"}, "go with --url"},
		{"an admin through the server", "a long password\n", []string{"--url", "ws://" + strings.TrimPrefix(base, "http://") + "/ws", "--email", "root@example.com"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			withStdin(t, c.stdin)
			out, _, err := runCmd(t, append([]string{"backup", file}, c.args...)...)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("got %v, want an error with %q", err, c.want)
				}
				if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a failed backup left %s: %v", file, err)
				}
				return
			}
			if err != nil || !strings.Contains(out, "20 customers") {
				t.Fatalf("%q %v", out, err)
			}
			if left, _ := filepath.Glob(file + "*"); len(left) != 1 {
				t.Errorf("files left: %v", left)
			}
		})
	}
}
