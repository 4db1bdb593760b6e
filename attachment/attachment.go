// Package attachment keeps the files customers and agents send in a chat
// (images and PDFs). A Store checks each file (its size against a cap,
// its type from its bytes) and serves it safely; the bytes live in a
// Blobs: a directory beside the bbolt file (Dir, one file per attachment
// in a directory per conversation), or the PostgreSQL database that
// several nodes share (store/postgres). A file is durable before the
// message that names it is stored, so a stored message never names a
// missing file (a crash in between leaves an orphan file, never a
// dangling message).
package attachment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/frontdesk/frontdesk/bot"
)

// DefaultMaxSize is the largest file accepted unless Open is told
// otherwise: 10 MiB.
const DefaultMaxSize = 10 << 20

// Types are the content types accepted, as sniffed from a file's first
// bytes (never as the sender names them), with the extension a file of
// that type gets when it comes without a usable name.
var Types = map[string]string{
	"image/png":       ".png",
	"image/jpeg":      ".jpg",
	"image/gif":       ".gif",
	"image/webp":      ".webp",
	"application/pdf": ".pdf",
}

// ErrType refuses a file that is not an image or a PDF.
var ErrType error = bot.NewError(bot.CodeInvalid, "only images (PNG, JPEG, GIF, WebP) and PDF files can be sent")

// ErrEmpty refuses an empty file.
var ErrEmpty error = bot.NewError(bot.CodeInvalid, "the file is empty")

// Blobs holds the attachments' bytes for a Store. The Store checks
// conversation and attachment ids (prefix and lower-case hex, as
// bot.NewID makes them) before they reach Blobs, and the size and type of
// what it puts. Implementations are safe for concurrent use.
type Blobs interface {
	// PutAttachment keeps data as the conversation's attachment id,
	// written once. When it returns nil, data is durable.
	PutAttachment(ctx context.Context, conversationID, id string, data []byte) error
	// Attachment opens the conversation's attachment id for reading and
	// says when it was kept; an error with code not_found (bot.ErrNotFound
	// or ErrNotFound) when there is none. The caller closes it.
	Attachment(ctx context.Context, conversationID, id string) (io.ReadSeekCloser, time.Time, error)
	// AttachmentConversations lists the conversations that have
	// attachments.
	AttachmentConversations(ctx context.Context) ([]string, error)
	// DeleteAttachments deletes every attachment of the conversations.
	DeleteAttachments(ctx context.Context, conversationIDs ...string) error
}

// Store keeps attachments in a Blobs, checked and capped. It is safe for
// concurrent use: every file has its own random id and is written once.
type Store struct {
	blobs Blobs
	max   int64
}

// Open returns the store of files in the directory dir (see Dir),
// creating it (owner-only) if needed. maxSize bounds a file in bytes
// (DefaultMaxSize when 0 or less).
func Open(dir string, maxSize int64) (*Store, error) {
	d, err := OpenDir(dir)
	if err != nil {
		return nil, err
	}
	return New(d, maxSize), nil
}

// New returns the store keeping its files in b. maxSize bounds a file in
// bytes (DefaultMaxSize when 0 or less), whatever b is.
func New(b Blobs, maxSize int64) *Store {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	return &Store{blobs: b, max: maxSize}
}

// MaxSize is the largest file the store accepts, in bytes.
func (s *Store) MaxSize() int64 { return s.max }

// TooLarge is the error for a file over the limit.
func (s *Store) TooLarge() error {
	return bot.NewError(bot.CodeInvalid, fmt.Sprintf("the file is larger than %d MB", s.max>>20))
}

// Save is SaveContext without a context.
func (s *Store) Save(conversationID, name string, r io.Reader) (bot.Attachment, error) {
	return s.SaveContext(context.Background(), conversationID, name, r)
}

// SaveContext reads a file of the conversation from r (at most MaxSize
// bytes: a longer one is refused with TooLarge), checks its type from its
// content (ErrType) and keeps it. When it returns nil, the file is
// durable (synced to disk, or committed) and the Attachment describes
// it, ready for a message.
func (s *Store) SaveContext(ctx context.Context, conversationID, name string, r io.Reader) (bot.Attachment, error) {
	if !bot.ValidID(conversationID, "con_") {
		return bot.Attachment{}, bot.NewError(bot.CodeInvalid, "unknown conversation")
	}
	data, err := io.ReadAll(io.LimitReader(r, s.max+1))
	if err != nil {
		return bot.Attachment{}, fmt.Errorf("read attachment: %w", err)
	}
	switch {
	case int64(len(data)) > s.max:
		return bot.Attachment{}, s.TooLarge()
	case len(data) == 0:
		return bot.Attachment{}, ErrEmpty
	}
	typ := Sniff(data)
	ext, ok := Types[typ]
	if !ok {
		return bot.Attachment{}, ErrType
	}
	a := bot.Attachment{ID: bot.NewID("att_"), Name: cleanName(name, ext), Type: typ, Size: int64(len(data))}
	if err := s.blobs.PutAttachment(ctx, conversationID, a.ID, data); err != nil {
		return bot.Attachment{}, fmt.Errorf("save attachment %s: %w", a.ID, err)
	}
	return a, nil
}

