package postgres_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/store/postgres"
)

// Nodes starting together on an empty database migrate one after the
// other, under the advisory lock: every one opens, and each version is
// applied once.
func TestNodesStartingTogetherMigrateOnce(t *testing.T) {
	dsn := pgtest.DB(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			db, err := postgres.Open(ctx, dsn)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	db := open(t, dsn)
	var n, maxV int
	if err := db.Pool().QueryRow(ctx, "SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != postgres.SchemaVersion() || maxV != postgres.SchemaVersion() {
		t.Errorf("schema_migrations has %d rows up to %d, want each of 1..%d once", n, maxV, postgres.SchemaVersion())
	}
}

func TestANewerSchemaIsRefused(t *testing.T) {
	dsn := pgtest.DB(t)
	db := open(t, dsn)
	if _, err := db.Pool().Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", postgres.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := postgres.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer") {
		if db != nil {
			db.Close()
		}
		t.Fatalf("open of a newer schema: %v, want a refusal", err)
	}
}

func TestABadDSNFailsClearly(t *testing.T) {
	if _, err := postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"); err == nil || !strings.Contains(err.Error(), "postgres store") {
		t.Errorf("open of an unreachable server: %v", err)
	}
}
