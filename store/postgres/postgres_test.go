package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/insights"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/stats"
	"github.com/frontdesk/frontdesk/store/postgres"
	"github.com/frontdesk/frontdesk/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

func open(t testing.TB, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The store contract, as every backend keeps it (see store/storetest).
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, pgtest.DB(t)) })
}

// What the dashboards, the insights, follow-ups and linking need, as
// every backend keeps it.
func TestInsightsConformance(t *testing.T) {
	storetest.RunInsights(t, func(t *testing.T) storetest.InsightsStore { return open(t, pgtest.DB(t)) },
		func(s storetest.InsightsStore, f func()) { postgres.SetBetweenRollup(s.(*postgres.DB), f) })
}

// The interfaces of the packages that read the store, which the store
// does not import.
var (
	_ insights.Source = (*postgres.DB)(nil)
	_ interface {
		Stats(ctx context.Context, from, to time.Time) (map[string]stats.Day, error)
	} = (*postgres.DB)(nil)
)
