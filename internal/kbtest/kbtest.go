// Package kbtest builds the knowledge base of kb/testdata/shop, the small
// shop content the adapters', stores' and commands' tests answer from.
// Only tests import it.
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
	_, file, _, _ := runtime.Caller(0)
	c, err := kb.Load(os.DirFS(filepath.Join(filepath.Dir(file), "..", "..", "kb", "testdata", "shop")))
	if err != nil {
		return nil, err
	}
	return kb.Build(context.Background(), c, kb.Options{})
}

// Shop builds the shop content's knowledge base, closed when t ends.
func Shop(t testing.TB) *kb.KB {
	t.Helper()
	k, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}
