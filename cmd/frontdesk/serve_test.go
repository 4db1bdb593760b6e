package main

import (
	"errors"
	"flag"
	"io"
	"path/filepath"
	"runtime/debug"
	"slices"
	"testing"
)

func TestServeReadsTheWebLimitSettings(t *testing.T) {
	t.Run("flags and their environment twins", func(t *testing.T) {
		t.Setenv("FRONTDESK_TRUST_PROXY", "true")
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg := serveSettings(fs)
		if _, err := cfg.parse([]string{"--limit-exempt", "127.0.0.1, ::1,10.1.2.3/8"}); err != nil {
			t.Fatal(err)
		}
		o, err := webOptions(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range o.LimitExempt {
			got = append(got, p.String())
		}
		if !o.TrustProxy || !slices.Equal(got, []string{"127.0.0.1/32", "::1/128", "10.0.0.0/8"}) {
			t.Errorf("trust proxy %v, exempt %q", o.TrustProxy, got)
		}
	})
	for _, tc := range []struct{ env, value string }{
		{"FRONTDESK_LIMIT_EXEMPT", "localhost"},
		{"FRONTDESK_LIMIT_EXEMPT", "10.0.0.0/33"},
		{"FRONTDESK_TRUST_PROXY", "maybe"},
	} {
		t.Run(tc.env+"="+tc.value+" is a usage error", func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			_, _, err := runCmd(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "data"))
			if !errors.As(err, new(usageError)) {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}
}

// serve collects garbage at GOGC=200 unless the operator set GOGC.
func TestServeTunesTheGarbageCollectorUnlessGOGCIsSet(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	t.Setenv("GOGC", "")
	tuneGC()
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Errorf("GC percent %d without GOGC, want %d", got, serveGCPercent)
	}
	t.Setenv("GOGC", "50")
	tuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d with GOGC set, want it left alone (100)", got)
	}
}
