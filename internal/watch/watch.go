// Package watch tells when files under a directory change. It is the only
// importer of fsnotify.
package watch

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Dir watches dir and every directory under it (new ones included) until
// ctx ends, and calls changed once the tree has been quiet for settle
// after a change: an editor's burst of writes, renames and removes is one
// call. changed runs on Dir's goroutine, one call at a time; changes
// during a call bring one more call after it. Dir returns when ctx ends,
// or at once if dir cannot be watched.
//
// Every rescan (0: never) Dir also compares the tree's files (names,
// sizes, modification times) with its last look and counts a difference
// as a change: the kernel sends no events for what another machine
// writes to a shared directory (a network file system).
func Dir(ctx context.Context, dir string, settle, rescan time.Duration, changed func()) error {
	return watchDir(ctx, dir, settle, rescan, true, changed)
}

// watchDir is Dir, with the kernel's events only when events is set.
func watchDir(ctx context.Context, dir string, settle, rescan time.Duration, events bool, changed func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	defer w.Close()
	if events {
		if err := addTree(w, dir); err != nil {
			return err
		}
	} else if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	var tick <-chan time.Time
	last := looks(dir)
	if rescan > 0 {
		t := time.NewTicker(rescan)
		defer t.Stop()
		tick = t.C
	}
	timer := time.NewTimer(settle)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
			if now := looks(dir); now != last {
				last = now
				timer.Reset(settle)
			}
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				// A new directory is watched too; a plain file errors
				// harmlessly in addTree's walk.
				addTree(w, ev.Name)
			}
			timer.Reset(settle)
		case _, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// An error (most often a queue overflow) may have lost
			// events: call changed to be sure.
			timer.Reset(settle)
		case <-timer.C:
			if tick != nil {
				// What an event already brought is no news to the
				// next rescan.
				last = looks(dir)
			}
			changed()
		}
	}
}

// looks sums up the files under root as they look: their names, sizes
// and modification times. Files that cannot be read are left out.
func looks(root string) uint64 {
	h := fnv.New64a()
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", p, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return h.Sum64()
}

// addTree watches root and the directories under it.
func addTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := w.Add(p); err != nil {
				return fmt.Errorf("watch %s: %w", p, err)
			}
		}
		return nil
	})
}
