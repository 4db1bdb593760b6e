package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/frontdesk/frontdesk/store/bolt"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// The store contract, as every backend keeps it (see store/storetest).
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// What the dashboards, the insights, follow-ups and linking need, as
// every backend keeps it.
func TestInsightsConformance(t *testing.T) {
	storetest.RunInsights(t, func(t *testing.T) storetest.InsightsStore {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}, func(s storetest.InsightsStore, f func()) { bolt.SetBetweenRollup(s.(*bolt.DB), f) })
}
