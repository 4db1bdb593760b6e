package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/stats"
	"github.com/frontdesk/frontdesk/store/postgres"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// Two nodes rolling up at once, while acts on both change the
// conversations, leave day totals equal to the sum of the conversations'
// contributions as they end up: nothing lost, nothing counted twice.
func TestRollupsOnTwoNodesAddUp(t *testing.T) {
	dsn := pgtest.DB(t)
	nodes := []*postgres.DB{open(t, dsn), open(t, dsn)}
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	const convs, turns = 10, 12
	rctx, stop := context.WithCancel(ctx)
	var rollers sync.WaitGroup
	var rolled atomic.Int64
	for _, db := range nodes {
		rollers.Go(func() {
			for rctx.Err() == nil {
				if err := db.Rollup(rctx); err != nil && rctx.Err() == nil {
					t.Error(err)
					return
				}
				rolled.Add(1)
			}
		})
	}
	var wg sync.WaitGroup
	ids := make([]string, convs)
	for i := range convs {
		id := fmt.Sprint("con_", i)
		ids[i] = id
		wg.Go(func() {
			for turn := range turns {
				db := nodes[(i+turn)%2]
				err := db.Update(ctx, func(tx bot.Tx) error {
					c, err := tx.Conversation(id)
					if err == bot.ErrNotFound {
						c = &bot.Conversation{ID: id, CustomerID: "cus_1", Channel: bot.Web, State: bot.StateBot, Created: start}
					} else if err != nil {
						return err
					}
					at := start.Add(time.Duration(turn) * 3 * time.Hour) // over two days
					ms := []bot.Message{{From: bot.FromCustomer, Text: "delivery?"},
						{From: bot.FromBot, Text: "…", Decision: &bot.Decision{Kind: bot.DecisionAnswer, Reason: "confident", ArticleID: "delivery-times"}}}
					if turn%3 == 2 {
						ms = append(ms, bot.Message{From: bot.FromBot, Text: "…", Decision: &bot.Decision{Kind: bot.DecisionHandoff, Reason: "requested"}})
					}
					return storetest.PutMessages(tx, c, ms, func(int) time.Time { return at })
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	stop()
	rollers.Wait()
	t.Logf("%d rollups beside the acts", rolled.Load())
	got, err := nodes[1].Stats(ctx, start, start.AddDate(0, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]stats.Day{}
	for _, id := range ids {
		c, err := nodes[0].Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := nodes[0].Messages(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		for k, d := range stats.Contribution(*c, ms) {
			w := want[k]
			w.Add(d)
			want[k] = w
		}
	}
	if len(want) != 2 {
		t.Fatalf("the seeded conversations span %d days, want 2", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("totals after two nodes' rollups:\n got %+v\nwant %+v", got, want)
	}
}

// BenchmarkActBesideRollups is BenchmarkAct's one node (16 conversations,
// 8 acts at a time) with a rollup running every 50 ms beside the acts
// (serve rolls up once a minute): what rolling up costs the acts, and how
// often a rollup or an act runs again after losing a race.
func BenchmarkActBesideRollups(b *testing.B) {
	dsn := pgtest.DB(b)
	var retries atomic.Int64
	db, err := postgres.OpenWith(ctx, dsn, postgres.Options{OnRetry: func(error) { retries.Add(1) }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	eng := bot.NewEngine(nil, db, bot.NewBus(), bot.Options{})
	var convs []string
	for range 16 {
		convs = append(convs, storetest.NewConversation(b, db, "cus_bench").ID)
	}
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var rollups atomic.Int64
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
			}
			if err := db.Rollup(rctx); err != nil && rctx.Err() == nil {
				b.Error(err)
				return
			}
			rollups.Add(1)
		}
	})
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			err := eng.Act(ctx, convs[int(i)%len(convs)], func(a *bot.Act) error {
				_, err := a.Say(bot.Message{From: bot.FromCustomer, Text: "where is my order?"})
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	stop()
	wg.Wait()
	b.ReportMetric(float64(retries.Load())/float64(b.N), "retries/op")
	b.ReportMetric(float64(rollups.Load()), "rollups")
}
