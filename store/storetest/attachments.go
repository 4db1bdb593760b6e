package storetest

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
)

// RunAttachments runs the contract of attachment.Blobs, through an
// attachment.Store over it, on what open returns: empty, closed by open's
// cleanup.
func RunAttachments(t *testing.T, open func(t *testing.T) attachment.Blobs) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, b attachment.Blobs)
	}{
		{"AFileIsKeptAndServedWithItsSniffedType", attachmentServed},
		{"TheSizeCapAndTheTypeHold", attachmentRefused},
		{"PruneDeletesTheFilesOfErasedConversations", attachmentPruned},
		{"ConcurrentSavesAreAllKept", attachmentsConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// pngBytes is a real 2x2 PNG.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const (
	convA = "con_0123456789abcdef"
	convB = "con_fedcba9876543210"
)

func attachmentServed(t *testing.T, b attachment.Blobs) {
	s := attachment.New(b, 0)
	data := pngBytes(t)
	start := time.Now().Add(-time.Second)
	a, err := s.SaveContext(ctx, convA, `C:\Users\ana\photo "of" lamp.png`, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != "image/png" || a.Size != int64(len(data)) || a.Name != "photo of lamp.png" || !strings.HasPrefix(a.ID, "att_") {
		t.Errorf("attachment %+v", a)
	}
	f, at, err := b.Attachment(ctx, convA, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, data) || at.Before(start) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("kept %d bytes at %v, want the %d sent, now", len(got), at, len(data))
	}
	rec := httptest.NewRecorder()
	s.Serve(rec, httptest.NewRequest(http.MethodGet, "/", nil), convA, a.ID, a.Name)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" || !bytes.Equal(rec.Body.Bytes(), data) ||
		rec.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "inline") {
		t.Errorf("served %d %v", rec.Code, rec.Header())
	}
	// A range, as a browser resumes a download.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Range", "bytes=1-3")
	rec = httptest.NewRecorder()
	s.Serve(rec, req, convA, a.ID, a.Name)
	if rec.Code != http.StatusPartialContent || rec.Body.String() != string(data[1:4]) {
		t.Errorf("range: %d %q", rec.Code, rec.Body.String())
	}
	// Another conversation does not have it.
	rec = httptest.NewRecorder()
	s.Serve(rec, httptest.NewRequest(http.MethodGet, "/", nil), convB, a.ID, "")
	if rec.Code != http.StatusNotFound {
		t.Errorf("served from another conversation: %d", rec.Code)
	}
	if _, _, err := s.Open(ctx, convA, "att_00"); !errors.Is(err, attachment.ErrNotFound) {
		t.Errorf("an unknown attachment: %v, want ErrNotFound", err)
	}
	pdf, err := s.SaveContext(ctx, convA, "invoice.pdf", strings.NewReader("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"))
	if err != nil || pdf.Type != "application/pdf" {
		t.Fatalf("%+v, %v", pdf, err)
	}
	rec = httptest.NewRecorder()
	s.Serve(rec, httptest.NewRequest(http.MethodGet, "/", nil), convA, pdf.ID, pdf.Name)
	if got := rec.Header().Get("Content-Disposition"); got != `attachment; filename="invoice.pdf"` {
		t.Errorf("Content-Disposition %q", got)
	}
}

func attachmentRefused(t *testing.T, b attachment.Blobs) {
	s := attachment.New(b, 1024)
	for name, body := range map[string]string{
		"page.png":  "<html><script>alert(1)</script></html>", // named as an image, is HTML
		"notes.txt": "just text",
		"empty.pdf": "",
	} {
		if _, err := s.SaveContext(ctx, convA, name, strings.NewReader(body)); bot.ErrorCode(err) != bot.CodeInvalid {
			t.Errorf("%s: err %v, want invalid", name, err)
		}
	}
	big := append(pngBytes(t), make([]byte, 1024)...)
	if _, err := s.SaveContext(ctx, convA, "big.png", bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over the cap: %v", err)
	}
	exact := append(pngBytes(t), make([]byte, 1024-len(pngBytes(t)))...)
	if _, err := s.SaveContext(ctx, convA, "exact.png", bytes.NewReader(exact)); err != nil {
		t.Errorf("a file of exactly the cap: %v", err)
	}
	if _, err := s.SaveContext(ctx, "../etc", "a.png", bytes.NewReader(pngBytes(t))); err == nil {
		t.Error("a conversation id with a path was accepted")
	}
	if _, _, err := s.Open(ctx, convA, "../../frontdesk.db"); !errors.Is(err, attachment.ErrNotFound) {
		t.Errorf("open with a path: %v", err)
	}
	if convs, err := b.AttachmentConversations(ctx); err != nil || len(convs) != 1 {
		t.Errorf("conversations with files: %v, %v; want only the one file of the cap's size", convs, err)
	}
}

func attachmentPruned(t *testing.T, b attachment.Blobs) {
	s := attachment.New(b, 0)
	var kept, erased bot.Attachment
	for _, c := range []string{convA, convB} {
		a, err := s.SaveContext(ctx, c, "a.png", bytes.NewReader(pngBytes(t)))
		if err != nil {
			t.Fatal(err)
		}
		if c == convA {
			kept = a
		} else {
			erased = a
		}
	}
	n, err := s.Prune(func(id string) (bool, error) { return id == convB, nil })
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if _, _, err := s.Open(ctx, convB, erased.ID); !errors.Is(err, attachment.ErrNotFound) {
		t.Errorf("the erased conversation's file remains: %v", err)
	}
	f, _, err := s.Open(ctx, convA, kept.ID)
	if err != nil {
		t.Fatalf("a kept conversation's file was deleted: %v", err)
	}
	f.Close()
	if convs, err := b.AttachmentConversations(ctx); err != nil || len(convs) != 1 || convs[0] != convA {
		t.Errorf("conversations with files: %v, %v", convs, err)
	}
	boom := errors.New("boom")
	if _, err := s.Prune(func(string) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("prune when the store fails: %v", err)
	}
}

func attachmentsConcurrent(t *testing.T, b attachment.Blobs) {
	s := attachment.New(b, 0)
	data := pngBytes(t)
	var wg sync.WaitGroup
	ids := make([]string, 12)
	for i := range ids {
		wg.Go(func() {
			a, err := s.SaveContext(ctx, convA, "a.png", bytes.NewReader(data))
			if err != nil {
				t.Error(err)
			}
			ids[i] = a.ID
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range ids {
		f, _, err := s.Open(ctx, convA, id)
		if err != nil || seen[id] {
			t.Fatalf("file %q: %v (seen before: %v)", id, err, seen[id])
		}
		seen[id] = true
		f.Close()
	}
}
