package bolt

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// inFile reports which of the strings occur in the raw bytes of the file
// at path: live records, free pages and all, as `strings` would see them.
func inFile(t *testing.T, path string, what ...string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, w := range what {
		if bytes.Contains(data, []byte(w)) {
			found = append(found, w)
		}
	}
	return found
}

// Bolt's tests seed 40 messages a customer, appended one act at a time
// as a chat does, so that bbolt rewrites pages and frees old copies.
var (
	zelda = storetest.Person{ID: "cus_zelda", Name: "Zelda Quarrington", Email: "zelda.q@example.org", Messages: 40,
		Sentence: "my violet lampshade from the Wexford warehouse arrived in three pieces",
		Comment:  "Quarrington family thanks you kindly"}
	otto = storetest.Person{ID: "cus_otto", Name: "Otto Brandvold", Email: "otto.b@example.net", Messages: 40,
		Sentence: "the brass floor lamp flickers whenever the kettle boils"}
)

// What every store's erasure must do is checked by store/storetest
// (RunRecords, on the raw file). Beyond that, the compaction must leave
// a sound file that works on, with nothing of the customer even after
// Close.
func TestForgetCompactsToASoundFile(t *testing.T) {
	path := tempPath(t)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	storetest.SeedPerson(t, db, zelda)
	storetest.SeedPerson(t, db, otto)
	secrets := []string{zelda.Sentence, zelda.Name, zelda.Email, zelda.Comment, "hash-of-cus_zelda"}
	if got := inFile(t, path, secrets...); len(got) != len(secrets) {
		t.Fatalf("before forget the file holds only %q of the secrets: the test would prove nothing", got)
	}
	if _, err := db.ForgetCustomer(ctx, zelda.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Append(ctx, bot.Message{ConversationID: "con_cus_otto", From: bot.FromCustomer, Text: "still there?"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := inFile(t, path, secrets...); len(got) > 0 {
		t.Errorf("after forget the file still holds %q", got)
	}
	if got := inFile(t, path, otto.Sentence, otto.Email); len(got) != 2 {
		t.Errorf("otto's data went too: only %q left", got)
	}
	if _, err := Verify(ctx, path); err != nil {
		t.Errorf("the compacted file: %v", err)
	}
}

// The reason ForgetCustomer compacts: deleting alone leaves the text in
// free pages, where a raw scan finds it.
func TestDeletingWithoutCompactionLeavesTextInFreePages(t *testing.T) {
	path := tempPath(t)
	db := open(t, path)
	storetest.SeedPerson(t, db, zelda)
	err := db.update(ctx, func(tx *bbolt.Tx) error {
		var e bot.Erased
		people, err := customerAndLinked(tx, zelda.ID)
		if err != nil {
			return err
		}
		c, err := conversationsOf(tx, zelda.ID)
		if err != nil {
			return err
		}
		if _, err := eraseConversation(tx, &c[0], &e); err != nil {
			return err
		}
		return eraseCustomer(tx, &people[0], &e)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if got := inFile(t, path, zelda.Sentence); len(got) == 0 {
		t.Error("the deleted text is not in the file: this test no longer shows why forget compacts")
	}
}

// A forget whose compaction never ran (the process died between the two)
// is finished by the next Open.
func TestOpenFinishesAnInterruptedScrub(t *testing.T) {
	path := tempPath(t)
	db := open(t, path)
	storetest.SeedPerson(t, db, zelda)
	err := db.update(ctx, func(tx *bbolt.Tx) error {
		var e bot.Erased
		c, err := conversationsOf(tx, zelda.ID)
		if err != nil {
			return err
		}
		if _, err := eraseConversation(tx, &c[0], &e); err != nil {
			return err
		}
		return markScrub(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if got := inFile(t, path, zelda.Sentence); len(got) == 0 {
		t.Fatal("nothing to scrub: the test would prove nothing")
	}
	db = open(t, path)
	db.Close()
	if got := inFile(t, path, zelda.Sentence); len(got) > 0 {
		t.Error("Open did not compact a file marked for scrubbing")
	}
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if pending, _ := scrubPending(b); pending {
		t.Error("the scrub mark is still set")
	}
}

// Compaction swaps the file under readers and writers: none of them may
// fail or lose anything.
func TestCompactionUnderReadersAndWriters(t *testing.T) {
	db := open(t, tempPath(t))
	const writers, each = 4, 60
	convs := make([]string, writers)
	for i := range convs {
		convs[i] = newConversation(t, db, fmt.Sprint("cus_", i)).ID
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	for _, id := range convs {
		wg.Go(func() {
			for i := range each {
				if _, _, err := db.Append(ctx, bot.Message{ConversationID: id, From: bot.FromCustomer, Text: fmt.Sprint("m", i)}); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.Messages(ctx, id, 0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 5 {
		if err := db.scrub(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, id := range convs {
		ms, err := db.Messages(ctx, id, 0)
		if err != nil || len(ms) != each {
			t.Errorf("%s: %d messages, %v; want %d", id, len(ms), err, each)
		}
		for i, m := range ms {
			if m.Seq != int64(i+1) {
				t.Errorf("%s: message %d has seq %d", id, i, m.Seq)
				break
			}
		}
	}
}

// The Telegram sender drops an undecodable outbox entry from inside its
// scan; a compaction (which waits for readers) must not deadlock on it.
func TestOutboxScanMayWriteWhileACompactionWaits(t *testing.T) {
	db, err := Open(tempPath(t))
	if err != nil {
		t.Fatal(err)
	}
	// Closed only on success: after a deadlock, Close would wait forever.
	if err = db.TelegramDone(ctx, 1, [][]byte{[]byte("not json"), []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- db.TelegramOutbox(ctx, func(id uint64, data []byte) error {
			if err := db.scrub(ctx); err != nil {
				return err
			}
			return db.TelegramSent(ctx, id)
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: the outbox scan waits for a compaction that waits for the scan")
	}
	n := 0
	db.TelegramOutbox(ctx, func(uint64, []byte) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d entries left", n)
	}
	db.Close()
}
