package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/adapters/webhook"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// BenchmarkDelivery measures draining the outbox to a local receiver
// that accepts everything: one POST and one durable removal an event.
func BenchmarkDelivery(b *testing.B) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer srv.Close()
	db, err := bolt.Open(filepath.Join(b.TempDir(), "frontdesk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	hooks, err := webhook.New(db, webhook.Options{URLs: []string{srv.URL}, Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// b.N customer updates, recorded before delivery starts.
	rec := hooks.Recorder()
	for i := range b.N {
		c := &bot.Customer{ID: bot.NewID("cus_"), ExternalID: "x", Name: "Ana", Attrs: map[string]string{"n": string(rune('a' + i%26))}}
		if err := db.Update(ctx, func(tx bot.Tx) error { return rec.RecordCustomer(tx, c) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { hooks.Run(rctx) })
	for got.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cancel()
	wg.Wait()
}
