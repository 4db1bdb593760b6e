package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
)

// A backup taken while writers append is one moment of the database:
// every message stored before it began is in it, every conversation in it
// is whole (seq 1..LastSeq), and the copy opens as a database.
func TestBackupUnderWritesIsConsistent(t *testing.T) {
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "frontdesk.db"))
	const writers = 8
	convs := make([]string, writers)
	for i := range convs {
		convs[i] = newConversation(t, db, fmt.Sprint("cus_", i)).ID
	}
	// Enough history that the copy takes a while.
	for _, id := range convs {
		err := db.Update(ctx, func(tx bot.Tx) error {
			c, err := tx.Conversation(id)
			if err != nil {
				return err
			}
			for range 500 {
				c.LastSeq++
				if err := tx.PutMessage(bot.Message{ConversationID: id, Seq: c.LastSeq, From: bot.FromCustomer, Text: "a warm-up message with some padding to fill the pages"}); err != nil {
					return err
				}
			}
			return tx.PutConversation(c)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var stored [writers]atomic.Int64 // highest seq acknowledged per conversation
	var wg sync.WaitGroup
	for w, id := range convs {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m, _, err := db.Append(ctx, bot.Message{ConversationID: id, From: bot.FromCustomer, Text: fmt.Sprint("during ", i)})
				if err != nil {
					t.Error(err)
					return
				}
				stored[w].Store(m.Seq)
			}
		})
	}
	var atStart [writers]int64
	for w := range stored {
		atStart[w] = stored[w].Load()
	}
	f, err := os.Create(filepath.Join(dir, "backup.db"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Backup(ctx, f)
	f.Close()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(f.Name()); fi.Size() != n {
		t.Errorf("Backup reported %d bytes, wrote %d", n, fi.Size())
	}
	contents, err := Verify(ctx, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	copyDB := open(t, f.Name())
	total := 0
	for w, id := range convs {
		c, err := copyDB.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.LastSeq < atStart[w] {
			t.Errorf("%s: the backup ends at seq %d, but %d was stored before it began", id, c.LastSeq, atStart[w])
		}
		ms, err := copyDB.Messages(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(ms)) != c.LastSeq {
			t.Errorf("%s: %d messages, LastSeq %d", id, len(ms), c.LastSeq)
		}
		total += len(ms)
	}
	if contents.Messages != total || contents.Conversations != writers {
		t.Errorf("Verify counts %+v, want %d conversations and %d messages", contents, writers, total)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".frontdesk-backup-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestBackupFileWorksOnlyWhileNobodyHasTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "frontdesk.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	newConversation(t, db, "cus_1")
	if _, err := BackupFile(ctx, path, discard{}); !errors.Is(err, ErrLocked) {
		t.Errorf("while open: %v, want ErrLocked", err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	out := filepath.Join(dir, "copy.db")
	f, _ := os.Create(out)
	if _, err := BackupFile(ctx, path, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("BackupFile changed the database file")
	}
	if c, err := Verify(ctx, out); err != nil || c.Conversations != 1 || c.Schema != schemaVersion {
		t.Errorf("the copy: %+v, %v", c, err)
	}
	if _, err := BackupFile(ctx, filepath.Join(dir, "none.db"), discard{}); err == nil {
		t.Error("a missing file was backed up")
	}
}

func TestVerifyRejectsWhatIsNotADatabase(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("not a database at all, just some text that is long enough"), 0o600)
	if _, err := Verify(ctx, junk); err == nil {
		t.Error("junk verified")
	}
	// A truncated copy.
	path := filepath.Join(dir, "frontdesk.db")
	db := open(t, path)
	for i := range 200 {
		newConversation(t, db, fmt.Sprint("cus_", i))
	}
	f, _ := os.Create(filepath.Join(dir, "full.db"))
	n, err := db.Backup(ctx, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(f.Name())
	cut := filepath.Join(dir, "cut.db")
	os.WriteFile(cut, data[:n/2], 0o600)
	if _, err := Verify(ctx, cut); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("a truncated backup: %v, want truncated", err)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
