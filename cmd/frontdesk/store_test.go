package main

import (
	"errors"
	"strings"
	"testing"
)

// serve refuses a PostgreSQL store it cannot yet run on whole, saying
// what is missing, before it opens anything, and never echoes the URL
// (it may hold a password).
func TestServeRefusesAPostgresStoreForNow(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"serve", "--data-dir", dir, "--store", "postgres://frontdesk:s3cret@db.example/frontdesk"},
		{"serve", "--data-dir", dir},
	} {
		if len(args) == 3 {
			t.Setenv("FRONTDESK_STORE", "postgresql://frontdesk:s3cret@db.example/frontdesk")
		}
		_, stderr, err := runCmd(t, args...)
		if !errors.Is(err, errPostgresNotYet) {
			t.Fatalf("%v: err = %v, want the not-yet refusal", args, err)
		}
		for _, want := range []string{"not yet supported", "Telegram", "backups", "leave --store empty"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not say %q: %v", want, err)
			}
		}
		if strings.Contains(err.Error()+stderr, "s3cret") {
			t.Error("the refusal echoed the URL's password")
		}
	}
	t.Setenv("FRONTDESK_STORE", "")
	_, _, err := runCmd(t, "serve", "--data-dir", dir, "--store", "mysql://x")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("a store that is not PostgreSQL: %v, want a usage error", err)
	}
}
