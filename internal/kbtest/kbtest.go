// Package kbtest builds the knowledge base of kb/testdata/shop, the small
// shop content the adapters', stores' and commands' tests answer from,
// and of the demo content (content/). Only tests import it.
package kbtest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/frontdesk/frontdesk/kb"
)

// Build builds the shop content's knowledge base in memory; the caller
// closes it (for a TestMain, which has no t).
func Build() (*kb.KB, error) {
	return build("kb", "testdata", "shop")
}

// build builds the knowledge base of the content directory at path (from
// the repository's root).
func build(path ...string) (*kb.KB, error) {
	_, file, _, _ := runtime.Caller(0)
	c, err := kb.Load(os.DirFS(filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, path...)...)))
	if err != nil {
		return nil, err
	}
	return kb.Build(context.Background(), c, kb.Options{})
}

// Main is a TestMain for a package whose tests share one knowledge base
// of the shop content: it builds it into *shared, runs the tests, closes
// it and exits with their code.
func Main(m *testing.M, shared **kb.KB) {
	k, err := Build()
	if err != nil {
		panic(err)
	}
	*shared = k
	code := m.Run()
	k.Close()
	os.Exit(code)
}

// Shop builds the shop content's knowledge base, closed when t ends.
func Shop(t testing.TB) *kb.KB {
	t.Helper()
	return closed(t)(Build())
}

// Demo builds the demo content's knowledge base (what serve answers from
// without --content), closed when t ends.
func Demo(t testing.TB) *kb.KB {
	t.Helper()
	return closed(t)(build("content"))
}

// closed fails t on err, and closes k when t ends.
func closed(t testing.TB) func(*kb.KB, error) *kb.KB {
	return func(k *kb.KB, err error) *kb.KB {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { k.Close() })
		return k
	}
}
