package main

import (
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp: -h and --help print help that shows the
// command line and exit 0 (nil or flag.ErrHelp, which main turns into
// exit 0), for every command.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, cmd := range [][]string{
		{"help"}, {"serve"}, {"ask"}, {"eval"}, {"index"}, {"bench"}, {"backup"},
		{"agent"}, {"agent", "add"}, {"agent", "list"}, {"agent", "passwd"},
		{"customer"}, {"customer", "set"}, {"customer", "forget"},
		{"gaps"}, {"identity"}, {"apikey"}, {"apikey", "add"}, {"migrate"},
	} {
		for _, h := range []string{"-h", "--help"} {
			args := append(append([]string{}, cmd...), h)
			if cmd[0] == "help" {
				args = cmd
			}
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				out, errOut, err := runCmd(t, args...)
				if err != nil && !errors.Is(err, flag.ErrHelp) {
					t.Errorf("err = %v, want help and exit 0", err)
				}
				if !strings.Contains(out+errOut, "Usage") {
					t.Errorf("no help printed:\n%s%s", out, errOut)
				}
				if strings.Contains(out+errOut, "Usage of ") {
					t.Errorf("the flag package's bare help, without the command line:\n%s%s", out, errOut)
				}
			})
		}
	}
}

func TestTheUsageNamesTheRealFlags(t *testing.T) {
	out, _, err := runCmd(t, "help")
	if err != nil || !strings.Contains(out, "--data-dir DIR") || strings.Contains(out, "--data DIR") {
		t.Errorf("usage (%v):\n%s", err, out)
	}
}

// TestTheHelpDescribesStore: the commands that take --store say what it
// is, in their own help and in the overview.
func TestTheHelpDescribesStore(t *testing.T) {
	for _, cmd := range [][]string{{"help"}, {"agent", "--help"}, {"customer", "--help"}, {"apikey", "--help"}} {
		out, errOut, _ := runCmd(t, cmd...)
		if help := out + errOut; !strings.Contains(help, "--store postgres://") || !strings.Contains(help, "PostgreSQL") {
			t.Errorf("%s: the help does not describe --store:\n%s", strings.Join(cmd, " "), help)
		}
	}
}

// TestMistakesGetShortErrorsWithHints: a newcomer's mistake is one short
// error (no page of usage) that says how to fix it.
func TestMistakesGetShortErrorsWithHints(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--bogus"}, `run "frontdesk serve --help" for the flags`},
		{[]string{"agent", "add", "--nmae", "Ana"}, `run "frontdesk agent add --help" for the flags`},
		{[]string{"bogus"}, `run "frontdesk help"`},
		{[]string{"agent", "frob"}, `frontdesk agent --help`},
		{[]string{"agent"}, `agent needs add, list, passwd, disable or enable`},
		{[]string{"customer", "frob"}, `want list, show, set, export or forget (see "frontdesk customer --help")`},
		{[]string{"apikey"}, `apikey needs add, list or revoke (see "frontdesk apikey --help")`},
		{[]string{"apikey", "frob"}, `unknown apikey command "frob"`},
		{[]string{"serve", "--data-dir", dir, "--timezone", "Berlin"}, `did you mean "Europe/Berlin"?`},
		{[]string{"serve", "--data-dir", dir, "--timezone", "new york"}, `"America/New_York"`},
		{[]string{"serve", "--data-dir", dir, "--business-hours", "mon-fri 09:00-17:00, sat 10:00-14:00"},
			`days are separated by ";", not ",": "mon-fri 09:00-17:00; sat 10:00-14:00"`},
		{[]string{"customer", "set", "ana@example.com", "--data-dir", dir, "--segment", "very important"}, "segment"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errOut, err := runCmd(t, tc.args...)
			if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a usage error with %q", err, tc.want)
			}
			if errOut != "" {
				t.Errorf("printed besides the error:\n%s", errOut)
			}
		})
	}
}

// TestServesHintRunsTheSameBinary: started as ./frontdesk (the README's
// quick start), serve's hint to add an agent says ./frontdesk, which works
// from the same directory; installed, it says frontdesk.
func TestServesHintRunsTheSameBinary(t *testing.T) {
	for arg0, want := range map[string]string{
		"./frontdesk":              "./frontdesk",
		"bin/frontdesk":            "bin/frontdesk",
		"frontdesk":                "frontdesk",
		"/usr/local/bin/frontdesk": "frontdesk",
	} {
		if got := commandName(arg0); got != want {
			t.Errorf("commandName(%q) = %q, want %q", arg0, got, want)
		}
	}
}
