package postgres_test

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/store/postgres"
)

// Two nodes sweeping at once (each runs the retention timer until the
// lock moves, say) delete every expired record once: the erased counts
// add up to what there was, and the tallies count each conversation
// once.
func TestTwoNodesExpireEachRecordOnce(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := open(t, dsn), open(t, dsn)
	const n = 240
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id := fmt.Sprintf("%03d", i)
		if err := a.SaveCustomer(ctx, &bot.Customer{ID: "cus_" + id, FirstSeen: old, LastSeen: old}); err != nil {
			t.Fatal(err)
		}
		c := &bot.Conversation{ID: "con_" + id, CustomerID: "cus_" + id, Channel: bot.Web, State: bot.StateBot, Created: old, Updated: old}
		if err := a.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Append(ctx, bot.Message{ConversationID: c.ID, From: bot.FromCustomer, Text: "hi", Time: old}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	erased := make([]bot.Erased, 2)
	for i, node := range []*postgres.DB{a, b} {
		wg.Go(func() {
			e, err := node.Expire(ctx, old.Add(time.Hour))
			if err != nil {
				t.Error(err)
			}
			erased[i] = e
		})
	}
	wg.Wait()
	var total bot.Erased
	total.Add(erased[0])
	total.Add(erased[1])
	if want := (bot.Erased{Customers: n, Conversations: n, Messages: n}); total != want {
		t.Errorf("the nodes erased %+v and %+v, together %+v; want %+v", erased[0], erased[1], total, want)
	}
	tallies, err := b.Tallies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := tallies["2024-01-01"]; got.Conversations != n || got.Messages != n {
		t.Errorf("tally %+v, want %d conversations and messages", got, n)
	}
}

// A file a customer sends through one node is served by another: the
// nodes share the files as they share the chats.
func TestAFileKeptOnOneNodeIsServedByAnother(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := open(t, dsn), open(t, dsn)
	pdf := "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
	att, err := attachment.New(a, 0).SaveContext(ctx, "con_0a", "invoice.pdf", bytes.NewReader([]byte(pdf)))
	if err != nil {
		t.Fatal(err)
	}
	f, typ, err := attachment.New(b, 0).Open(ctx, "con_0a", att.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, _ := io.ReadAll(f)
	if string(got) != pdf || typ != "application/pdf" {
		t.Errorf("node b read %q as %s", got, typ)
	}
}
