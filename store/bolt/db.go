// Package bolt keeps Frontdesk's durable state in one bbolt file:
// customers and their channel identities, conversations and their message
// logs, the agent queue, links and the Telegram channel's state. It is the
// only importer of bbolt and implements the storage interfaces that the
// core packages declare (bot.Store, handoff.Store, bot.LinkStore, the
// Telegram channel's Store).
//
// Every act is one bbolt transaction, committed with fsync before the call
// returns: when a method returns nil, what it wrote survives a crash.
// Concurrent acts share commits (see DB.Update).
package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// Buckets. Keys are ids unless said otherwise.
var (
	bucketMeta          = []byte("meta")          // "schema" -> version
	bucketCustomers     = []byte("customers")     // customer id -> JSON Customer
	bucketIdentities    = []byte("identities")    // channel "\x00" id -> customer id
	bucketEmails        = []byte("emails")        // lower-cased email -> customer id
	bucketConversations = []byte("conversations") // conversation id -> JSON Conversation
	bucketByCustomer    = []byte("by_customer")   // customer id "\x00" conversation id -> ""
	bucketMessages      = []byte("messages")      // conversation id -> bucket: seq (8 bytes BE) -> JSON Message; 0xff client id -> seq
	bucketClientIDs     = []byte("client_ids")    // up to schema 8: conversation id -> bucket: client id -> seq
)

// DB is an open Frontdesk database: one bbolt file holding every concern
// (customers, conversations and their messages, the agent queue, links,
// the Telegram channel's state), each served by a small type embedded
// here. It is safe for concurrent use.
//
// Writes go through one commit loop (see Update): every act is one
// transaction, and acts that arrive while a commit is on disk are
// committed together in the next, so they share one fsync. Readers run
// alongside the writer on their own snapshots.
type DB struct {
	CustomerStore
	ConversationStore
	QueueStore
	LinkStore
	TelegramStore

	// mu guards bolt, which the commit loop replaces when it compacts the
	// file (see compact): readers hold it shared for their transaction.
	// The commit loop reads bolt without it, being the only goroutine
	// that changes it.
	mu   sync.RWMutex
	bolt *bbolt.DB
	path string
	opts Options

	// memos keep the records every turn reads decoded (see memo).
	memos *memos
	// betweenRollup, if set (by tests), runs between a rollup's reading
	// and its writing.
	betweenRollup func()

	// lastCommit is when the last commit or warming flush ended (see
	// sinceOpen); warming is set while a WarmCommit flush runs, and
	// warmFlushes counts them.
	opened      time.Time
	lastCommit  atomic.Int64
	warming     atomic.Bool
	warmFlushes atomic.Int64

	reqs     chan *request
	closing  chan struct{}
	loopDone chan struct{}
	closeOne sync.Once
}

// Options tune a DB. The zero value is the default.
type Options struct {
	// MaxBatch bounds how many acts share one commit (default 1000).
	MaxBatch int
	// OnCommit, if set, is told after each commit how many acts it held
	// and how long it took, for metrics. It runs on the commit loop and
	// must not block.
	OnCommit func(acts int, d time.Duration)
	// WarmAfter is how long the commit loop must have been quiet for
	// WarmCommit to flush the disk ahead of a turn (default 50 ms;
	// negative: never).
	WarmAfter time.Duration
}

// ErrLocked is returned by Open when another process holds the file, most
// often a running "frontdesk serve".
var ErrLocked = errors.New("database is in use by another process (is frontdesk serve running on this data directory?)")

// Open opens or creates the database at path, creating its directory, and
// migrates it to the current schema.
func Open(path string) (*DB, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, opts Options) (*DB, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1000
	}
	if opts.WarmAfter == 0 {
		opts.WarmAfter = defaultWarmAfter
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	b, err := openBolt(path)
	if err != nil {
		return nil, err
	}
	db := &DB{bolt: b, path: path, opts: opts, opened: time.Now(),
		memos: newMemos(), reqs: make(chan *request), closing: make(chan struct{}), loopDone: make(chan struct{})}
	db.CustomerStore = CustomerStore{db}
	db.ConversationStore = ConversationStore{db}
	db.QueueStore = QueueStore{db}
	db.LinkStore = LinkStore{db}
	db.TelegramStore = TelegramStore{db}
	if err := migrate(b); err != nil {
		b.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// A forget whose compaction did not finish (a crash, a full disk)
	// left erased bytes in free pages: scrub them before anything else.
	if pending, err := scrubPending(b); err != nil || pending {
		if err == nil {
			err = db.compact()
		}
		if err != nil {
			db.bolt.Close()
			return nil, fmt.Errorf("open database %s: compact after an erasure: %w", path, err)
		}
	}
	go db.commitLoop()
	return db, nil
}

// initialMmapSize is how much of the file bbolt maps at first.
const initialMmapSize = 1 << 30

// openBolt opens the bbolt file for reading and writing, waiting at most
// a second for another process's lock.
//
// As etcd runs bbolt: the free-page list is not written with each commit
// (one page less per commit, more as the file fragments; it is rebuilt
// from the pages when the file is opened), and kept as a map, which stays
// fast when it is long. The file is mapped with room to grow, so that a
// growing file at a peak does not remap it often: a remap waits for every
// open read transaction, and every act waits for the remap. The mapping
// is address space, not memory.
func openBolt(path string) (*bbolt.DB, error) {
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:         time.Second,
		NoFreelistSync:  true,
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: initialMmapSize,
	})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return b, nil
}

// Close stops the commit loop, after the commit in progress, and closes
// the file. Calls after Close fail with bot.ErrClosed.
func (db *DB) Close() error {
	db.closeOne.Do(func() { close(db.closing) })
	<-db.loopDone
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.bolt.Close()
}

// Path returns the file's path.
func (db *DB) Path() string { return db.path }

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

// View runs fn in a read-only transaction (see bot.Store). fn must not
// wait for an act (Update or a write method): a compaction of the file
// waits for open read transactions, and acts wait for the compaction.
func (db *DB) View(ctx context.Context, fn func(bot.Tx) error) error {
	return db.view(ctx, func(btx *bbolt.Tx) error { return fn(&Tx{btx: btx, m: db.memos}) })
}

// Update runs fn as one act in the commit loop (see bot.Store): when it
// returns nil, what fn wrote is on disk and its OnCommit functions have
// run.
func (db *DB) Update(ctx context.Context, fn func(bot.Tx) error) error {
	return db.act(ctx, func(tx *Tx) error { return fn(tx) })
}

// view runs fn in a read-only transaction, mapping a closed database to
// bot.ErrClosed and honouring ctx before starting.
func (db *DB) view(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	return closedErr(db.bolt.View(fn))
}

// update runs fn, which writes the bbolt transaction directly, as one act.
func (db *DB) update(ctx context.Context, fn func(*bbolt.Tx) error) error {
	return db.act(ctx, func(tx *Tx) error {
		tx.dirty = true
		return fn(tx.btx)
	})
}

func closedErr(err error) error {
	if errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		return bot.ErrClosed
	}
	return err
}

// getJSON decodes the value under key into v, or returns bot.ErrNotFound.
func getJSON(b *bbolt.Bucket, key string, v any) error {
	data := b.Get([]byte(key))
	if data == nil {
		return bot.ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s %q: %w", "record", key, err)
	}
	return nil
}

func putJSON(b *bbolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}
