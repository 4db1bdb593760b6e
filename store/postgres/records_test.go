package postgres_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// The records' contract (API keys, outbox, data rights, retention,
// ping), as every backend keeps it (see store/storetest); the raw store
// is every row of every table, binary columns as their bytes.
func TestRecordsConformance(t *testing.T) {
	storetest.RunRecords(t, func(t *testing.T) (storetest.Records, func() []byte) {
		dsn := pgtest.DB(t)
		db := open(t, dsn)
		// Read through a connection of its own, so that a test may close
		// the store and still look.
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(ctx) })
		return db, func() []byte { return dump(t, conn) }
	})
}

// dump returns every row of every table of the schema as text, and the
// bytes of every bytea column.
func dump(t *testing.T, conn *pgx.Conn) []byte {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT table_name::text, coalesce(array_agg(column_name::text) FILTER (WHERE data_type = 'bytea'), '{}')
		FROM information_schema.columns WHERE table_schema = 'public' GROUP BY table_name ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	type table struct {
		name  string
		bytea []string
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var tb table
		err := r.Scan(&tb.name, &tb.bytea)
		return tb, err
	})
	if err != nil || len(tables) < 10 {
		t.Fatalf("tables %v, %v", tables, err)
	}
	var out bytes.Buffer
	for _, tb := range tables {
		name := pgx.Identifier{tb.name}.Sanitize()
		var text string
		if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM %s t", name)).Scan(&text); err != nil {
			t.Fatal(err)
		}
		out.WriteString(text)
		for _, col := range tb.bytea {
			rows, err := conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s", pgx.Identifier{col}.Sanitize(), name))
			if err != nil {
				t.Fatal(err)
			}
			blobs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range blobs {
				out.WriteByte('\n')
				out.Write(b)
			}
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// The files sent in chats, shared by the nodes: the contract of
// attachment.Blobs, as the directory keeps it too.
func TestAttachmentsConformance(t *testing.T) {
	storetest.RunAttachments(t, func(t *testing.T) attachment.Blobs { return open(t, pgtest.DB(t)) })
}
