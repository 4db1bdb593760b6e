package bolt_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/frontdesk/frontdesk/store/bolt"
)

func TestTelegramStateSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "f.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.TelegramDone(ctx, 41, [][]byte{[]byte("a"), []byte("b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TelegramTrack(ctx, "con_1", -5); err != nil {
		t.Fatal(err)
	}
	if err := db.TelegramQueue(ctx, "con_1", 3, [][]byte{[]byte("c")}); err != nil {
		t.Fatal(err)
	}
	if err := db.TelegramQueue(ctx, "con_1", 3, nil); err == nil {
		t.Error("the cursor moved backwards or stayed: want an error")
	}
	if err := db.TelegramSent(ctx, 1); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if off, _ := db.TelegramOffset(ctx); off != 42 {
		t.Errorf("offset %d, want 42", off)
	}
	if seen, _ := db.TelegramSeen(ctx, 41); !seen {
		t.Error("update 41 forgotten")
	}
	var got []string
	db.TelegramOutbox(ctx, func(id uint64, data []byte) error { got = append(got, string(data)); return nil })
	if len(got) != 2 || got[0] != "b" || got[1] != "c" {
		t.Errorf("outbox %q, want [b c]", got)
	}
	if cur, _ := db.TelegramTrack(ctx, "con_1", -5); cur != 3 {
		t.Errorf("cursor %d, want 3", cur)
	}
}
