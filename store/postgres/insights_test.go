package postgres

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/pgtest"
)

// A database of schema version 2 with records in it is migrated to 3
// with its indexes filled in: every conversation is rolled up, scheduled
// follow-ups are due, conversations are found by when they changed, and
// tickets' first replies are read.
func TestMigration3FillsInTheIndexes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DB(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	at := time.Date(2026, 11, 2, 9, 0, 0, 123456000, time.UTC) // to the microsecond, as the migration reads it
	conv := bot.Conversation{ID: "con_1", CustomerID: "cus_1", Channel: bot.Telegram, State: bot.StateBot,
		Created: at, Updated: at.Add(time.Hour), LastSeq: 1, Rev: 2,
		Followup: bot.FollowupScheduled, FollowupAt: at.Add(24 * time.Hour)}
	msg := bot.Message{ConversationID: "con_1", Seq: 1, From: bot.FromCustomer, Text: "where is my parcel", Time: at}
	tk := handoff.Ticket{ID: "tkt_1", ConversationID: "con_1", Status: handoff.StatusQueued, Created: at, FirstReplyAt: at.Add(90 * time.Second)}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"); err != nil {
			return err
		}
		for v := 1; v <= 2; v++ {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", v); err != nil {
				return err
			}
		}
		cd, _ := json.Marshal(conv)
		md, _ := json.Marshal(msg)
		td, _ := json.Marshal(tk)
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO customers (id, last_seen, data) VALUES ('cus_1', 0, '{"id":"cus_1"}')`)
		b.Queue("INSERT INTO conversations (id, customer_id, channel, created, data) VALUES ($1, $2, $3, $4, $5)", conv.ID, conv.CustomerID, "telegram", at.UnixNano(), cd)
		b.Queue("INSERT INTO messages (conversation_id, seq, data) VALUES ($1, 1, $2)", conv.ID, md)
		b.Queue("INSERT INTO tickets (id, conversation_id, open, data) VALUES ($1, $2, true, $3)", tk.ID, tk.ConversationID, td)
		b.Queue(`INSERT INTO tickets (id, conversation_id, open, data) VALUES ('tkt_0', 'con_0', false, '{"id":"tkt_0","conversation_id":"con_0","created":"0001-01-01T00:00:00Z"}')`)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if due, err := db.DueFollowups(ctx, conv.FollowupAt); err != nil || len(due) != 1 || due[0] != "con_1" {
		t.Errorf("due follow-ups %v, %v; want con_1", due, err)
	}
	if due, _ := db.DueFollowups(ctx, conv.FollowupAt.Add(-time.Microsecond)); len(due) != 0 {
		t.Errorf("follow-up due early: %v", due)
	}
	n := 0
	err = db.EachConversation(ctx, conv.Updated, func(c bot.Conversation, ms []bot.Message) error {
		n++
		if c.ID != "con_1" || len(ms) != 1 {
			t.Errorf("%s with %d messages", c.ID, len(ms))
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Errorf("conversations updated since its update: %d, %v; want it", n, err)
	}
	if err := db.EachConversation(ctx, conv.Updated.Add(time.Nanosecond), func(bot.Conversation, []bot.Message) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("a conversation updated before since was read (%v)", err)
	}
	days, err := db.Stats(ctx, at, at)
	if err != nil || days["2026-11-02"].Conversations != 1 {
		t.Errorf("stats %+v, %v; want the stored conversation rolled up", days, err)
	}
	if times, err := db.FirstReplyTimes(ctx, 10); err != nil || len(times) != 1 || times[0] != 90*time.Second {
		t.Errorf("first reply times %v, %v; want [1m30s]", times, err)
	}
}

// Erasing a conversation erases its records of the dashboard and its
// follow-up; the day totals keep what it added (anonymous counts).
// Erasing a customer erases their link codes.
func TestErasingDropsTheRecordsKeepsTheTotals(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	if err := db.SaveCustomer(ctx, &bot.Customer{ID: "cus_1"}); err != nil {
		t.Fatal(err)
	}
	c := &bot.Conversation{ID: "con_1", CustomerID: "cus_1", Channel: bot.Web, State: bot.StateBot, Created: at, Updated: at,
		Followup: bot.FollowupScheduled, FollowupAt: at}
	if err := db.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Append(ctx, bot.Message{ConversationID: "con_1", From: bot.FromCustomer, Text: "hello", Time: at}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutLinkCode(ctx, "h1", bot.LinkCode{CustomerID: "cus_1", Expires: at}); err != nil {
		t.Fatal(err)
	}
	if days, err := db.Stats(ctx, at, at); err != nil || days["2026-11-02"].Conversations != 1 {
		t.Fatalf("stats %+v, %v", days, err)
	}
	if err := db.SaveConversation(ctx, c); err != nil { // marked again
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, "DELETE FROM conversations WHERE id = 'con_1'"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, "DELETE FROM customers WHERE id = 'cus_1'"); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"stats_convs", "stats_dirty", "followups", "link_codes"} {
		var n int
		if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s holds %d rows (%v) of what was erased", table, n, err)
		}
	}
	if days, err := db.Stats(ctx, at, at); err != nil || days["2026-11-02"].Conversations != 1 {
		t.Errorf("day totals %+v (%v), want the erased conversation still counted", days, err)
	}
}
