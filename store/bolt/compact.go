package bolt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Erased bytes and free pages. bbolt never changes a page in place: a
// transaction writes the pages it changed to new places and frees the old
// ones, whose bytes stay in the file until bbolt happens to reuse them.
// So after a customer's messages are deleted their text is still readable
// in the file, and in every backup (which copies free pages too). An
// erasure therefore ends with a compaction: the file is rewritten with its
// live data only, and the old one is gone.
//
// An erasing act sets metaScrub in the same transaction; a successful
// compaction leaves it unset in the new file. If the process dies between
// the two, Open finds the mark and compacts before anything else.

// metaScrub, in bucketMeta, marks a file that may hold erased bytes.
var metaScrub = []byte("scrub")

// compactTxSize bounds each transaction that fills the new file, in
// bytes of keys and values.
const compactTxSize = 16 << 20

// markScrub records, inside an erasing act, that the file must be
// compacted.
func markScrub(tx *bbolt.Tx) error {
	return tx.Bucket(bucketMeta).Put(metaScrub, []byte{1})
}

// scrubPending reports whether the file is marked for compaction.
func scrubPending(b *bbolt.DB) (pending bool, err error) {
	err = b.View(func(tx *bbolt.Tx) error {
		pending = tx.Bucket(bucketMeta).Get(metaScrub) != nil
		return nil
	})
	return pending, err
}

// scrub has the commit loop compact the file (see compact) and waits for
// it.
func (db *DB) scrub(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.send(&request{compact: true, done: make(chan error, 1)})
}

// compact rewrites the database file with its live data only: bbolt's
// Compact copies every bucket, key and value (and bucket sequences) into a
// new file beside it, which is synced and renamed over the old one; the
// handle is then reopened on it. It runs on the commit loop (or in Open,
// before the loop starts), so no act commits meanwhile: writers wait for
// the copy, readers only for the swap. On failure before the swap the old
// file stays in use; a failure to reopen leaves the DB closed (every call
// fails with bot.ErrClosed) and the new file in place.
func (db *DB) compact() error {
	tmp := db.path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("compact: %w", err)
	}
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		return fmt.Errorf("compact: create %s: %w", tmp, err)
	}
	err = bbolt.Compact(dst, db.bolt, compactTxSize)
	if err == nil {
		err = dst.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Delete(metaScrub) })
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact %s: %w", db.path, err)
	}

	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.bolt.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact: close %s: %w", db.path, err)
	}
	if err := os.Rename(tmp, db.path); err != nil {
		os.Remove(tmp)
		if b, oerr := openBolt(db.path); oerr == nil {
			db.bolt = b
		}
		return fmt.Errorf("compact: %w", err)
	}
	// If the rename is lost in a crash, the old file comes back with its
	// scrub mark, and Open compacts again.
	SyncDir(filepath.Dir(db.path))
	b, err := openBolt(db.path)
	if err != nil {
		return fmt.Errorf("compact: reopen: %w", err)
	}
	db.bolt = b
	return nil
}

// SyncDir makes a rename in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
