package bolt

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// TestAVersionOneFileIsMigrated writes a file as the first schema left
// it after a crash in the middle of acts (a conversation queued without
// a ticket, one waiting while its ticket was assigned) and opens it.
func TestAVersionOneFileIsMigrated(t *testing.T) {
	path := tempPath(t)
	db := open(t, path)
	now := time.Now().UTC()
	convs := []bot.Conversation{
		{ID: "con_orphan", CustomerID: "cus_1", State: bot.StateQueued, Created: now},
		{ID: "con_assigned", CustomerID: "cus_1", State: bot.StateQueued, Created: now},
		{ID: "con_plain", CustomerID: "cus_1", State: bot.StateBot, Created: now},
	}
	for i := range convs {
		if err := db.SaveConversation(ctx, &convs[i]); err != nil {
			t.Fatal(err)
		}
	}
	ticket := handoff.Ticket{ID: "tkt_1", ConversationID: "con_assigned", Status: handoff.StatusAssigned, Agent: "agt_ann", Tier: 1}
	if _, err := db.UpdateTicket(ctx, "con_assigned", func(tk *handoff.Ticket) error { *tk = ticket; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, m := range []bot.Message{
		{From: bot.FromCustomer, Text: "where is my parcel"},
		{From: bot.FromBot, Text: "Here is how to track it."},
		{From: bot.FromCustomer, Text: "it still has not arrived"},
	} {
		m.ConversationID = "con_plain"
		if _, _, err := db.Append(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// Back to schema 1, as an older frontdesk wrote it.
	db = reopenAt(t, db, path, 1, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketConversations)
		c, _ := (&Tx{btx: tx, m: newMemos()}).Conversation("con_plain")
		c.Questions = nil
		return putJSON(b, c.ID, c)
	})
	for id, want := range map[string]struct {
		state bot.State
		agent string
	}{"con_orphan": {bot.StateBot, ""}, "con_assigned": {bot.StateAgent, "agt_ann"}, "con_plain": {bot.StateBot, ""}} {
		c, err := db.Conversation(ctx, id)
		if err != nil || c.State != want.state || c.Agent != want.agent {
			t.Errorf("%s after migration: %v/%q, %v; want %s/%q", id, c.State, c.Agent, err, want.state, want.agent)
		}
	}
	c, _ := db.Conversation(ctx, "con_plain")
	if len(c.Questions) != 2 || c.Questions[1] != "it still has not arrived" {
		t.Errorf("questions after migration: %q", c.Questions)
	}
	var v []byte
	db.bolt.View(func(tx *bbolt.Tx) error { v = append(v, tx.Bucket(bucketMeta).Get([]byte("schema"))...); return nil })
	if string(v) != string(u64(schemaVersion)) {
		t.Errorf("schema %x after migration, want %d", v, schemaVersion)
	}
}

// TestAVersionFourFileGetsTheInboxIndex: migration 6 indexes the closed
// tickets a file already has and gives each conversation its preview.
func TestAVersionFourFileGetsTheInboxIndex(t *testing.T) {
	path := tempPath(t)
	db := open(t, path)
	closedAt := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	if err := db.SaveConversation(ctx, &bot.Conversation{ID: "con_1", CustomerID: "cus_1", State: bot.StateBot}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []bot.Message{
		{From: bot.FromCustomer, Text: "where is my parcel"},
		{From: bot.FromAgent, Text: "It ships today."},
		{From: bot.FromSystem, Text: "You're back with the virtual assistant."},
	} {
		m.ConversationID = "con_1"
		if _, _, err := db.Append(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	ticket := handoff.Ticket{ID: "tkt_1", ConversationID: "con_1", Status: handoff.StatusResolved, Agent: "agt_ann", Tier: 1, ClosedAt: closedAt}
	if _, err := db.UpdateTicket(ctx, "con_1", func(tk *handoff.Ticket) error { *tk = ticket; return nil }); err != nil {
		t.Fatal(err)
	}
	// Back to schema 4: no index, no previews.
	db = reopenAt(t, db, path, 4, func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bucketClosedTickets); err != nil {
			return err
		}
		b := tx.Bucket(bucketConversations)
		c, _ := (&Tx{btx: tx, m: newMemos()}).Conversation("con_1")
		c.Last = nil
		return putJSON(b, c.ID, c)
	})
	closed, err := db.ClosedTickets(ctx, time.Time{}, 10)
	if err != nil || len(closed) != 1 || closed[0].ID != "tkt_1" {
		t.Errorf("closed tickets after migration: %+v, %v; want tkt_1", closed, err)
	}
	c, _ := db.Conversation(ctx, "con_1")
	if c.Last == nil || c.Last.Text != "It ships today." {
		t.Errorf("preview after migration: %+v, want the agent's reply", c.Last)
	}
}

// TestAVersionEightFileKeepsItsClientIDs: migration 9 moves the client
// ids from their bucket into each conversation's message log; a resent
// message is still recognised, the log lists only messages, and a
// backup's check counts them.
func TestAVersionEightFileKeepsItsClientIDs(t *testing.T) {
	path := tempPath(t)
	db := open(t, path)
	if err := db.SaveConversation(ctx, &bot.Conversation{ID: "con_1", CustomerID: "cus_1", State: bot.StateBot}); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"where is my parcel", "it has not arrived", "thanks"} {
		m := bot.Message{ConversationID: "con_1", From: bot.FromCustomer, Text: text, ClientID: fmt.Sprintf("web-%d", i)}
		if _, _, err := db.Append(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// Back to schema 8: the client ids in a bucket of their own.
	db = reopenAt(t, db, path, 8, func(tx *bbolt.Tx) error {
		msgs := tx.Bucket(bucketMessages).Bucket([]byte("con_1"))
		old, err := tx.CreateBucket(bucketClientIDs)
		if err != nil {
			return err
		}
		cids, err := old.CreateBucket([]byte("con_1"))
		if err != nil {
			return err
		}
		var keys [][]byte
		cur := msgs.Cursor()
		for k, v := cur.Seek([]byte{clientIDFlag}); k != nil; k, v = cur.Next() {
			keys = append(keys, bytes.Clone(k))
			if err := cids.Put(bytes.Clone(k[1:]), bytes.Clone(v)); err != nil {
				return err
			}
		}
		if len(keys) != 3 {
			return fmt.Errorf("%d client ids in the log, want 3", len(keys))
		}
		for _, k := range keys {
			if err := msgs.Delete(k); err != nil {
				return err
			}
		}
		// A client id of a conversation without a log is dropped.
		gone, err := old.CreateBucket([]byte("con_none"))
		if err != nil {
			return err
		}
		return gone.Put([]byte("web-x"), u64(1))
	})
	m, dup, err := db.Append(ctx, bot.Message{ConversationID: "con_1", From: bot.FromCustomer, Text: "it has not arrived", ClientID: "web-1"})
	if err != nil || !dup || m.Seq != 2 {
		t.Errorf("resent message after migration: seq %d, dup %v, %v; want seq 2, a duplicate", m.Seq, dup, err)
	}
	msgs, err := db.Messages(ctx, "con_1", 0)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("messages after migration: %d, %v; want 3", len(msgs), err)
	}
	db.bolt.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketClientIDs) != nil {
			t.Error("the client id bucket is still there")
		}
		if tx.Bucket(bucketMessages).Bucket([]byte("con_none")) != nil {
			t.Error("a log was made for the client id of a conversation without one")
		}
		return nil
	})
	db.Close()
	c, err := Verify(ctx, path)
	if err != nil || c.Messages != 3 || c.Schema != schemaVersion {
		t.Errorf("verify after migration: %d messages, schema %d, %v; want 3, %d", c.Messages, c.Schema, err, schemaVersion)
	}
}

// reopenAt rewrites db's file with change, as an older frontdesk left
// it, marks it as at schema version, and opens it again (which migrates
// it).
func reopenAt(t *testing.T, db *DB, path string, version uint64, change func(tx *bbolt.Tx) error) *DB {
	t.Helper()
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		if err := change(tx); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put([]byte("schema"), u64(version))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return open(t, path)
}
