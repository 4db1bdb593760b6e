package main

import (
	"context"
	"errors"
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
func pruneAttachments(ctx context.Context, db *bolt.DB, files *attachment.Store, log *slog.Logger) {
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
	*bolt.DB
	files *attachment.Store
	log   *slog.Logger
}

// ForgetCustomer erases the customer (bolt.DB.ForgetCustomer), then the
// files of the conversations erased.
func (r recordsWithFiles) ForgetCustomer(ctx context.Context, id string) (bot.Erased, error) {
	e, err := r.DB.ForgetCustomer(ctx, id)
	if e.Conversations > 0 {
		pruneAttachments(ctx, r.DB, r.files, r.log)
	}
	return e, err
}
