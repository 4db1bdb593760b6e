// Package boltstore keeps Frontdesk's durable state in one bbolt file:
// customers and their channel identities, conversations and their message
// logs. It is the only importer of bbolt and implements the storage
// interfaces that the core packages declare (bot.Store).
//
// Every write is one bbolt transaction, committed with fsync before the
// call returns: when a method returns nil, what it wrote survives a crash.
package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// schemaVersion is the layout of the buckets below. Open migrates older
// files forward and refuses newer ones.
const schemaVersion = 1

// Buckets. Keys are ids unless said otherwise.
var (
	bucketMeta          = []byte("meta")          // "schema" -> version
	bucketCustomers     = []byte("customers")     // customer id -> JSON Customer
	bucketIdentities    = []byte("identities")    // channel "\x00" id -> customer id
	bucketEmails        = []byte("emails")        // lower-cased email -> customer id
	bucketConversations = []byte("conversations") // conversation id -> JSON Conversation
	bucketByCustomer    = []byte("by_customer")   // customer id "\x00" conversation id -> ""
	bucketMessages      = []byte("messages")      // conversation id -> bucket: seq (8 bytes BE) -> JSON Message
	bucketClientIDs     = []byte("client_ids")    // conversation id -> bucket: client id -> seq
)

var allBuckets = [][]byte{bucketMeta, bucketCustomers, bucketIdentities, bucketEmails,
	bucketAgents, bucketAgentEmails, bucketSessions, bucketTickets, bucketOpenTickets, bucketTicketHistory,
	bucketConversations, bucketByCustomer, bucketMessages, bucketClientIDs, bucketLinks, bucketTelegram}

// DB is an open Frontdesk database. It is safe for concurrent use; bbolt
// serialises writers and lets readers run alongside them.
type DB struct {
	bolt *bbolt.DB
	path string
}

// ErrLocked is returned by Open when another process holds the file, most
// often a running "frontdesk serve".
var ErrLocked = errors.New("database is in use by another process (is frontdesk serve running on this data directory?)")

// Open opens or creates the database at path, creating its directory.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{bolt: b, path: path}
	if err := db.init(); err != nil {
		b.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// init creates the buckets and checks the schema version.
func (db *DB) init() error {
	return db.bolt.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get([]byte("schema"))
		switch {
		case v == nil:
			return meta.Put([]byte("schema"), u64(schemaVersion))
		case len(v) != 8:
			return fmt.Errorf("corrupt schema version %x", v)
		case binary.BigEndian.Uint64(v) > schemaVersion:
			return fmt.Errorf("schema version %d is newer than this frontdesk understands (%d); upgrade frontdesk", binary.BigEndian.Uint64(v), schemaVersion)
		}
		return nil
	})
}

// Close closes the file. Calls after Close fail with bot.ErrClosed.
func (db *DB) Close() error { return db.bolt.Close() }

// Path returns the file's path.
func (db *DB) Path() string { return db.path }

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

// view and update run fn in a transaction, mapping a closed database to
// bot.ErrClosed and honouring ctx before starting.
func (db *DB) view(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return closedErr(db.bolt.View(fn))
}

func (db *DB) update(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return closedErr(db.bolt.Update(fn))
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
