package watch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDirCallsOnceABurstAndWatchesNewDirectories(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() { done <- Dir(ctx, dir, 100*time.Millisecond, func() { calls <- struct{}{} }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(100 * time.Millisecond) // the watch is set up
	wait := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(5 * time.Second):
			t.Fatalf("no call after %s", what)
		}
	}
	// A burst of writes is one call.
	for i := range 5 {
		os.WriteFile(filepath.Join(dir, "a.md"), []byte{byte('a' + i)}, 0o644)
	}
	wait("a burst of writes")
	select {
	case <-calls:
		t.Error("a burst made two calls")
	case <-time.After(300 * time.Millisecond):
	}
	// A new directory is watched: a file written in it is seen.
	sub := filepath.Join(dir, "articles")
	os.Mkdir(sub, 0o755)
	wait("a new directory")
	time.Sleep(50 * time.Millisecond)
	os.WriteFile(filepath.Join(sub, "b.md"), []byte("b"), 0o644)
	wait("a file in the new directory")
}

func TestDirFailsOnAMissingDirectory(t *testing.T) {
	if err := Dir(context.Background(), filepath.Join(t.TempDir(), "nope"), time.Millisecond, func() {}); err == nil {
		t.Error("watching a missing directory did not fail")
	}
}
