package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

var ctx = context.Background()

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tempPath(t *testing.T) string { return filepath.Join(t.TempDir(), "sub", "frontdesk.db") }

func newConversation(t *testing.T, db *DB, customer string) *bot.Conversation {
	t.Helper()
	now := time.Now().UTC()
	c := &bot.Conversation{ID: bot.NewID("con_"), CustomerID: customer, Channel: bot.Web, State: bot.StateBot, Created: now, Updated: now}
	if err := db.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEverythingSurvivesCloseAndReopen(t *testing.T) {
	path := tempPath(t)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	cust := &bot.Customer{ID: "cus_1", Name: "Ana", Email: "Ana@Example.com", Segment: "vip",
		Identities: []bot.Identity{{Channel: bot.Web, ID: "tokenhash"}}, Attrs: map[string]string{"plan": "gold"}}
	if err := db.SaveCustomer(ctx, cust); err != nil {
		t.Fatal(err)
	}
	conv := newConversation(t, db, cust.ID)
	for i := range 3 {
		if _, _, err := db.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromCustomer, Text: fmt.Sprint("m", i), ClientID: fmt.Sprint("c", i)}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	db = open(t, path)
	got, err := db.CustomerByIdentity(ctx, bot.Identity{Channel: bot.Web, ID: "tokenhash"})
	if err != nil || got.Name != "Ana" || got.Segment != "vip" || got.Attrs["plan"] != "gold" {
		t.Fatalf("customer by identity after reopen = %+v, %v", got, err)
	}
	if byMail, err := db.CustomerByEmail(ctx, "ana@example.COM"); err != nil || byMail.ID != cust.ID {
		t.Errorf("customer by email (any case) = %+v, %v", byMail, err)
	}
	ms, err := db.Messages(ctx, conv.ID, 0)
	if err != nil || len(ms) != 3 || ms[2].Seq != 3 || ms[2].Text != "m2" {
		t.Fatalf("messages after reopen = %+v, %v", ms, err)
	}
	c, err := db.Conversation(ctx, conv.ID)
	if err != nil || c.LastSeq != 3 {
		t.Errorf("conversation after reopen = %+v, %v", c, err)
	}
	// A retried client id is still recognised after the restart.
	m, dup, err := db.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromCustomer, Text: "m1 again", ClientID: "c1"})
	if err != nil || !dup || m.Seq != 2 || m.Text != "m1" {
		t.Errorf("retry after reopen = %+v dup=%v err=%v, want the stored seq 2", m, dup, err)
	}
}

func TestAppendNumbersMessagesAndStoresARetryOnce(t *testing.T) {
	db := open(t, tempPath(t))
	conv := newConversation(t, db, "cus_1")
	first, dup, err := db.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "hello", ClientID: "x"})
	if err != nil || dup || first.Seq != 1 {
		t.Fatalf("first append = %+v dup=%v err=%v", first, dup, err)
	}
	again, dup, err := db.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "hello", ClientID: "x"})
	if err != nil || !dup || again.Seq != 1 {
		t.Fatalf("retry = %+v dup=%v err=%v, want dup of seq 1", again, dup, err)
	}
	// Messages without a client id (the bot's) are never deduplicated.
	for range 2 {
		if _, dup, err := db.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "same"}); err != nil || dup {
			t.Fatalf("append without client id: dup=%v err=%v", dup, err)
		}
	}
	ms, _ := db.Messages(ctx, conv.ID, 1)
	if len(ms) != 2 || ms[0].Seq != 2 || ms[1].Seq != 3 {
		t.Errorf("messages after 1 = %+v, want seqs 2 and 3", ms)
	}
	// The same client id in another conversation is another message.
	other := newConversation(t, db, "cus_2")
	if _, dup, _ := db.Append(ctx, bot.Message{ConversationID: other.ID, Text: "hello", ClientID: "x"}); dup {
		t.Error("a client id was shared across conversations")
	}
}

