package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// attachmentsDir is where the files sent in chats live, beside the
// database.
func attachmentsDir(dataDir string) string { return filepath.Join(dataDir, "attachments") }

// pruneAttachments deletes the files of conversations the store no
// longer has: run after an erasure, so files go with their messages.
func pruneAttachments(ctx context.Context, db bot.Store, files *attachment.Store, log *slog.Logger) {
	n, err := files.Prune(func(id string) (bool, error) {
		_, err := db.Conversation(ctx, id)
		if errors.Is(err, bot.ErrNotFound) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		log.Error("delete attachments of erased conversations", "err", err)
	}
	if n > 0 {
		log.Info("deleted attachments of erased conversations", "conversations", n)
	}
}

// recordsWithFiles is the console's data records (backup, export,
// erasure) with the erasure of a customer's files too.
type recordsWithFiles struct {
	serveStore
	file  *bolt.DB // nil on PostgreSQL
	files *attachment.Store
	log   *slog.Logger
}

// errBackupElsewhere answers a backup of a server whose data is in
// PostgreSQL: the database's own tools copy it whole and consistent.
var errBackupElsewhere = errors.New("this server keeps its data in PostgreSQL: back it up with pg_dump (or the database's own backups), not through Frontdesk")

// Backup copies the bbolt file; on PostgreSQL it refuses, saying how.
func (r recordsWithFiles) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if r.file == nil {
		return 0, errBackupElsewhere
	}
	return r.file.Backup(ctx, w)
}

// ForgetCustomer erases the customer, then the files of the
// conversations erased (PostgreSQL erases them in the same transaction;
// pruning then finds nothing).
func (r recordsWithFiles) ForgetCustomer(ctx context.Context, id string) (bot.Erased, error) {
	e, err := r.serveStore.ForgetCustomer(ctx, id)
	if e.Conversations > 0 {
		pruneAttachments(ctx, r.serveStore, r.files, r.log)
	}
	return e, err
}
