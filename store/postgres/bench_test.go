package postgres_test

import (
	"sync/atomic"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/store/postgres"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// BenchmarkAct measures acts (one message each, as a customer turn or an
// agent's reply stores it) on one node, and spread over two nodes on the
// same database, 16 conversations at a time. pgtest's server runs
// without fsync: these are the store's and the protocol's costs, not a
// disk's.
func BenchmarkAct(b *testing.B) {
	for _, nodes := range []int{1, 2} {
		b.Run(map[int]string{1: "one-node", 2: "two-nodes"}[nodes], func(b *testing.B) {
			dsn := pgtest.DB(b)
			var ns []*bot.Engine
			var convs []string
			var retries atomic.Int64
			opts := postgres.Options{OnRetry: func(error) { retries.Add(1) }}
			var first *postgres.DB
			for range nodes {
				db, err := postgres.OpenWith(ctx, dsn, opts)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { db.Close() })
				if first == nil {
					first = db
				}
				ns = append(ns, bot.NewEngine(nil, db, bot.NewBus(), bot.Options{}))
			}
			for range 16 {
				convs = append(convs, storetest.NewConversation(b, first, "cus_bench").ID)
			}
			var n atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					eng, conv := ns[int(i)%len(ns)], convs[int(i)%len(convs)]
					err := eng.Act(ctx, conv, func(a *bot.Act) error {
						_, err := a.Say(bot.Message{From: bot.FromCustomer, Text: "where is my order?"})
						return err
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(retries.Load())/float64(b.N), "retries/op")
		})
	}
}
