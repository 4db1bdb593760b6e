package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// TestForgettingACustomerDeletesTheirFiles: the console's erasure takes
// the files of the customer's conversations with it, and no one else's.
func TestForgettingACustomerDeletesTheirFiles(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dataDir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files, err := attachment.Open(attachmentsDir(dataDir), 0)
	if err != nil {
		t.Fatal(err)
	}
	e := bot.NewEngine(nil, db, bot.NewBus(), bot.Options{})
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 1, 1)))
	var sessions []*bot.Session
	for _, v := range []string{"ana", "bo"} {
		s, err := e.Start(ctx, bot.Identity{Channel: bot.Web, ID: v}, bot.Profile{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := files.Save(s.Conversation.ID, "a.png", bytes.NewReader(img.Bytes())); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	r := recordsWithFiles{serveStore: db, file: db, files: files, log: slog.New(slog.DiscardHandler)}
	if _, err := r.ForgetCustomer(ctx, sessions[0].Customer.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(attachmentsDir(dataDir), sessions[0].Conversation.ID)); !os.IsNotExist(err) {
		t.Errorf("the forgotten customer's files remain: %v", err)
	}
	if _, err := os.Stat(filepath.Join(attachmentsDir(dataDir), sessions[1].Conversation.ID)); err != nil {
		t.Errorf("another customer's files went too: %v", err)
	}
}
