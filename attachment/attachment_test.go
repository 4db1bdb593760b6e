package attachment_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// pngBytes is a real 2x2 PNG.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const conv = "con_0123456789abcdef"

func TestAnImageIsKeptAndServedWithItsSniffedType(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "attachments")
	s, err := attachment.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	data := pngBytes(t)
	a, err := s.Save(conv, `C:\Users\ana\photo "of" lamp.png`, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != "image/png" || a.Size != int64(len(data)) || a.Name != "photo of lamp.png" || !strings.HasPrefix(a.ID, "att_") {
		t.Errorf("attachment %+v", a)
	}
	if fi, err := os.Stat(filepath.Join(dir, conv, a.ID)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("stored file: %v, %v", fi, err)
	}
	rec := httptest.NewRecorder()
	s.Serve(rec, httptest.NewRequest(http.MethodGet, "/", nil), conv, a.ID, a.Name)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" || !bytes.Equal(rec.Body.Bytes(), data) ||
		rec.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "inline") {
		t.Errorf("served %d %v", rec.Code, rec.Header())
	}
	// Another conversation does not have it.
	rec = httptest.NewRecorder()
	s.Serve(rec, httptest.NewRequest(http.MethodGet, "/", nil), "con_ffff", a.ID, "")
	if rec.Code != http.StatusNotFound {
		t.Errorf("served from another conversation: %d", rec.Code)
	}
}

func TestAPDFIsADownload(t *testing.T) {
	s, _ := attachment.Open(t.TempDir(), 0)
	a, err := s.Save(conv, "invoice.pdf", strings.NewReader("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"))
	if err != nil || a.Type != "application/pdf" {
		t.Fatalf("%+v, %v", a, err)
	}
	rec := httptest.NewRecorder()
	s.Serve(rec, httptest.NewRequest(http.MethodGet, "/", nil), conv, a.ID, a.Name)
	if got := rec.Header().Get("Content-Disposition"); got != `attachment; filename="invoice.pdf"` {
		t.Errorf("Content-Disposition %q", got)
	}
}

func TestFilesThatAreNotImagesOrPDFsOrTooLargeAreRefused(t *testing.T) {
	s, _ := attachment.Open(t.TempDir(), 1024)
	for name, body := range map[string]string{
		"page.png":  "<html><script>alert(1)</script></html>", // named as an image, is HTML
		"notes.txt": "just text",
		"empty.pdf": "",
	} {
		if _, err := s.Save(conv, name, strings.NewReader(body)); bot.ErrorCode(err) != bot.CodeInvalid {
			t.Errorf("%s: err %v, want invalid", name, err)
		}
	}
	big := append(pngBytes(t), make([]byte, 2048)...)
	if _, err := s.Save(conv, "big.png", bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over the limit: %v", err)
	}
	if _, err := s.Save("../etc", "a.png", bytes.NewReader(pngBytes(t))); err == nil {
		t.Error("a conversation id with a path was accepted")
	}
	if _, _, err := s.Open(context.Background(), conv, "../../frontdesk.db"); !errors.Is(err, attachment.ErrNotFound) {
		t.Errorf("open with a path: %v", err)
	}
}

func TestPruneDeletesTheFilesOfErasedConversations(t *testing.T) {
	dir := t.TempDir()
	s, _ := attachment.Open(dir, 0)
	kept, erased := "con_aa", "con_bb"
	for _, c := range []string{kept, erased} {
		if _, err := s.Save(c, "a.png", bytes.NewReader(pngBytes(t))); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Prune(func(id string) (bool, error) { return id == erased, nil })
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, erased)); !os.IsNotExist(err) {
		t.Errorf("the erased conversation's files remain: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, kept)); err != nil {
		t.Errorf("a kept conversation's files were deleted: %v", err)
	}
}

// The contract every place that keeps files holds (see store/storetest):
// here a directory.
func TestDirConformance(t *testing.T) {
	storetest.RunAttachments(t, func(t *testing.T) attachment.Blobs {
		d, err := attachment.OpenDir(filepath.Join(t.TempDir(), "attachments"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// BenchmarkDir keeps a file of the cap's size (random bytes behind a PNG
// header) in a directory, synced, and reads it back: the figure to set
// beside store/postgres's BenchmarkAttachment.
func BenchmarkDir(b *testing.B) {
	s, err := attachment.Open(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, attachment.DefaultMaxSize)
	rand.NewChaCha8([32]byte{}).Read(data)
	copy(data, "\x89PNG\r\n\x1a\n")
	b.SetBytes(int64(2 * len(data)))
	for b.Loop() {
		a, err := s.Save(conv, "photo.png", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		f, _, err := s.Open(context.Background(), conv, a.ID)
		if err != nil {
			b.Fatal(err)
		}
		if n, _ := io.Copy(io.Discard, f); n != int64(len(data)) {
			b.Fatalf("read %d bytes", n)
		}
		f.Close()
	}
}
