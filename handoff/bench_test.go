package handoff_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// BenchmarkHandoff measures a hand-off from Enqueue to the assigned event
// reaching a subscriber (the agent's console), with one agent online and
// everything stored in a real bbolt file (each write fsync'd).
func BenchmarkHandoff(b *testing.B) {
	r := newRig(b, handoff.Options{})
	r.agent("ann", handoff.RoleAgent, 1)
	r.online("ann")
	sub := r.queue.Subscribe(64)
	defer sub.Close()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		id := fmt.Sprintf("con_%d", i)
		c, cust := r.conversation(id, bot.PriorityNormal, "")
		b.StartTimer()

		t0 := time.Now()
		if err := r.queue.Enqueue(r.ctx, c, cust); err != nil {
			b.Fatal(err)
		}
		for e := range sub.C() {
			if e.Kind == handoff.EventAssigned && e.Ticket.ConversationID == id {
				break
			}
		}
		lat = append(lat, time.Since(t0))

		b.StopTimer()
		if _, err := r.queue.Resolve(r.ctx, id, "ann"); err != nil {
			b.Fatal(err)
		}
		drain(sub)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}
