// Package watch tells when files under a directory change. It is the only
// importer of fsnotify.
package watch

import (
	"context"
	"fmt"
	"io/fs"
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
func Dir(ctx context.Context, dir string, settle time.Duration, changed func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	defer w.Close()
	if err := addTree(w, dir); err != nil {
		return err
	}
	timer := time.NewTimer(settle)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
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
			changed()
		}
	}
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
