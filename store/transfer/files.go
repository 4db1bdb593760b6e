package transfer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/postgres"
)

// copyAttachments copies the files under dir, kept as attachment.Dir
// keeps them (dir/<conversation id>/<attachment id>), each with the
// time it was written, and returns the size and SHA-256 of each file it
// read, by "conversation id/attachment id". Files of conversations the
// file no longer holds (deleted, their files not yet pruned) and entries
// that are no attachment (an unfinished upload, another name) are left
// out and counted in c.left. A dir that does not exist holds none.
func (c *copier) copyAttachments(ctx context.Context, dir string) (map[string]postgres.FileDigest, error) {
	out := map[string]postgres.FileDigest{}
	if dir == "" {
		return out, nil
	}
	convs, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, conv := range convs {
		if !conv.IsDir() || !bot.ValidID(conv.Name(), "con_") {
			c.left[leftNotFiles]++
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, conv.Name()))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			switch {
			case !f.Type().IsRegular() || !bot.ValidID(f.Name(), "att_"):
				c.left[leftNotFiles]++
				continue
			case !c.convs[conv.Name()]:
				c.left[leftFiles]++
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			path := filepath.Join(dir, conv.Name(), f.Name())
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			fi, err := os.Stat(path)
			if err != nil {
				return nil, err
			}
			if len(data) == 0 {
				c.left[leftNotFiles]++ // attachment.Store keeps no empty file
				continue
			}
			if err := c.im.PutAttachment(conv.Name(), f.Name(), fi.ModTime(), data); err != nil {
				return nil, err
			}
			out[conv.Name()+"/"+f.Name()] = postgres.FileDigest{Size: int64(len(data)), SHA256: sha256.Sum256(data)}
			c.src.Attachments++
			c.src.AttachmentBytes += int64(len(data))
		}
	}
	return out, nil
}

// compareFiles says how the files the database holds differ from those
// read, in size or SHA-256.
func compareFiles(read, stored map[string]postgres.FileDigest) error {
	var diffs []string
	for key, r := range read {
		s, ok := stored[key]
		switch {
		case !ok:
			diffs = append(diffs, key+": missing")
		case s.Size != r.Size:
			diffs = append(diffs, fmt.Sprintf("%s: read %d bytes, the database holds %d", key, r.Size, s.Size))
		case s.SHA256 != r.SHA256:
			diffs = append(diffs, fmt.Sprintf("%s: the database holds other bytes (SHA-256 %x, read %x)", key, s.SHA256, r.SHA256))
		}
	}
	for key := range stored {
		if _, ok := read[key]; !ok {
			diffs = append(diffs, key+": not read, but in the database")
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	sort.Strings(diffs)
	if len(diffs) > 10 {
		diffs = append(diffs[:10:10], fmt.Sprintf("and %d more", len(diffs)-10))
	}
	return errors.New(strings.Join(diffs, "; "))
}