// ErrNotFound: no such attachment in the conversation.
var ErrNotFound error = bot.NewError(bot.CodeNotFound, "no such attachment")

// Open opens an attachment of the conversation for reading, with its
// content type sniffed again from its bytes; ErrNotFound when the
// conversation has no such attachment. The caller closes the file.
func (s *Store) Open(ctx context.Context, conversationID, id string) (io.ReadSeekCloser, string, error) {
	f, typ, _, err := s.open(ctx, conversationID, id)
	return f, typ, err
}

func (s *Store) open(ctx context.Context, conversationID, id string) (io.ReadSeekCloser, string, time.Time, error) {
	if !bot.ValidID(conversationID, "con_") || !bot.ValidID(id, "att_") {
		return nil, "", time.Time{}, ErrNotFound
	}
	f, at, err := s.blobs.Attachment(ctx, conversationID, id)
	if bot.ErrorCode(err) == bot.CodeNotFound || errors.Is(err, bot.ErrNotFound) {
		return nil, "", time.Time{}, ErrNotFound
	}
	if err != nil {
		return nil, "", time.Time{}, fmt.Errorf("open attachment %s: %w", id, err)
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, "", time.Time{}, fmt.Errorf("open attachment %s: %w", id, err)
	}
	return f, Sniff(head[:n]), at, nil
}

// Serve writes the attachment as the response: its sniffed type, never
// executed or re-interpreted by the browser (nosniff, a sandboxing CSP),
// images inline and PDFs as downloads.
func (s *Store) Serve(w http.ResponseWriter, r *http.Request, conversationID, id, name string) {
	f, typ, at, err := s.open(r.Context(), conversationID, id)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrNotFound) {
			status = http.StatusNotFound
		}
		http.Error(w, bot.ErrorMessage(err), status)
		return
	}
	defer f.Close()
	if _, ok := Types[typ]; !ok {
		http.Error(w, "no such attachment", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600")
	disposition := "inline"
	if !strings.HasPrefix(typ, "image/") {
		disposition = "attachment"
	}
	if name == "" {
		name = id + Types[typ]
	}
	h.Set("Content-Disposition", fmt.Sprintf("%s; filename=%q", disposition, asciiName(name)))
	http.ServeContent(w, r, "", at, f)
}

// Sniff returns the content type of data from its first bytes, without
// parameters.
func Sniff(data []byte) string {
	typ := http.DetectContentType(data)
	if i := strings.IndexByte(typ, ';'); i >= 0 {
		typ = typ[:i]
	}
	return typ
}

// cleanName keeps a file name for showing: its last path element,
// without control characters, at most 100 characters; "file" plus ext
// when nothing usable is left.
func cleanName(name, ext string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > 100 {
		name = string(r[len(r)-100:])
	}
	if name == "" || name == "." || name == ".." {
		name = "file" + ext
	}
	return name
}

// asciiName is name with anything but printable ASCII replaced, for a
// Content-Disposition header.
func asciiName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
}

// Prune deletes the files of every conversation that gone reports
// no longer stored (erased on request, or expired by retention), and
// returns how many conversations' files it deleted. Run it after
// conversations are erased: the files go with them.
func (s *Store) Prune(gone func(conversationID string) (bool, error)) (int, error) {
	ctx := context.Background()
	convs, err := s.blobs.AttachmentConversations(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune attachments: %w", err)
	}
	n := 0
	for _, id := range convs {
		if !bot.ValidID(id, "con_") {
			continue
		}
		g, err := gone(id)
		if err != nil {
			return n, fmt.Errorf("prune attachments of %s: %w", id, err)
		}
		if !g {
			continue
		}
		if err := s.blobs.DeleteAttachments(ctx, id); err != nil {
			return n, fmt.Errorf("prune attachments of %s: %w", id, err)
		}
		n++
	}
	return n, nil
}
