package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/bolt"
)

func TestTermSafe(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain text is left alone", "Ana Müller <ana@example.com> 😀 C:\\x", "Ana Müller <ana@example.com> 😀 C:\\x"},
		{"an ANSI colour is shown, not obeyed", "\x1b[31mred", `\x1b[31mred`},
		{"a title-setting OSC is shown", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"tabs and newlines cannot break a table", "a\tb\r\nc", `a\x09b\x0d\x0ac`},
		{"DEL and NUL are escaped", "a\x7fb\x00", `a\x7fb\x00`},
		{"a C1 CSI is escaped", "a\u009b31mb", `a\u009b31mb`},
		{"a right-to-left override is escaped", "evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"isolates and marks are escaped", "\u2066\u2067\u2068\u2069\u200e\u200f\u061c", `\u2066\u2067\u2068\u2069\u200e\u200f\u061c`},
		{"line separators are escaped", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"bytes that are not UTF-8 are escaped", "a\xffb\xc3", `a\xffb\xc3`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := termSafe(tc.in); got != tc.want {
				t.Errorf("termSafe(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// hostile is a name a customer or agent might choose to attack whoever
// lists it in a terminal: red text, then a right-to-left override.
const hostile = "Eve\x1b[31m Red\u202eevil\u009b"

// assertInert fails unless out shows the hostile name escaped and holds
// none of its control characters.
func assertInert(t *testing.T, what, out string) {
	t.Helper()
	for _, c := range []string{"\x1b", "\u202e", "\u009b"} {
		if strings.Contains(out, c) {
			t.Errorf("%s prints %q raw:\n%q", what, c, out)
		}
	}
	if !strings.Contains(out, `Eve\x1b[31m Red\u202eevil\u009b`) {
		t.Errorf("%s does not show the name escaped:\n%s", what, out)
	}
}

func TestCommandsPrintNamesWithoutTheirControlCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := bolt.Open(filepath.Join(dir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := &bot.Customer{ID: "cus_1", Name: hostile, Email: "eve@example.com", Attrs: map[string]string{"note": hostile},
		Topics: []bot.Topic{{ArticleID: "x", Title: hostile}}}
	if err := db.SaveCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := handoff.NewAgents(db, handoff.AgentsOptions{PasswordCost: bcrypt.MinCost}).Add(ctx, handoff.NewAgent{
		Name: hostile, Email: "eve@example.com", Role: handoff.RoleAgent, Password: "a long password"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, args := range [][]string{
		{"customer", "list"},
		{"customer", "show", "cus_1"},
		{"agent", "list"},
	} {
		out, _, err := runCmd(t, append(args, "--data-dir", dir)...)
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(args, " "), err)
		}
		assertInert(t, strings.Join(args, " "), out)
	}

	// JSON keeps the name as it is, in escapes a terminal does not obey.
	out, _, err := runCmd(t, "customer", "show", "cus_1", "--json", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"\x1b", "\u202e", "\u009b"} {
		if strings.Contains(out, c) {
			t.Errorf("customer show --json prints %q raw", c)
		}
	}
	var got bot.Customer
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != hostile || got.Topics[0].Title != hostile {
		t.Errorf("customer show --json: name %q, want %q", got.Name, hostile)
	}
}