func TestAppendToAnUnknownConversationFails(t *testing.T) {
	db := open(t, tempPath(t))
	_, _, err := db.Append(ctx, bot.Message{ConversationID: "con_nope", Text: "hi"})
	if !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestConcurrentAppendsGetDistinctSequenceNumbers(t *testing.T) {
	db := open(t, tempPath(t))
	conv := newConversation(t, db, "cus_1")
	var wg sync.WaitGroup
	seqs := make([]int64, 20)
	for i := range seqs {
		wg.Go(func() {
			m, _, err := db.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "x", ClientID: fmt.Sprint(i)})
			if err != nil {
				t.Error(err)
			}
			seqs[i] = m.Seq
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, s := range seqs {
		if s < 1 || s > 20 || seen[s] {
			t.Fatalf("sequence numbers %v are not 1..20 each once", seqs)
		}
		seen[s] = true
	}
}

func TestSaveConversationNeverLowersLastSeq(t *testing.T) {
	db := open(t, tempPath(t))
	conv := newConversation(t, db, "cus_1")
	stale := *conv
	if _, _, err := db.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "a"}); err != nil {
		t.Fatal(err)
	}
	stale.State = bot.StateQueued
	if err := db.SaveConversation(ctx, &stale); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Conversation(ctx, conv.ID)
	if got.LastSeq != 1 || got.State != bot.StateQueued {
		t.Errorf("after saving a stale copy: %+v, want LastSeq 1 and the new state", got)
	}
	stale.CustomerID = "cus_other"
	if err := db.SaveConversation(ctx, &stale); err == nil {
		t.Error("a conversation moved to another customer")
	}
}

func TestConversationsAreListedNewestFirst(t *testing.T) {
	db := open(t, tempPath(t))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"con_a", "con_c", "con_b"} {
		c := &bot.Conversation{ID: id, CustomerID: "cus_1", Created: base.Add(time.Duration(i) * time.Hour)}
		if err := db.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	newConversation(t, db, "cus_10") // a customer id that shares a prefix
	cs, err := db.Conversations(ctx, "cus_1")
	if err != nil || len(cs) != 3 || cs[0].ID != "con_b" || cs[2].ID != "con_a" {
		t.Errorf("conversations = %+v, %v; want con_b, con_c, con_a", cs, err)
	}
}

func TestIdentitiesAndEmailFollowTheCustomer(t *testing.T) {
	db := open(t, tempPath(t))
	web := bot.Identity{Channel: bot.Web, ID: "w1"}
	tg := bot.Identity{Channel: bot.Telegram, ID: "42"}
	c := &bot.Customer{ID: "cus_1", Email: "old@example.com", Identities: []bot.Identity{web}}
	if err := db.SaveCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Identities = []bot.Identity{tg}
	c.Email = "new@example.com"
	if err := db.SaveCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CustomerByIdentity(ctx, web); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a released identity still finds the customer: %v", err)
	}
	if _, err := db.CustomerByEmail(ctx, "old@example.com"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the old email still finds the customer: %v", err)
	}
	if got, err := db.CustomerByIdentity(ctx, tg); err != nil || got.ID != "cus_1" {
		t.Errorf("new identity: %+v, %v", got, err)
	}
	// Another customer cannot take an identity that is in use.
	err := db.SaveCustomer(ctx, &bot.Customer{ID: "cus_2", Identities: []bot.Identity{tg}})
	if !errors.Is(err, ErrIdentityTaken) {
		t.Errorf("err = %v, want ErrIdentityTaken", err)
	}
	if got, _ := db.CustomerByIdentity(ctx, tg); got == nil || got.ID != "cus_1" {
		t.Errorf("the identity moved to %+v", got)
	}
}

func TestListCustomersMostRecentFirst(t *testing.T) {
	db := open(t, tempPath(t))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"cus_a", "cus_b", "cus_c"} {
		if err := db.SaveCustomer(ctx, &bot.Customer{ID: id, LastSeen: base.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := db.ListCustomers(ctx, 2)
	if err != nil || len(cs) != 2 || cs[0].ID != "cus_c" || cs[1].ID != "cus_b" {
		t.Errorf("list = %+v, %v", cs, err)
	}
}

func TestASecondOpenOfTheSameFileFailsClearly(t *testing.T) {
	path := tempPath(t)
	open(t, path)
	_, err := Open(path)
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second open: %v, want ErrLocked", err)
	}
}

func TestANewerSchemaIsRefused(t *testing.T) {
	path := tempPath(t)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.bolt.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte("schema"), u64(schemaVersion+1)) })
	db.Close()
	if db, err := Open(path); err == nil {
		db.Close()
		t.Fatal("a file with a newer schema was opened")
	}
}

func TestClosedDatabaseSaysSo(t *testing.T) {
	db, err := Open(tempPath(t))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := db.Customer(ctx, "x"); !errors.Is(err, bot.ErrClosed) {
		t.Errorf("err = %v, want ErrClosed", err)
	}
}

