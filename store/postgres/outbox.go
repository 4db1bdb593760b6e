package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/frontdesk/frontdesk/adapters/webhook"
)

// The outbox holds records waiting to leave the process (the webhooks'
// events), in the order they were appended: seq from a sequence, data
// the record as its owner encoded it. A record is appended inside the act
// that causes it, so it exists exactly when the act does, and stays
// until its owner deletes it.
//
// Seqs are drawn when a record is appended, so of two acts committing at
// once the one with the lower seq may commit second. Records with the
// same webhook key come from acts that write the same row (the
// conversation, the customer), which serializable transactions commit
// one after the other, each drawing its seq after the one before it
// committed: their seq order is their commit order. A reader that pages
// by seq may thus meet a lower seq later; the webhook Deliverer starts
// every pass from the beginning, so it delivers it on its next pass.

var (
	_ webhook.Store                           = (*DB)(nil)
	_ interface{ AppendOutbox([]byte) error } = (*Tx)(nil) // webhook.Recorder's need of an act
)

// AppendOutbox appends data to the outbox in the act's transaction: it
// is committed when the act is.
func (tx *Tx) AppendOutbox(data []byte) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if _, err := tx.q.Exec(tx.ctx, "INSERT INTO webhook_outbox (data) VALUES ($1)", data); err != nil {
		return fmt.Errorf("append to the outbox: %w", err)
	}
	return nil
}

// Outbox calls fn with up to limit records (all when limit <= 0) with
// seq > after, oldest first, read in one statement; data is valid only
// during the call. fn runs once the records are read, so it may use the
// store.
func (db *DB) Outbox(ctx context.Context, after uint64, limit int, fn func(seq uint64, data []byte)) error {
	if after > 1<<63-1 {
		return nil
	}
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	type record struct {
		seq  int64
		data []byte
	}
	var recs []record
	err := db.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, "SELECT seq, data FROM webhook_outbox WHERE seq > $1 ORDER BY seq LIMIT $2", int64(after), lim)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r record
			if err := rows.Scan(&r.seq, &r.data); err != nil {
				return err
			}
			recs = append(recs, r)
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("read the outbox: %w", err)
	}
	for _, r := range recs {
		fn(uint64(r.seq), r.data)
	}
	return nil
}

// OutboxLen returns how many records the outbox holds.
func (db *DB) OutboxLen(ctx context.Context) (int, error) {
	var n int
	err := db.read(ctx, func(tx *Tx) error {
		return tx.q.QueryRow(ctx, "SELECT count(*) FROM webhook_outbox").Scan(&n)
	})
	return n, err
}

// PutOutbox replaces the record seq (its delivery state); a record
// deleted meanwhile stays deleted. When it returns nil the change is
// committed.
func (db *DB) PutOutbox(ctx context.Context, seq uint64, data []byte) error {
	if seq > 1<<63-1 {
		return nil
	}
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.q.Exec(ctx, "UPDATE webhook_outbox SET data = $2 WHERE seq = $1", int64(seq), data)
		return err
	})
}

// DeleteOutbox removes the records, in one transaction. When it returns
// nil the removal is committed.
func (db *DB) DeleteOutbox(ctx context.Context, seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	list := make([]int64, 0, len(seqs))
	for _, s := range seqs {
		if s <= 1<<63-1 {
			list = append(list, int64(s))
		}
	}
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.q.Exec(ctx, "DELETE FROM webhook_outbox WHERE seq = ANY($1)", list)
		return err
	})
}

// dropOutbox removes the outbox records that name any of ids (customer
// and conversation ids, quoted as JSON strings, or inside an embedded
// JSON string): when a customer is forgotten, nothing about them is sent
// afterwards.
func (tx *Tx) dropOutbox(ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var pats [][]byte
	for _, id := range ids {
		if id == "" {
			return errors.New("drop outbox records: an empty id")
		}
		pats = append(pats, []byte(`"`+id+`"`), []byte(`\"`+id+`\"`))
	}
	_, err := tx.q.Exec(tx.ctx, `DELETE FROM webhook_outbox o
		WHERE EXISTS (SELECT 1 FROM unnest($1::bytea[]) AS p WHERE position(p IN o.data) > 0)`, pats)
	if err != nil {
		return fmt.Errorf("drop outbox records: %w", err)
	}
	return nil
}
