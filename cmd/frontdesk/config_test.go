package main

import (
	"flag"
	"io"
	"testing"
)

// TestASettingsUsageNamesItsDefaultOnce: a usage that says its default
// in words is not followed by a second "(default none".
func TestASettingsUsageNamesItsDefaultOnce(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s := newSettings(fs)
	s.add("greeting", "", "first message (default: a built-in greeting)")
	s.add("addr", ":8080", "listen address")
	s.add("content", "", "content directory")
	for name, want := range map[string]string{
		"greeting": "first message (default: a built-in greeting) (env FRONTDESK_GREETING)",
		"addr":     "listen address (default :8080; env FRONTDESK_ADDR)",
		"content":  "content directory (default none; env FRONTDESK_CONTENT)",
	} {
		if got := fs.Lookup(name).Usage; got != want {
			t.Errorf("--%s usage %q, want %q", name, got, want)
		}
	}
}