func TestConcurrentUpdatesOfACustomerAreAllKept(t *testing.T) {
	db := open(t, tempPath(t))
	if err := db.SaveCustomer(ctx, &bot.Customer{ID: "cus_1", Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := db.UpdateCustomer(ctx, "cus_1", func(c *bot.Customer) error {
				c.Tags = append(c.Tags, fmt.Sprint(i))
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c, err := db.UpdateCustomer(ctx, "cus_1", func(c *bot.Customer) error { c.Email = "b@example.com"; return nil })
	if err != nil || len(c.Tags) != 20 {
		t.Fatalf("after 20 concurrent updates: %d tags, %v; want 20", len(c.Tags), err)
	}
	if got, err := db.CustomerByEmail(ctx, "b@example.com"); err != nil || got.ID != "cus_1" {
		t.Errorf("the email index did not follow an update: %v", err)
	}
	if _, err := db.UpdateCustomer(ctx, "cus_nope", func(*bot.Customer) error { return nil }); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("update of an unknown customer: %v", err)
	}
}

// TestASaveThatKeepsIdentitiesAndEmailLeavesTheirIndexes: a turn that
// notes a topic saves the customer; the identity and email indexes, which
// did not change, are not rewritten (fewer pages a commit), and still find
// the customer.
func TestASaveThatKeepsIdentitiesAndEmailLeavesTheirIndexes(t *testing.T) {
	db := open(t, tempPath(t))
	web := bot.Identity{Channel: bot.Web, ID: "w1"}
	tg := bot.Identity{Channel: bot.Telegram, ID: "42"}
	c := &bot.Customer{ID: "cus_1", Email: "ana@example.com", Identities: []bot.Identity{web, tg}}
	if err := db.SaveCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	// Enough others that each index has pages of its own (saved at once:
	// their acts share commits).
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := &bot.Customer{ID: fmt.Sprint("cus_o", i), Email: fmt.Sprint("o", i, "@example.com"),
				Identities: []bot.Identity{{Channel: bot.Web, ID: fmt.Sprint("o", i)}}}
			if err := db.SaveCustomer(ctx, o); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	written := func(save func()) int64 {
		st := db.bolt.Stats()
		before := st.TxStats.GetWrite()
		save()
		st = db.bolt.Stats()
		return st.TxStats.GetWrite() - before
	}
	kept := written(func() {
		c.Name = "Ana"
		if err := db.SaveCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	})
	moved := written(func() {
		c.Identities = []bot.Identity{tg, web}
		c.Email = "ana@example.org"
		if err := db.SaveCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("pages written: %d keeping the identities and email, %d moving them", kept, moved)
	if kept >= moved {
		t.Errorf("a save keeping the identities and email wrote %d pages, one moving them %d", kept, moved)
	}
	for _, id := range []bot.Identity{web, tg} {
		if got, err := db.CustomerByIdentity(ctx, id); err != nil || got.ID != "cus_1" || got.Name != "Ana" {
			t.Errorf("%v finds %+v, %v", id, got, err)
		}
	}
	if got, err := db.CustomerByEmail(ctx, "ana@example.org"); err != nil || got.ID != "cus_1" {
		t.Errorf("the email finds %+v, %v", got, err)
	}
	if _, err := db.CustomerByEmail(ctx, "ana@example.com"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the old email still finds the customer: %v", err)
	}
}

// TestAMessageEncodedBeforeItsActIsStoredAsEncodedOnlyWhereItBelongs
// stores one message encoded for its place and one whose encoding was
// made for another seq and text (a turn planned against an older
// conversation): each reads back as the message given.
func TestAMessageEncodedBeforeItsActIsStoredAsEncodedOnlyWhereItBelongs(t *testing.T) {
	db := open(t, tempPath(t))
	conv := newConversation(t, db, "cus_1")
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	first := bot.Message{ConversationID: conv.ID, Seq: 1, From: bot.FromBot, Text: "first", Time: at}
	enc, err := db.EncodeMessage(first)
	if err != nil {
		t.Fatal(err)
	}
	first.Encoded = enc
	second := bot.Message{ConversationID: conv.ID, Seq: 2, From: bot.FromBot, Text: "second", Time: at, Encoded: enc}
	err = db.Update(ctx, func(btx bot.Tx) error {
		if err := btx.PutMessage(first); err != nil {
			return err
		}
		return btx.PutMessage(second)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Messages(ctx, conv.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq != 1 || got[0].Text != "first" || got[1].Seq != 2 || got[1].Text != "second" {
		t.Fatalf("stored %+v, want first and second at seqs 1 and 2", got)
	}
}
