package bolt

import (
	"bytes"
	"context"
	"encoding/binary"

	bbolt "go.etcd.io/bbolt"
)

// The outbox holds records waiting to leave the process (the webhooks'
// events), in the order they were appended: key = sequence number (8
// bytes big-endian), value = the record as its owner encoded it. A record
// is appended inside the act that causes it, so it exists exactly when
// the act does, and stays until its owner deletes it.

// AppendOutbox appends data to the outbox in the act's transaction: it
// is durable when the act is.
func (tx *Tx) AppendOutbox(data []byte) error {
	if err := tx.written(); err != nil {
		return err
	}
	b := tx.btx.Bucket(bucketOutbox)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return b.Put(u64(seq), data)
}

// Outbox calls fn with up to limit records (all when limit <= 0) with
// seq > after, oldest first, in one read transaction; data is valid only
// during the call.
func (db *DB) Outbox(ctx context.Context, after uint64, limit int, fn func(seq uint64, data []byte)) error {
	return db.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		n := 0
		for k, v := c.Seek(u64(after + 1)); k != nil && (limit <= 0 || n < limit); k, v = c.Next() {
			fn(binary.BigEndian.Uint64(k), v)
			n++
		}
		return nil
	})
}

// OutboxLen returns how many records the outbox holds.
func (db *DB) OutboxLen(ctx context.Context) (int, error) {
	var n int
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketOutbox).Stats().KeyN
		return nil
	})
	return n, err
}

// PutOutbox replaces the record seq (its delivery state); a record
// deleted meanwhile stays deleted. When it returns nil the change is on
// disk.
func (db *DB) PutOutbox(ctx context.Context, seq uint64, data []byte) error {
	return db.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		if b.Get(u64(seq)) == nil {
			return nil
		}
		return b.Put(u64(seq), data)
	})
}

// DeleteOutbox removes the records, in one transaction. When it returns
// nil the removal is on disk.
func (db *DB) DeleteOutbox(ctx context.Context, seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	return db.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		for _, seq := range seqs {
			if err := b.Delete(u64(seq)); err != nil {
				return err
			}
		}
		return nil
	})
}

// dropOutbox removes the outbox records that name any of ids (customer
// and conversation ids, quoted as JSON strings): when a customer is
// forgotten, nothing about them is sent afterwards.
func dropOutbox(tx *bbolt.Tx, ids []string) error {
	b := tx.Bucket(bucketOutbox)
	if b == nil || len(ids) == 0 {
		return nil
	}
	var drop [][]byte
	err := b.ForEach(func(k, v []byte) error {
		for _, id := range ids {
			if bytes.Contains(v, []byte(`\"`+id+`\"`)) || bytes.Contains(v, []byte(`"`+id+`"`)) {
				drop = append(drop, append([]byte(nil), k...))
				break
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range drop {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
