package attachment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// Dir keeps attachments as files under one directory, beside the bbolt
// file: dir/<conversation id>/<attachment id>, owner-only. It serves one
// node; a cluster keeps them in PostgreSQL instead (store/postgres).
type Dir struct{ path string }

var _ Blobs = Dir{}

// OpenDir returns the directory path as a Dir, creating it (owner-only)
// if needed.
func OpenDir(path string) (Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return Dir{}, fmt.Errorf("open attachments %s: %w", path, err)
	}
	return Dir{path: path}, nil
}

// PutAttachment implements Blobs: the file is written through a
// temporary file and synced with its directory, so it is whole or absent.
func (d Dir) PutAttachment(_ context.Context, conversationID, id string, data []byte) error {
	dir := filepath.Join(d.path, conversationID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return writeSynced(dir, id, data)
}

// writeSynced writes data to dir/name through a temporary file, syncing
// the file and the directory, so the file is whole or absent.
func writeSynced(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Attachment implements Blobs: the open file and its modification time.
func (d Dir) Attachment(_ context.Context, conversationID, id string) (io.ReadSeekCloser, time.Time, error) {
	f, err := os.Open(filepath.Join(d.path, conversationID, id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, time.Time{}, ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, time.Time{}, err
	}
	return f, fi.ModTime(), nil
}

// AttachmentConversations implements Blobs: the conversations'
// directories.
func (d Dir) AttachmentConversations(context.Context) ([]string, error) {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && bot.ValidID(e.Name(), "con_") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// DeleteAttachments implements Blobs: it removes the conversations'
// directories.
func (d Dir) DeleteAttachments(_ context.Context, conversationIDs ...string) error {
	for _, id := range conversationIDs {
		if !bot.ValidID(id, "con_") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(d.path, id)); err != nil {
			return err
		}
	}
	return nil
}
