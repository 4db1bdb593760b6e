package main

import (
	"context"
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
