package bolt_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/frontdesk/frontdesk/store/bolt"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// The records' contract (API keys, outbox, data rights, retention,
// ping), as every backend keeps it (see store/storetest); the raw store
// is the file, free pages and all.
func TestRecordsConformance(t *testing.T) {
	storetest.RunRecords(t, func(t *testing.T) (storetest.Records, func() []byte) {
		path := filepath.Join(t.TempDir(), "frontdesk.db")
		db, err := bolt.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, func() []byte {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	})
}
