package postgres_test

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/store/postgres"
)

// TestASharedContentFileReachesTheOtherNode shares an article file from
// one node: the other node's bus signals, and it lists and reads the file
// back; sharing it again replaces it.
func TestASharedContentFileReachesTheOtherNode(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	select {
	case <-b.bus.ContentChanged():
		t.Fatal("signalled before anything was shared")
	default:
	}
	for i, text := range []string{"---\nid: one\ntitle: One\n---\nFirst.\n", "---\nid: one\ntitle: One\n---\nSecond.\n"} {
		before := time.Now().Add(-time.Minute)
		if err := a.db.ShareContentFile(ctx, "articles/one.md", []byte(text)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-b.bus.ContentChanged():
		case <-time.After(10 * time.Second):
			t.Fatalf("share %d: the other node's bus did not signal", i)
		}
		files, err := b.db.ContentFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 1 || files[0].Name != "articles/one.md" || files[0].Sum != sha256.Sum256([]byte(text)) || files[0].Written.Before(before) {
			t.Fatalf("share %d: listed %+v", i, files)
		}
		data, _, err := b.db.ContentFileData(ctx, "articles/one.md")
		if err != nil || string(data) != text {
			t.Fatalf("share %d: read %q, %v; want %q", i, data, err, text)
		}
	}
	if _, _, err := b.db.ContentFileData(ctx, "articles/none.md"); !errors.Is(err, postgres.ErrNoContentFile) {
		t.Errorf("a file never shared: %v, want ErrNoContentFile", err)
	}
}
