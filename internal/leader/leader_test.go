package leader_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/leader"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/store/bolt"
	"github.com/frontdesk/frontdesk/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var (
	_ leader.Lease = (*postgres.DB)(nil)
	_ leader.Lease = (*bolt.DB)(nil)
)

// timer is a timer loop as serve runs them (SLA checks, rollups): it
// ticks every interval until its context ends, counting its ticks.
type timer struct {
	ticks   atomic.Int64
	running atomic.Int64
	ended   chan struct{} // receives when a run of the loop returns
}

func newTimer() *timer { return &timer{ended: make(chan struct{}, 16)} }

func (tm *timer) run(ctx context.Context) {
	tm.running.Add(1)
	defer func() { tm.running.Add(-1); tm.ended <- struct{}{} }()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tm.ticks.Add(1)
		}
	}
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// Timers run through the lease stop when their node loses the role (its
// session dies) and runs again within seconds (on either node: the old
// one's new session is as good as any); when the node that runs it
// stops, it runs on the other.
func TestATimerStopsWhenItsNodeLosesTheLease(t *testing.T) {
	dsn := pgtest.DB(t)
	var wg sync.WaitGroup
	defer wg.Wait()
	timers := map[string]*timer{"a": newTimer(), "b": newTimer()}
	// Each node runs a second timer beside the first, as serve does.
	seconds := map[string]*timer{"a": newTimer(), "b": newTimer()}
	dbs := map[string]*postgres.DB{}
	stops := map[string]context.CancelFunc{}
	for name, tm := range timers {
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[name] = db
		ctx, stop := context.WithCancel(context.Background())
		stops[name] = stop
		defer stop()
		wg.Go(func() { leader.Run(ctx, db, leader.Timers, tm.run, seconds[name].run) })
	}
	other := map[string]string{"a": "b", "b": "a"}
	// runner waits for a node whose timer ticked more than it had.
	runner := func(since map[string]int64) string {
		t.Helper()
		var who string
		waitUntil(t, "a node runs the timer", 5*time.Second, func() bool {
			for name, tm := range timers {
				if tm.ticks.Load() > since[name]+2 {
					who = name
					return true
				}
			}
			return false
		})
		return who
	}
	ticks := func() map[string]int64 {
		return map[string]int64{"a": timers["a"].ticks.Load(), "b": timers["b"].ticks.Load()}
	}
	holder := runner(ticks())
	time.Sleep(3 * leader.Retry) // the other tries, and fails, a few times
	if n := timers[other[holder]].ticks.Load(); n != 0 || timers[other[holder]].running.Load() != 0 {
		t.Fatalf("node %s ran the timer (%d ticks) while node %s held the role", other[holder], n, holder)
	}

	killed := time.Now()
	tag, err := dbs[holder].Pool().Exec(context.Background(), `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`, postgres.LeaseApplicationName)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminate the holder's session: %v, %d rows", err, tag.RowsAffected())
	}
	for _, tm := range []*timer{timers[holder], seconds[holder]} {
		select {
		case <-tm.ended:
		case <-time.After(time.Second):
			t.Fatalf("node %s's timers still run a second after its session died", holder)
		}
	}
	stopped := time.Since(killed)
	at := ticks()
	time.Sleep(100 * time.Millisecond)
	if n := timers[holder].ticks.Load(); n != at[holder] && timers[holder].running.Load() == 0 {
		t.Errorf("node %s's timer ticked %d times after it stopped", holder, n-at[holder])
	}
	if n := seconds[other[holder]].ticks.Load() + seconds[holder].ticks.Load(); n == 0 {
		t.Errorf("the second timer never ran")
	}
	again := runner(at)
	resumed := time.Since(killed)

	// The node that runs the timer stops: the other runs it.
	stopping := time.Now()
	stops[again]()
	<-timers[again].ended
	if next := runner(ticks()); next != other[again] {
		t.Fatalf("after node %s stopped, node %s runs the timer", again, next)
	}
	t.Logf("after the holder's session died: its timer stopped in %v, and ran again (node %s, was %s) %v after; after the holder stopped, the other ran it %v after",
		stopped.Round(time.Millisecond), again, holder, resumed.Round(time.Millisecond), time.Since(stopping).Round(time.Millisecond))
}

// Alone (and on the bbolt file) a node always holds the role: the timer
// runs at once, until ctx ends, and again after a Retry if it returns
// early.
func TestAloneTheTimerRunsAtOnceAndAgainIfItReturns(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, l := range []leader.Lease{nil, db} {
		ctx, cancel := context.WithCancel(context.Background())
		runs := make(chan time.Time, 4)
		done := make(chan struct{})
		go func() {
			defer close(done)
			leader.Run(ctx, l, "timers", func(ctx context.Context) { runs <- time.Now() })
		}()
		first := <-runs
		second := <-runs
		if gap := second.Sub(first); gap < leader.Retry {
			t.Errorf("%T: ran again %v after returning; want a Retry (%v)", l, gap, leader.Retry)
		}
		cancel()
		<-done
	}
}
