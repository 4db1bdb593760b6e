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

// A timer run through the lease stops when its node loses the role (its
// session dies), and runs on the other node instead, within seconds.
func TestATimerStopsWhenItsNodeLosesTheLease(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	timers := map[string]*timer{"a": newTimer(), "b": newTimer()}
	dbs := map[string]*postgres.DB{}
	for name, tm := range timers {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[name] = db
		wg.Go(func() { leader.Run(ctx, db, "timers", tm.run) })
	}
	var holder, other string
	waitUntil(t, "one node runs the timer", 5*time.Second, func() bool {
		for name, tm := range timers {
			if tm.ticks.Load() > 3 {
				holder = name
				return true
			}
		}
		return false
	})
	other = map[string]string{"a": "b", "b": "a"}[holder]
	time.Sleep(3 * leader.Retry) // the other tries, and fails, a few times
	if n := timers[other].ticks.Load(); n != 0 || timers[other].running.Load() != 0 {
		t.Fatalf("node %s ran the timer (%d ticks) while node %s held the role", other, n, holder)
	}

	killed := time.Now()
	tag, err := dbs[other].Pool().Exec(ctx, `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`, postgres.LeaseApplicationName)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminate the holder's session: %v, %d rows", err, tag.RowsAffected())
	}
	select {
	case <-timers[holder].ended:
	case <-time.After(time.Second):
		t.Fatalf("node %s's timer still runs a second after its session died", holder)
	}
	stopped := time.Since(killed)
	after := timers[holder].ticks.Load()
	waitUntil(t, "the other node runs the timer", 5*time.Second, func() bool { return timers[other].ticks.Load() > 0 })
	moved := time.Since(killed)
	time.Sleep(50 * time.Millisecond)
	if n := timers[holder].ticks.Load(); n != after {
		t.Errorf("node %s's timer ticked %d times after it stopped", holder, n-after)
	}
	t.Logf("the holder's timer stopped %v after its session died; the other's began %v after it died", stopped.Round(time.Millisecond), moved.Round(time.Millisecond))
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
