package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/kb"
)

// demoIndex is the demo content's stored knowledge base, built once per
// test process into a temporary directory (removed by TestMain).
var demoIndex struct {
	once sync.Once
	dir  string
	err  error
}

// seedKB copies the demo content's stored knowledge base into
// dataDir/kb before serve starts there, unless the flags name other
// content or the directory has an index already. Building it under
// -race takes seconds a time; serve reuses an index stored for the same
// content (kb.Open checks the content hash) exactly as on its second
// start, so each test still runs the real load path.
func seedKB(t *testing.T, dataDir string, flags []string) {
	t.Helper()
	if slices.ContainsFunc(flags, func(f string) bool { return strings.HasPrefix(strings.TrimLeft(f, "-"), "content") }) {
		return
	}
	dst := filepath.Join(dataDir, "kb")
	if _, err := os.Stat(dst); err == nil {
		return
	}
	demoIndex.once.Do(func() {
		demoIndex.dir, demoIndex.err = buildDemoIndex()
	})
	if demoIndex.err != nil {
		t.Fatalf("build the demo index: %v", demoIndex.err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(demoIndex.dir, "kb"))); err != nil {
		t.Fatalf("copy the demo index: %v", err)
	}
}

// buildDemoIndex stores the embedded demo content's knowledge base in a
// new temporary directory, as serve would in its data directory.
func buildDemoIndex() (string, error) {
	dir, err := os.MkdirTemp("", "frontdesk-demo-index-")
	if err != nil {
		return "", err
	}
	c, err := (&kbFlags{}).readContent()
	if err != nil {
		return dir, err
	}
	k, err := kb.Open(context.Background(), filepath.Join(dir, "kb"), c, kb.Options{})
	if err != nil {
		return dir, err
	}
	return dir, k.Close()
}

// TestMain also stops the throw-away PostgreSQL server that tests
// needing one start (see internal/pgtest).
func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if demoIndex.dir != "" {
		os.RemoveAll(demoIndex.dir)
	}
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}
