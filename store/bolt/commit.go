package bolt

import (
	"context"
	"errors"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// request is one act waiting for the commit loop.
type request struct {
	fn   func(*Tx) error
	done chan error
}

// act hands fn to the commit loop and waits until it is committed or has
// failed. The wait is not cut short by ctx: once handed over, the act's
// outcome is what the caller must learn.
func (db *DB) act(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{fn: fn, done: make(chan error, 1)}
	select {
	case db.reqs <- r:
	case <-db.closing:
		return bot.ErrClosed
	}
	return <-r.done
}

// commitLoop owns the write side of the file. It takes one waiting act,
// then every other act already waiting (up to MaxBatch), and commits them
// in one transaction: while one commit is on disk the next batch gathers,
// so a busy server shares each fsync among many acts and a lone act is
// committed at once, with no added wait.
func (db *DB) commitLoop() {
	defer close(db.loopDone)
	batch := make([]*request, 0, db.opts.MaxBatch)
	for {
		select {
		case r := <-db.reqs:
			batch = append(batch[:0], r)
		case <-db.closing:
			return
		}
	gather:
		for len(batch) < db.opts.MaxBatch {
			select {
			case r := <-db.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		db.commit(batch)
	}
}

// errNothingWritten rolls back a transaction in which every act failed
// or changed nothing: there is nothing to make durable.
var errNothingWritten = errors.New("nothing written")

// errRetryBatch rolls a shared commit back after one act failed having
// written something.
var errRetryBatch = errors.New("retry batch")

// commit runs the acts of batch in one transaction, in order, so each
// sees the ones before it. An act that fails before writing anything just
// fails; one that fails after writing spoils the transaction, which is
// rolled back and run again without it, while it runs alone to learn its
// own error (as bbolt's Batch does). After the commit the acts' OnCommit
// functions run in order, then their callers are told.
func (db *DB) commit(batch []*request) {
	start := time.Now()
	errs := make([]error, len(batch))
	txs := make([]*Tx, len(batch))
	failed, wrote := -1, false
	err := db.bolt.Update(func(btx *bbolt.Tx) error {
		for i, r := range batch {
			tx := &Tx{btx: btx}
			err := r.fn(tx)
			if err != nil && tx.dirty {
				if len(batch) == 1 {
					return err
				}
				failed = i
				return errRetryBatch
			}
			errs[i], txs[i] = err, tx
			wrote = wrote || tx.dirty
		}
		if !wrote {
			return errNothingWritten // no commit, no fsync
		}
		return nil
	})
	if errors.Is(err, errNothingWritten) {
		err = nil
	}
	if failed >= 0 {
		db.commit(batch[failed : failed+1])
		db.commit(slices.Delete(slices.Clone(batch), failed, failed+1))
		return
	}
	if err != nil {
		err = closedErr(err)
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	for i, tx := range txs {
		if errs[i] == nil {
			for _, f := range tx.hooks {
				f()
			}
		}
	}
	if db.opts.OnCommit != nil && wrote {
		db.opts.OnCommit(len(batch), time.Since(start))
	}
	for i, r := range batch {
		r.done <- errs[i]
	}
}
