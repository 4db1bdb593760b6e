package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/store/postgres"
	"github.com/frontdesk/frontdesk/store/storetest"
)

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
