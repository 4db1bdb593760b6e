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
	go func() { done <- Dir(ctx, dir, 100*time.Millisecond, 0, func() { calls <- struct{}{} }) }()
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

// TestARescanDoesNotRepeatWhatAnEventTold watches with both: a change
// the kernel's events brought is one call, not a second one at the next
// rescan.
func TestARescanDoesNotRepeatWhatAnEventTold(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() {
		done <- Dir(ctx, dir, 20*time.Millisecond, 100*time.Millisecond, func() { calls <- struct{}{} })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(100 * time.Millisecond) // the watch is set up
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("a"), 0o644)
	select {
	case <-calls:
	case <-time.After(5 * time.Second):
		t.Fatal("no call after a write")
	}
	select {
	case <-calls:
		t.Error("the rescan called again for a change an event had brought")
	case <-time.After(500 * time.Millisecond):
	}
}

func TestDirFailsOnAMissingDirectory(t *testing.T) {
	if err := Dir(context.Background(), filepath.Join(t.TempDir(), "nope"), time.Millisecond, time.Second, func() {}); err == nil {
		t.Error("watching a missing directory did not fail")
	}
}

// TestARescanSeesWhatNoEventTold watches without the kernel's events, as
// on a directory another machine writes to: a changed file, a new one and
// a removed one are each seen at the next rescan; nothing changed, no
// call.
func TestARescanSeesWhatNoEventTold(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("a"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() {
		done <- watchDir(ctx, dir, 20*time.Millisecond, 50*time.Millisecond, false, func() { calls <- struct{}{} })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	quiet := func(what string) {
		t.Helper()
		select {
		case <-calls:
			t.Fatalf("a call %s", what)
		case <-time.After(300 * time.Millisecond):
		}
	}
	wait := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(5 * time.Second):
			t.Fatalf("no call after %s", what)
		}
	}
	quiet("while nothing changed")
	later := time.Now().Add(time.Minute)
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("b"), 0o644) // same size
	os.Chtimes(filepath.Join(dir, "a.md"), later, later)
	wait("a changed file")
	os.WriteFile(filepath.Join(dir, "b.md"), []byte("b"), 0o644)
	wait("a new file")
	os.Remove(filepath.Join(dir, "a.md"))
	wait("a removed file")
	quiet("once the changes were seen")
}
