package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
)

// The files sent in chats (attachment.Blobs), kept in the database that
// every node shares, so that any node serves a file another received.
// attachment.Store checks each file and caps its size before it gets
// here (attachment.DefaultMaxSize unless told otherwise); a file's
// bytes are one bytea value, stored out of line and uncompressed.
// Erasing a conversation (ForgetCustomer, Expire) deletes its files in
// the same act.

var _ attachment.Blobs = (*DB)(nil)

// PutAttachment implements attachment.Blobs: when it returns nil the
// file is committed. An id is written once: a second put of it fails.
func (db *DB) PutAttachment(ctx context.Context, conversationID, id string, data []byte) error {
	if conversationID == "" || id == "" || len(data) == 0 {
		return errors.New("save attachment: no conversation, id or data")
	}
	if db.closed.Load() {
		return bot.ErrClosed
	}
	// One statement, not an act: nothing to retry, and a unique key
	// taken is an error here, not a race to run again.
	_, err := db.pool.Exec(ctx, "INSERT INTO attachments (conversation_id, id, data) VALUES ($1, $2, $3)", conversationID, id, data)
	if err != nil {
		return db.closedErr(fmt.Errorf("insert into attachments: %w", err))
	}
	return nil
}

// Attachment implements attachment.Blobs: the file's bytes, read whole
// (a file is capped), and when it was kept; bot.ErrNotFound when the
// conversation has no such file.
func (db *DB) Attachment(ctx context.Context, conversationID, id string) (io.ReadSeekCloser, time.Time, error) {
	var data []byte
	var at time.Time
	err := db.read(ctx, func(tx *Tx) error {
		return tx.q.QueryRow(ctx, "SELECT data, created FROM attachments WHERE conversation_id = $1 AND id = $2",
			conversationID, id).Scan(&data, &at)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, bot.ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read attachment %s: %w", id, err)
	}
	return file{bytes.NewReader(data)}, at, nil
}

// file is a file's bytes, read.
type file struct{ *bytes.Reader }

func (file) Close() error { return nil }

// AttachmentConversations implements attachment.Blobs.
func (db *DB) AttachmentConversations(ctx context.Context) (out []string, err error) {
	err = db.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, "SELECT DISTINCT conversation_id FROM attachments")
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	return out, nil
}

// DeleteAttachments implements attachment.Blobs, in one transaction.
func (db *DB) DeleteAttachments(ctx context.Context, conversationIDs ...string) error {
	if len(conversationIDs) == 0 {
		return nil
	}
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.q.Exec(ctx, "DELETE FROM attachments WHERE conversation_id = ANY($1)", conversationIDs)
		return err
	})
}
