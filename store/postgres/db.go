// Package postgres keeps Frontdesk's durable state in a PostgreSQL
// database, so that several Frontdesk nodes can share it: customers and
// their channel identities, conversations and their message logs, the
// agent queue (agents, sessions, tickets). It is the only importer of
// pgx and implements the storage interfaces the core packages declare
// (bot.Store, handoff.Store), with the semantics of store/bolt, which the
// conformance suite in store/storetest holds both to.
//
// Every act (Update) is one PostgreSQL transaction at the serializable
// isolation level: acts behave as if run one at a time, across nodes as
// within one. A transaction that loses a race (a serialization failure,
// a deadlock, a unique key taken meanwhile) is rolled back and run again,
// as bot.Store allows. When a method returns nil, what it wrote is
// committed.
//
// Messages appended in an act are announced, in the same transaction, by
// a NOTIFY on the channel Channel carrying the conversation and its new
// seqs; Bus turns those into events on every node (see Bus).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontdesk/frontdesk/bot"
)

// Channel is the NOTIFY channel of conversation events.
const Channel = "frontdesk_events"

// DB is an open Frontdesk database on PostgreSQL. It is safe for
// concurrent use, by any number of nodes on the same database.
type DB struct {
	CustomerStore
	ConversationStore
	QueueStore
	TelegramStore

	pool   *pgxpool.Pool
	closed atomic.Bool
	opts   Options
	// betweenRollup, if set (by tests), runs between a rollup's reading
	// and its writing.
	betweenRollup func()
}

// Options tune a DB. The zero value is the default.
type Options struct {
	// MaxAttempts bounds how often an act that loses a race is run
	// (default 100): each retry follows a short, growing, random pause.
	MaxAttempts int
	// OnRetry, if set, is told of each act run again and why.
	OnRetry func(err error)
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string), creates or migrates its schema (see Migrate), and
// returns the store.
func Open(ctx context.Context, dsn string) (*DB, error) { return OpenWith(ctx, dsn, Options{}) }

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 100
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: connect: %w", err)
	}
	if err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	db := &DB{pool: pool, opts: opts}
	db.CustomerStore = CustomerStore{db}
	db.ConversationStore = ConversationStore{db}
	db.QueueStore = QueueStore{db}
	db.TelegramStore = TelegramStore{db}
	return db, nil
}

// Close closes the pool's connections. Calls after Close fail with
// bot.ErrClosed.
func (db *DB) Close() error {
	if db.closed.CompareAndSwap(false, true) {
		db.pool.Close()
	}
	return nil
}

// Pool returns the connection pool, for tools and tests.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

var _ bot.Store = (*DB)(nil)

// View runs fn in a read-only transaction on one snapshot (repeatable
// read): it sees committed acts, whole.
func (db *DB) View(ctx context.Context, fn func(bot.Tx) error) error {
	return db.view(ctx, func(tx *Tx) error { return fn(tx) })
}

func (db *DB) view(ctx context.Context, fn func(*Tx) error) error {
	if db.closed.Load() {
		return bot.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ptx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return db.closedErr(err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	if err := fn(&Tx{ctx: ctx, q: ptx}); err != nil {
		return db.closedErr(err)
	}
	return db.closedErr(ptx.Commit(ctx))
}

// read runs fn outside any transaction (one statement sees one
// snapshot), for the store's single reads.
func (db *DB) read(ctx context.Context, fn func(*Tx) error) error {
	if db.closed.Load() {
		return bot.ErrClosed
	}
	return db.closedErr(fn(&Tx{ctx: ctx, q: db.pool}))
}

// Update runs fn as one act: one serializable transaction, committed when
// Update returns nil, after which fn's OnCommit functions have run. An
// act that loses a race with another (on this node or another) is rolled
// back and fn runs again on fresh data.
func (db *DB) Update(ctx context.Context, fn func(bot.Tx) error) error {
	return db.update(ctx, func(tx *Tx) error { return fn(tx) })
}

func (db *DB) update(ctx context.Context, fn func(*Tx) error) error {
	pause := time.Millisecond
	for attempt := 1; ; attempt++ {
		if db.closed.Load() {
			return bot.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		tx, err := db.attempt(ctx, fn)
		if err == nil {
			for _, f := range tx.hooks {
				f()
			}
			return nil
		}
		if !retryable(err) || attempt >= db.opts.MaxAttempts {
			return db.closedErr(err)
		}
		if db.opts.OnRetry != nil {
			db.opts.OnRetry(err)
		}
		t := time.NewTimer(pause/2 + rand.N(pause))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		pause = min(pause*2, 50*time.Millisecond)
	}
}

// attempt runs fn in one transaction and commits it, announcing the
// messages it appended.
func (db *DB) attempt(ctx context.Context, fn func(*Tx) error) (*Tx, error) {
	ptx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return nil, err
	}
	// The commit's outcome is what the caller must learn: it is not cut
	// short by ctx (nor is the rollback).
	nc := context.WithoutCancel(ctx)
	defer ptx.Rollback(nc)
	tx := &Tx{ctx: ctx, q: ptx, write: true}
	if err := fn(tx); err != nil {
		return nil, err
	}
	if len(tx.appended) > 0 || len(tx.events) > 0 {
		notes := make([]string, 0, len(tx.appended)+len(tx.events))
		for _, conv := range tx.order {
			s := tx.appended[conv]
			notes = append(notes, fmt.Sprintf("m %d %d %s", s[0], s[1], conv))
		}
		notes = append(notes, tx.events...)
		if _, err := ptx.Exec(ctx, "SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n", Channel, notes); err != nil {
			return nil, err
		}
	}
	if err := ptx.Commit(nc); err != nil {
		return nil, err
	}
	return tx, nil
}

// retryable reports whether err means the act lost a race and may
// succeed when run again: a serialization failure, a deadlock, or a
// unique key another transaction took meanwhile (run again, the act sees
// it and decides afresh).
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "23505":
		return true
	}
	return false
}

// closedErr maps the errors of a closed pool to bot.ErrClosed.
func (db *DB) closedErr(err error) error {
	if err != nil && db.closed.Load() && !errors.Is(err, bot.ErrNotFound) {
		var be *bot.Error
		if !errors.As(err, &be) {
			return bot.ErrClosed
		}
	}
	return err
}
