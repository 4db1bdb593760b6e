package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// withStdin makes the agent commands read input from s.
func withStdin(t *testing.T, s string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(s)
	t.Cleanup(func() { stdin = old })
}

func TestAgentCommandsManageAccounts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "too short\n")
	_, _, err := runCmd(t, "agent", "add", "--data-dir", dir, "--name", "Bo", "--email", "bo@example.com", "--role", "boss")
	var ue usageError
	if !errors.As(err, &ue) {
		t.Errorf("an unknown role: err %v, want a usage error", err)
	}
	withStdin(t, "a long password\n")
	out, _, err := runCmd(t, "agent", "add", "--data-dir", dir, "--name", "Ana", "--email", "Ana@Example.com", "--role", "supervisor", "--teams", "repairs, billing")
	if err != nil || !strings.Contains(out, "ana@example.com") {
		t.Fatalf("agent add: %q, %v", out, err)
	}
	withStdin(t, "another password\n")
	if _, _, err := runCmd(t, "agent", "add", "--data-dir", dir, "--name", "Ana 2", "--email", "ana@example.com"); !errors.As(err, &ue) {
		t.Errorf("a second agent with the same email: err %v, want a usage error", err)
	}
	out, _, err = runCmd(t, "agent", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "supervisor") || !strings.Contains(out, "repairs,billing") || !strings.Contains(out, "active") {
		t.Errorf("agent list:\n%s (%v)", out, err)
	}

	login := func(pw string) error {
		db, err := bolt.Open(filepath.Join(dir, "frontdesk.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, _, err = handoff.NewAgents(db, handoff.AgentsOptions{}).Login(context.Background(), "ana@example.com", pw, "127.0.0.1")
		return err
	}
	if err := login("a long password"); err != nil {
		t.Fatalf("login with the password given on stdin: %v", err)
	}
	withStdin(t, "a new long password\n")
	if _, _, err := runCmd(t, "agent", "passwd", "ana@example.com", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	if err := login("a long password"); !errors.Is(err, handoff.ErrBadCredentials) {
		t.Errorf("the old password still works: %v", err)
	}
	if _, _, err := runCmd(t, "agent", "disable", "ana@example.com", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	if err := login("a new long password"); err == nil {
		t.Error("a disabled agent logged in")
	}
	if _, _, err := runCmd(t, "agent", "enable", "ana@example.com", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	if err := login("a new long password"); err != nil {
		t.Errorf("an enabled agent cannot log in: %v", err)
	}
	if _, _, err := runCmd(t, "agent", "disable", "nobody@example.com", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "no agent") {
		t.Errorf("disabling an unknown agent: %v", err)
	}
}

func TestCustomerCommandsShowAndSetAProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := bolt.Open(filepath.Join(dir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := &bot.Customer{ID: "cus_1", Name: "Ana", Email: "ana@example.com", Visits: 2}
	if err := db.SaveCustomer(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// The console's rule: a segment is stored in lower case, and a bad one
	// is refused, as the agent API refuses it.
	if _, _, err := runCmd(t, "customer", "set", "ana@example.com", "--data-dir", dir, "--segment", "very important"); err == nil {
		t.Error("a segment the console refuses was accepted")
	}
	if _, _, err := runCmd(t, "customer", "set", "ana@example.com", "--data-dir", dir, "--segment", "VIP", "--tags", "wholesale, berlin", "--attr", "plan=gold", "--dedicated-agent", "agt_1"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, "customer", "show", "cus_1", "--json", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	var got bot.Customer
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("show --json: %v\n%s", err, out)
	}
	if got.Segment != "vip" || strings.Join(got.Tags, ",") != "wholesale,berlin" || got.Attrs["plan"] != "gold" || got.DedicatedAgent != "agt_1" || got.Name != "Ana" {
		t.Errorf("after set: %+v", got)
	}
	if _, _, err := runCmd(t, "customer", "set", "cus_1", "--data-dir", dir, "--segment", "-", "--attr", "plan="); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runCmd(t, "customer", "show", "cus_1", "--data-dir", dir)
	if strings.Contains(out, "vip") || strings.Contains(out, "gold") || !strings.Contains(out, "Ana") {
		t.Errorf("clearing segment and attribute:\n%s", out)
	}
	if _, _, err := runCmd(t, "customer", "show", "nobody@example.com", "--data-dir", dir); err == nil {
		t.Error("an unknown customer was shown")
	}
	out, _, err = runCmd(t, "customer", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "cus_1") {
		t.Errorf("customer list:\n%s (%v)", out, err)
	}
}

// TestAdminCommandsWorkWhileServeRuns: the quick start's "agent add" and
// the customer commands go through the running server's admin socket,
// and the agent they add can log in to that server's console at once.
func TestAdminCommandsWorkWhileServeRuns(t *testing.T) {
	// Longer than a unix socket's path may be (108 bytes).
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), "data")
	base, stop := serveStoppableIn(t, dir)
	st, err := os.Stat(filepath.Join(dir, adminSocketName))
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v, %v; want a socket with mode 0600", st, err)
	}
	withStdin(t, "a long password\n")
	out, _, err := runCmd(t, "agent", "add", "--data-dir", dir, "--name", "Ana", "--email", "ana@example.com", "--role", "admin")
	if err != nil || !strings.Contains(out, "added agt_") {
		t.Fatalf("agent add while serve runs: %q, %v", out, err)
	}
	withStdin(t, "another password\n")
	if _, _, err := runCmd(t, "agent", "add", "--data-dir", dir, "--name", "Ana", "--email", "ana@example.com"); !errors.As(err, new(usageError)) {
		t.Errorf("a taken email through the socket: %v, want a usage error", err)
	}
	resp, err := http.Post(base+"/api/agent/login", "application/json", strings.NewReader(`{"email":"ana@example.com","password":"a long password"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || login.Token == "" {
		t.Fatalf("the new agent's console login: %s", resp.Status)
	}
	// A second agent, disabled through the socket while its console is
	// open: the console is closed at once, as when an admin disables it
	// in the console.
	withStdin(t, "a long password\n")
	if _, _, err := runCmd(t, "agent", "add", "--data-dir", dir, "--name", "Bo", "--email", "bo@example.com"); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post(base+"/api/agent/login", "application/json", strings.NewReader(`{"email":"bo@example.com","password":"a long password"}`))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/agent/ws", http.Header{"Authorization": {"Bearer " + login.Token}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if out, _, err := runCmd(t, "agent", "disable", "bo@example.com", "--data-dir", dir); err != nil || !strings.Contains(out, "disabled") {
		t.Fatalf("agent disable while serve runs: %q, %v", out, err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Errorf("the disabled agent's console websocket: %v, want closed (policy violation)", err)
			}
			break
		}
	}
	out, _, err = runCmd(t, "agent", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "ana@example.com") {
		t.Errorf("agent list while serve runs: %q, %v", out, err)
	}
	if _, _, err := runCmd(t, "customer", "show", "nobody@example.com", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "no customer") {
		t.Errorf("customer show of an unknown customer while serve runs: %v", err)
	}

	file := filepath.Join(t.TempDir(), "copy.db")
	out, _, err = runCmd(t, "backup", file, "--data-dir", dir)
	if err != nil || !strings.Contains(out, "2 agents") {
		t.Errorf("backup while serve runs: %q, %v", out, err)
	}

	// Stopped, the same commands work on the file.
	stop()
	if _, err := os.Stat(filepath.Join(dir, adminSocketName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the admin socket outlives serve: %v", err)
	}
	out, _, err = runCmd(t, "agent", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "ana@example.com") {
		t.Errorf("agent list after serve stopped: %q, %v", out, err)
	}
}

// TestASecondServeFailsAtOnce: a second serve (or index) on a data
// directory in use says so at once instead of waiting on its locks.
func TestASecondServeFailsAtOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	serveStoppableIn(t, dir)
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir},
		{"index", "--data-dir", dir},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var out, errb strings.Builder
		start := time.Now()
		err := run(ctx, args, &out, &errb)
		cancel()
		want := fmt.Sprintf("data directory in use by process %d (frontdesk serve", os.Getpid())
		if err == nil || !strings.Contains(err.Error(), want) || time.Since(start) > 4*time.Second {
			t.Errorf("%s on a busy data directory: %v after %v, want %q at once", args[0], err, time.Since(start), want)
		}
	}
}
