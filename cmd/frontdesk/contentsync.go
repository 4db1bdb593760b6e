package main

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/postgres"
)

// contentShare is where the nodes of a cluster keep the article files
// edited in a console (*postgres.DB).
type contentShare interface {
	ShareContentFile(ctx context.Context, name string, data []byte) error
	ContentFiles(ctx context.Context) ([]postgres.ContentFile, error)
	ContentFileData(ctx context.Context, name string) ([]byte, time.Time, error)
}

// contentResync is how often syncContent looks again without being told,
// so that a sync that failed (a file that could not be written) is tried
// again.
const contentResync = time.Minute

// syncContent keeps the content directory dir up to date with the
// article files edited in the consoles of the cluster's nodes, until ctx
// ends: whenever changed is signalled (a node shared a file, or this
// node may have missed that), and every contentResync. The directory's
// watcher re-indexes what it writes.
func syncContent(ctx context.Context, dir string, share contentShare, changed <-chan struct{}, log *slog.Logger) {
	t := time.NewTicker(contentResync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-t.C:
		}
		if _, err := syncContentOnce(ctx, dir, share, log); err != nil && ctx.Err() == nil {
			log.Error("content sync with the other nodes failed; trying again later", "err", err)
		}
	}
}

// syncContentOnce writes into dir each shared article file that differs
// from dir's copy, unless dir's copy is newer (a deployed file wins over
// an older edit), and returns how many it wrote. A file it cannot write
// is logged and left for the next sync.
func syncContentOnce(ctx context.Context, dir string, share contentShare, log *slog.Logger) (int, error) {
	files, err := share.ContentFiles(ctx)
	if err != nil {
		return 0, err
	}
	wrote := 0
	for _, f := range files {
		local := filepath.Join(dir, filepath.FromSlash(f.Name))
		if data, err := os.ReadFile(local); err == nil {
			if sha256.Sum256(data) == f.Sum {
				continue
			}
			if st, err := os.Stat(local); err == nil && st.ModTime().After(f.Written) {
				continue
			}
		}
		data, _, err := share.ContentFileData(ctx, f.Name)
		if err != nil {
			return wrote, err
		}
		if err := kb.WriteArticleFile(dir, f.Name, data); err != nil {
			log.Error("content file edited on another node not written", "file", f.Name, "err", err)
			continue
		}
		log.Info("content file edited on another node written", "file", f.Name)
		wrote++
	}
	return wrote, nil
}
