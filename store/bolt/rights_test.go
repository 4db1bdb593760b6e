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
	"github.com/frontdesk/frontdesk/handoff"
)

// person is a customer to seed: what they are called and what they
// wrote, so that a test can look for it in the file afterwards.
type person struct {
	id, name, email, sentence, comment string
	state                              bot.State // of the conversation; "" is the bot
	at                                 time.Time // when the conversation started
	messages                           int       // customer messages, each answered by the bot
}

// seed stores p as a customer with one conversation: the customer's
// messages (each carrying the sentence) appended one act at a time, as a
// chat does, so bbolt rewrites pages and frees old copies; bot replies,
// an agent's private note naming them, a closed ticket, a survey rating
// with a comment and a link code. It returns the conversation id.
func seed(t *testing.T, db *DB, p person) string {
	t.Helper()
	if p.at.IsZero() {
		p.at = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	}
	if p.state == "" {
		p.state = bot.StateBot
	}
	cust := &bot.Customer{ID: p.id, Identities: []bot.Identity{{Channel: bot.Web, ID: "hash-of-" + p.id}},
		FirstSeen: p.at, LastSeen: p.at}
	if err := db.SaveCustomer(ctx, cust); err != nil {
		t.Fatal(err)
	}
	conv := &bot.Conversation{ID: "con_" + p.id, CustomerID: p.id, Channel: bot.Web, State: bot.StateBot, Created: p.at, Updated: p.at}
	if err := db.SaveConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	at := p.at
	for i := range p.messages {
		at = at.Add(time.Minute)
		if _, _, err := db.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromCustomer, ClientID: fmt.Sprint("c", i),
			Text: fmt.Sprintf("%s (message %d)", p.sentence, i), Time: at}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromBot, Text: "Standard delivery takes 2 to 4 working days.", Time: at}); err != nil {
			t.Fatal(err)
		}
		if i == min(3, p.messages-1) {
			// The profile changes mid-chat, as when a customer gives their
			// name: the old record's page is freed.
			if _, err := db.UpdateCustomer(ctx, p.id, func(c *bot.Customer) error {
				c.Name, c.Email = p.name, p.email
				c.Topics = []bot.Topic{{ArticleID: "delivery-times", Title: "Delivery times", At: at}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := db.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromAgent, Agent: "agt_1", Internal: true,
		Text: "Note: " + p.name + " is a regular, " + p.email, Time: at}); err != nil {
		t.Fatal(err)
	}
	ticket := handoff.Ticket{ID: "tkt_" + p.id, ConversationID: conv.ID, CustomerID: p.id, Reason: "requested",
		Status: handoff.StatusQueued, Tier: 1, Created: at, QueuedAt: at}
	if p.state == bot.StateBot || p.state == bot.StateClosed {
		ticket.Status, ticket.ClosedAt, ticket.ResolvedAt = handoff.StatusResolved, at, at
	}
	if _, err := db.UpdateTicket(ctx, conv.ID, func(tk *handoff.Ticket) error { *tk = ticket; return nil }); err != nil {
		t.Fatal(err)
	}
	c, err := db.Conversation(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.State, c.Rating, c.RatingComment, c.SurveyState = p.state, 4, p.comment, "done"
	if p.state == bot.StateAgent {
		c.Agent = "agt_1"
	}
	if err := db.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.PutLinkCode(ctx, "code-of-"+p.id, bot.LinkCode{CustomerID: p.id, Expires: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	return conv.ID
}

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

var (
	zelda = person{id: "cus_zelda", name: "Zelda Quarrington", email: "zelda.q@example.org", messages: 40,
		sentence: "my violet lampshade from the Wexford warehouse arrived in three pieces",
		comment:  "Quarrington family thanks you kindly"}
	otto = person{id: "cus_otto", name: "Otto Brandvold", email: "otto.b@example.net", messages: 40,
		sentence: "the brass floor lamp flickers whenever the kettle boils"}
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
	seed(t, db, zelda)
	seed(t, db, otto)
	secrets := []string{zelda.sentence, zelda.name, zelda.email, zelda.comment, "hash-of-cus_zelda"}
	if got := inFile(t, path, secrets...); len(got) != len(secrets) {
		t.Fatalf("before forget the file holds only %q of the secrets: the test would prove nothing", got)
	}
	if _, err := db.ForgetCustomer(ctx, zelda.id); err != nil {
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
	if got := inFile(t, path, otto.sentence, otto.email); len(got) != 2 {
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
	seed(t, db, zelda)
	err := db.update(ctx, func(tx *bbolt.Tx) error {
		var e bot.Erased
		people, err := customerAndLinked(tx, zelda.id)
		if err != nil {
			return err
		}
		c, err := conversationsOf(tx, zelda.id)
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
	if got := inFile(t, path, zelda.sentence); len(got) == 0 {
		t.Error("the deleted text is not in the file: this test no longer shows why forget compacts")
	}
}

// A forget whose compaction never ran (the process died between the two)
// is finished by the next Open.
func TestOpenFinishesAnInterruptedScrub(t *testing.T) {
	path := tempPath(t)
	db := open(t, path)
	seed(t, db, zelda)
	err := db.update(ctx, func(tx *bbolt.Tx) error {
		var e bot.Erased
		c, err := conversationsOf(tx, zelda.id)
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
	if got := inFile(t, path, zelda.sentence); len(got) == 0 {
		t.Fatal("nothing to scrub: the test would prove nothing")
	}
	db = open(t, path)
	db.Close()
	if got := inFile(t, path, zelda.sentence); len(got) > 0 {
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
