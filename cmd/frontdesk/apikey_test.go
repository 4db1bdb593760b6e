package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/bolt"
)

func TestIdentitySecretIsFreshEachTime(t *testing.T) {
	a, _, err := runCmd(t, "identity", "secret")
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := runCmd(t, "identity", "secret")
	if len(strings.TrimSpace(a)) != 64 || a == b {
		t.Errorf("secrets %q and %q, want two different 64 hex digits", a, b)
	}
}

func TestAPIKeyCommandsAddListRevoke(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runCmd(t, "apikey", "add", "--name", "shop backend", "--scope", "write", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSpace(out)
	id, _, ok := bot.ParseAPIKey(text)
	if !ok {
		t.Fatalf("add printed %q, want a key", out)
	}
	if _, _, err := runCmd(t, "apikey", "add", "--name", "x", "--scope", "admin", "--data-dir", dir); err == nil {
		t.Error("a key with scope admin was made")
	}
	list, _, err := runCmd(t, "apikey", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(list, id) || !strings.Contains(list, "write") || strings.Contains(list, text) {
		t.Errorf("list %q %v", list, err)
	}
	if _, _, err := runCmd(t, "apikey", "revoke", id, "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := bot.CheckAPIKey(context.Background(), db, text); err == nil {
		t.Error("a revoked key still works")
	}
}

// TestAPIKeyCommandsWorkWhileServeRuns: with serve holding the data
// directory, the apikey commands go through its admin socket and print
// what they print on the file; the key works on serve's customer API.
func TestAPIKeyCommandsWorkWhileServeRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	base, stop := serveStoppableIn(t, dir)
	out, errOut, err := runCmd(t, "apikey", "add", "--name", "shop backend", "--data-dir", dir)
	if err != nil {
		t.Fatalf("apikey add while serve runs: %v", err)
	}
	text := strings.TrimSpace(out)
	id, _, ok := bot.ParseAPIKey(text)
	if !ok || !strings.Contains(errOut, "API key "+id+" (shop backend, read) created") {
		t.Fatalf("add printed %q and %q, want the key and its note", out, errOut)
	}
	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/customers/nobody", nil)
		req.Header.Set("Authorization", "Bearer "+text)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != http.StatusNotFound {
		t.Errorf("the new key on serve's customer API: %d, want 404 (accepted, no such customer)", code)
	}
	list, _, err := runCmd(t, "apikey", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(list, id) || !strings.Contains(list, "shop backend") {
		t.Errorf("list while serve runs: %q %v", list, err)
	}
	if _, _, err := runCmd(t, "apikey", "revoke", "key_nope", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), `no API key "key_nope"`) {
		t.Errorf("revoking an unknown key: %v", err)
	}
	out, _, err = runCmd(t, "apikey", "revoke", id, "--data-dir", dir)
	if err != nil || out != "API key "+id+" (shop backend) revoked\n" {
		t.Errorf("revoke while serve runs: %q %v", out, err)
	}
	if code := get(); code != http.StatusUnauthorized {
		t.Errorf("the revoked key on serve's customer API: %d, want 401", code)
	}
	stop()
	after, _, err := runCmd(t, "apikey", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(after, id) {
		t.Errorf("list on the file after serve stopped: %q %v", after, err)
	}
}
