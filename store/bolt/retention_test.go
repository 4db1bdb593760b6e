package bolt

import (
	"fmt"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// What Expire deletes and keeps is checked on every backend by
// store/storetest (RunRecords). Here: how it commits. A sweep is one act
// for the conversations and one for the customers, and a sweep that
// finds nothing commits nothing.
func TestExpireCommitsOneActForEachKind(t *testing.T) {
	db, commits := openCounting(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	old, recent := now.Add(-year-24*time.Hour), now.Add(-year+24*time.Hour)
	for _, p := range []storetest.Person{{ID: "cus_old_a", At: old}, {ID: "cus_old_b", At: old}, {ID: "cus_recent", At: recent}} {
		p.Messages, p.State = 3, bot.StateClosed
		storetest.SeedPerson(t, db, p)
		// seed moves Updated with the messages; put it back on the day.
		conv, _ := db.Conversation(ctx, "con_"+p.ID)
		conv.Updated = p.At
		if err := db.SaveConversation(ctx, conv); err != nil {
			t.Fatal(err)
		}
	}
	before := commits.n.Load()
	erased, err := db.Expire(ctx, now.Add(-year))
	if err != nil {
		t.Fatal(err)
	}
	if want := (bot.Erased{Customers: 2, Conversations: 2, Messages: 14}); erased != want {
		t.Errorf("erased %+v, want %+v", erased, want)
	}
	if n := commits.n.Load() - before; n != 2 {
		t.Errorf("%d commits, want 2 (one act for the conversations, one for the customers)", n)
	}
	before = commits.n.Load()
	erased, err = db.Expire(ctx, now.Add(-year))
	if err != nil || erased != (bot.Erased{}) {
		t.Errorf("second sweep: erased %+v, %v", erased, err)
	}
	if n := commits.n.Load() - before; n != 0 {
		t.Errorf("second sweep: %d commits", n)
	}
}

func TestExpireDeletesInBoundedActs(t *testing.T) {
	db, commits := openCounting(t)
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 2*ExpireBatch + 50
	err := db.Update(ctx, func(tx bot.Tx) error {
		for i := range n {
			id := fmt.Sprintf("cus_%04d", i)
			if err := tx.PutCustomer(&bot.Customer{ID: id, FirstSeen: old, LastSeen: old}); err != nil {
				return err
			}
			c := &bot.Conversation{ID: "con_" + id, CustomerID: id, Channel: bot.Web, State: bot.StateBot, Created: old, Updated: old, LastSeq: 1}
			if err := tx.PutConversation(c); err != nil {
				return err
			}
			if err := tx.PutMessage(bot.Message{ConversationID: c.ID, Seq: 1, From: bot.FromCustomer, Text: "hello", Time: old}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before, acts := commits.n.Load(), commits.acts.Load()
	erased, err := db.Expire(ctx, old.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if erased != (bot.Erased{Customers: n, Conversations: n, Messages: n}) {
		t.Errorf("erased %+v", erased)
	}
	// 250 conversations in 3 acts, then 250 customers in 3 acts.
	if got := commits.acts.Load() - acts; got != 6 {
		t.Errorf("%d acts in %d commits, want 6 acts of at most %d records", got, commits.n.Load()-before, ExpireBatch)
	}
}
