package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the database, as it is when Backup
// starts, to w and returns how many bytes it wrote. The copy is a whole
// bbolt file, which Open accepts as is: restoring is putting it in place
// of frontdesk.db.
//
// Writers are not held up. The copy is taken in one read transaction,
// which would stop bbolt from growing its memory map (and so stall every
// commit that needs a larger file) for as long as it stays open; so it is
// first written at disk speed to a temporary file beside the database
// (removed from the directory at once where the system allows it, and
// always before Backup returns), and only then streamed to w, which may
// be as slow as a network client. The temporary file needs as much free
// space as the database takes.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	spool, err := os.CreateTemp(filepath.Dir(db.path), ".frontdesk-backup-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	name := spool.Name()
	unlinked := os.Remove(name) == nil
	defer func() {
		spool.Close()
		if !unlinked {
			os.Remove(name)
		}
	}()
	err = db.view(ctx, func(tx *bbolt.Tx) error {
		_, err := tx.WriteTo(ctxWriter{ctx, spool})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("backup: snapshot: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	n, err := io.Copy(ctxWriter{ctx, w}, spool)
	if err != nil {
		return n, fmt.Errorf("backup: write: %w", err)
	}
	return n, nil
}

// BackupFile writes a consistent copy of the database file at path to w
// without opening it for writing (no migration runs, nothing changes) and
// returns how many bytes it wrote. It fails with ErrLocked while another
// process, such as frontdesk serve, has the file open: back up through
// that process then (DB.Backup).
func BackupFile(ctx context.Context, path string, w io.Writer) (int64, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return 0, fmt.Errorf("backup %s: %w", path, ErrLocked)
	}
	if err != nil {
		return 0, fmt.Errorf("backup: open %s: %w", path, err)
	}
	defer b.Close()
	var n int64
	err = b.View(func(tx *bbolt.Tx) error {
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup %s: %w", path, err)
	}
	return n, nil
}

// Contents summarises a database file (see Verify).
type Contents struct {
	Schema        uint64 `json:"schema"`
	Customers     int    `json:"customers"`
	Conversations int    `json:"conversations"`
	Messages      int    `json:"messages"`
	Agents        int    `json:"agents"`
}

// Verify checks, without changing it, that the file at path is a whole
// Frontdesk database: bbolt's consistency check passes (every page is
// reachable exactly once, no free page is in use) and its schema is one
// this code can open. It returns what the file holds. Use it on a backup
// before trusting it.
func Verify(ctx context.Context, path string) (Contents, error) {
	var c Contents
	if err := checkLength(path); err != nil {
		return c, fmt.Errorf("verify %s: %w", path, err)
	}
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return c, fmt.Errorf("verify %s: %w", path, ErrLocked)
	}
	if err != nil {
		return c, fmt.Errorf("verify %s: %w", path, err)
	}
	defer b.Close()
	err = b.View(func(tx *bbolt.Tx) error {
		var bad error
		for err := range tx.Check() { // drain: Check's goroutine sends every problem
			if bad == nil {
				bad = fmt.Errorf("inconsistent file: %w", err)
			}
		}
		if bad != nil {
			return bad
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("not a Frontdesk database (no meta bucket)")
		}
		v := meta.Get([]byte("schema"))
		if len(v) != 8 {
			return errors.New("not a Frontdesk database (no schema version)")
		}
		c.Schema = binary.BigEndian.Uint64(v)
		if c.Schema > schemaVersion {
			return fmt.Errorf("schema version %d is newer than this frontdesk understands (%d)", c.Schema, schemaVersion)
		}
		count := func(name []byte) int {
			if b := tx.Bucket(name); b != nil {
				return b.Stats().KeyN
			}
			return 0
		}
		c.Customers, c.Conversations, c.Agents = count(bucketCustomers), count(bucketConversations), count(bucketAgents)
		if msgs := tx.Bucket(bucketMessages); msgs != nil {
			// Each conversation's log: its messages, then its client ids.
			return msgs.ForEachBucket(func(id []byte) error {
				cur := msgs.Bucket(id).Cursor()
				for k, _ := cur.First(); isSeqKey(k); k, _ = cur.Next() {
					c.Messages++
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("verify %s: %w", path, err)
	}
	return c, nil
}

// checkLength makes sure that the file is as long as its newest valid
// meta page says: bbolt maps the file into memory and would crash the
// process (SIGBUS) reading past the end of a truncated copy.
//
// bbolt's meta page, after the 16-byte page header: magic, version,
// page size, flags (4 bytes each), the root bucket (16), the freelist
// page (8), the high-water mark pgid (8), txid (8), and an FNV-64a
// checksum (8) of the 56 bytes before it, in the machine's byte order.
func checkLength(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	type meta struct{ pageSize, pgid, txid uint64 }
	read := func(off int64) (meta, bool) {
		var b [16 + 64]byte
		if _, err := f.ReadAt(b[:], off); err != nil {
			return meta{}, false
		}
		m := b[16:]
		e := binary.NativeEndian
		h := fnv.New64a()
		h.Write(m[:56])
		if e.Uint32(m[0:]) != 0xED0CDAED || e.Uint64(m[56:]) != h.Sum64() {
			return meta{}, false
		}
		return meta{pageSize: uint64(e.Uint32(m[8:])), pgid: e.Uint64(m[40:]), txid: e.Uint64(m[48:])}, true
	}
	m0, ok0 := read(0)
	var best meta
	switch {
	case ok0:
		best = m0
		if m1, ok := read(int64(m0.pageSize)); ok && m1.txid > m0.txid {
			best = m1
		}
	default:
		for _, size := range []int64{4096, 8192, 16384, 65536} {
			if m1, ok := read(size); ok && m1.pageSize == uint64(size) {
				best = m1
				break
			}
		}
	}
	if best.pageSize == 0 {
		return errors.New("not a bbolt database (no valid meta page)")
	}
	if want := best.pgid * best.pageSize; uint64(fi.Size()) < want {
		return fmt.Errorf("truncated: %d bytes, the database needs %d", fi.Size(), want)
	}
	return nil
}

// ctxWriter stops a long copy once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
