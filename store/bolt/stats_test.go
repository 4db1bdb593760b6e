package bolt

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/stats"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// The figures themselves, and rollups beside acts, are checked on every
// backend by store/storetest (RunInsights). The rollups survive a
// restart.
func TestRollupsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "frontdesk.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const d1 = "2026-11-02"
	storetest.SeedConversation(t, db, "A", d1, []bot.Message{
		storetest.Cust("how long is delivery", ""), storetest.BotSays(bot.DecisionAnswer, "confident", "delivery-times"),
	}, "09:00:00", "09:00:01")
	ctx := context.Background()
	day, _ := time.Parse(stats.DayLayout, d1)
	before, err := db.Stats(ctx, day, day)
	if err != nil || before[d1].Conversations != 1 {
		t.Fatalf("stats %+v, %v", before, err)
	}
	db.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.view(ctx, func(btx *bbolt.Tx) error {
		if k, _ := btx.Bucket(bucketStatsDirty).Cursor().First(); k != nil {
			t.Errorf("%s still marked after a rollup", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after, err := db.Stats(ctx, day, day)
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("stats after a restart %+v (%v), want %+v", after, err, before)
	}
}

// TestForgetLeavesOnlyTheDayTotals: erasing a customer removes their
// conversations' records of the dashboard, and the days keep the counts.
func TestForgetLeavesOnlyTheDayTotals(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Update(ctx, func(tx bot.Tx) error { return tx.PutCustomer(&bot.Customer{ID: "cus_F"}) }); err != nil {
		t.Fatal(err)
	}
	storetest.SeedConversation(t, db, "F", "2026-11-02", []bot.Message{storetest.Cust("hello there", "")}, "09:00:00")
	day, _ := time.Parse(stats.DayLayout, "2026-11-02")
	if _, err := db.Stats(ctx, day, day); err != nil {
		t.Fatal(err)
	}
	// A follow-up scheduled, then the customer is forgotten.
	err = db.Update(ctx, func(tx bot.Tx) error {
		c, err := tx.Conversation("F")
		if err != nil {
			return err
		}
		c.Followup, c.FollowupAt = bot.FollowupScheduled, day
		return tx.PutConversation(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ForgetCustomer(ctx, "cus_F"); err != nil {
		t.Fatal(err)
	}
	err = db.view(ctx, func(btx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketStatsConvs, bucketStatsDirty, bucketFollowups} {
			if v := btx.Bucket(name).Get([]byte("F")); v != nil {
				t.Errorf("%s still holds the erased conversation", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	days, err := db.Stats(ctx, day, day)
	if err != nil {
		t.Fatal(err)
	}
	if days["2026-11-02"].Conversations != 1 {
		t.Errorf("day totals %+v, want the erased conversation still counted", days)
	}
}
