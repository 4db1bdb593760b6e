package watch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// calls are the calls of a watch the test runs, until it ends.
type calls struct {
	t *testing.T
	c chan struct{}
}

// watching runs watch (Dir or watchDir on the test's directory) with a
// changed that counts calls, until the test ends, and checks that it then
// returns without an error.
func watching(t *testing.T, watch func(ctx context.Context, changed func()) error) *calls {
	ctx, cancel := context.WithCancel(context.Background())
	cs := &calls{t: t, c: make(chan struct{}, 10)}
	done := make(chan error, 1)
	go func() { done <- watch(ctx, func() { cs.c <- struct{}{} }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return cs
}

// wait waits for a call after what was done.
func (cs *calls) wait(what string) {
	cs.t.Helper()
	select {
	case <-cs.c:
	case <-time.After(5 * time.Second):
		cs.t.Fatalf("no call after %s", what)
	}
}

// quiet checks that no call comes for a while.
func (cs *calls) quiet(what string) {
	cs.t.Helper()
	select {
	case <-cs.c:
		cs.t.Fatalf("a call %s", what)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestDirCallsOnceABurstAndWatchesNewDirectories(t *testing.T) {
	dir := t.TempDir()
	cs := watching(t, func(ctx context.Context, changed func()) error {
		return Dir(ctx, dir, 100*time.Millisecond, 0, changed)
	})
	time.Sleep(100 * time.Millisecond) // the watch is set up
	// A burst of writes is one call.
	for i := range 5 {
		os.WriteFile(filepath.Join(dir, "a.md"), []byte{byte('a' + i)}, 0o644)
	}
	cs.wait("a burst of writes")
	cs.quiet("more for one burst")
	// A new directory is watched: a file written in it is seen.
	sub := filepath.Join(dir, "articles")
	os.Mkdir(sub, 0o755)
	cs.wait("a new directory")
	time.Sleep(50 * time.Millisecond)
	os.WriteFile(filepath.Join(sub, "b.md"), []byte("b"), 0o644)
	cs.wait("a file in the new directory")
}

// TestARescanDoesNotRepeatWhatAnEventTold watches with both: a change
// the kernel's events brought is one call, not a second one at the next
// rescan.
func TestARescanDoesNotRepeatWhatAnEventTold(t *testing.T) {
	dir := t.TempDir()
	cs := watching(t, func(ctx context.Context, changed func()) error {
		return Dir(ctx, dir, 20*time.Millisecond, 100*time.Millisecond, changed)
	})
	time.Sleep(100 * time.Millisecond) // the watch is set up
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("a"), 0o644)
	cs.wait("a write")
	cs.quiet("from the rescan for a change an event had brought")
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
	cs := watching(t, func(ctx context.Context, changed func()) error {
		return watchDir(ctx, dir, 20*time.Millisecond, 50*time.Millisecond, false, changed)
	})
	cs.quiet("while nothing changed")
	later := time.Now().Add(time.Minute)
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("b"), 0o644) // same size
	os.Chtimes(filepath.Join(dir, "a.md"), later, later)
	cs.wait("a changed file")
	os.WriteFile(filepath.Join(dir, "b.md"), []byte("b"), 0o644)
	cs.wait("a new file")
	os.Remove(filepath.Join(dir, "a.md"))
	cs.wait("a removed file")
	cs.quiet("once the changes were seen")
}
