package postgres_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/internal/pgtest"
)

// A database that takes no writes (as a standby does, or one set
// read-only after a failover) fails the readiness check, so the load
// balancer stops sending customers to a node that could not store
// their messages.
func TestPingFailsWhenTheDatabaseTakesNoWrites(t *testing.T) {
	dsn := pgtest.DB(t)
	db := open(t, dsn)
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.Pool().QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	db.Pool().Reset() // new sessions start read-only
	if err := db.Ping(ctx); err == nil || !strings.Contains(err.Error(), "takes no writes") {
		t.Errorf("ping of a read-only database: %v, want a refusal", err)
	}
}
