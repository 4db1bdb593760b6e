package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/store/postgres"
)

// holder records which nodes hold a role, and for how long two held it
// at once (Hold allows a moment, while an old holder learns it lost).
type holder struct {
	mu           sync.Mutex
	holding      map[string]bool
	starts       []string
	overlapSince time.Time
	overlap      time.Duration
}

func (h *holder) run(name string) func(ctx context.Context) {
	return func(ctx context.Context) {
		h.mu.Lock()
		if len(h.holding) > 0 {
			h.overlapSince = time.Now()
		}
		h.holding[name] = true
		h.starts = append(h.starts, name)
		h.mu.Unlock()
		<-ctx.Done()
		h.mu.Lock()
		delete(h.holding, name)
		if len(h.holding) <= 1 && !h.overlapSince.IsZero() {
			h.overlap = max(h.overlap, time.Since(h.overlapSince))
			h.overlapSince = time.Time{}
		}
		h.mu.Unlock()
	}
}

func (h *holder) current() (string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for n := range h.holding {
		return n, len(h.holding)
	}
	return "", 0
}

func (h *holder) waitFor(t *testing.T, not string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n, count := h.current(); count == 1 && n != not {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
	n, count := h.current()
	t.Fatalf("after 5s: %d holders (%q), want one other than %q", count, n, not)
	return ""
}

// One node at a time holds a role; when the holder's session dies, it
// stops and the role is taken again within a few intervals; when a node
// stops, another takes the role.
func TestALeaseIsHeldByOneNodeAndMovesWhenItsHolderDies(t *testing.T) {
	dsn := pgtest.DB(t)
	h := &holder{holding: map[string]bool{}}
	var wg sync.WaitGroup
	stops := map[string]context.CancelFunc{}
	for _, name := range []string{"a", "b", "c"} {
		db := open(t, dsn)
		nctx, stop := context.WithCancel(ctx)
		stops[name] = stop
		wg.Go(func() { db.Hold(nctx, "telegram", 50*time.Millisecond, h.run(name)) })
	}
	defer func() {
		for _, stop := range stops {
			stop()
		}
		wg.Wait()
	}()
	first := h.waitFor(t, "")
	time.Sleep(300 * time.Millisecond) // several tries by the others
	if n, count := h.current(); count != 1 || n != first {
		t.Fatalf("holders moved without cause: %d (%q)", count, n)
	}

	// The holder's session dies.
	admin := open(t, dsn)
	tag, err := admin.Pool().Exec(ctx, `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`, postgres.LeaseApplicationName)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminate the holder's session: %v, %d rows", err, tag.RowsAffected())
	}
	// The lost holder stops, and a node (any, the old one included, as
	// its new session is as good as any) takes the role again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		n := len(h.starts)
		h.mu.Unlock()
		if _, count := h.current(); n == 2 && count == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the holder's session died: %d tenures begun, %v; want a second one", n, h.holding)
		}
		time.Sleep(10 * time.Millisecond)
	}
	second, _ := h.current()

	// A node that stops (or whose process dies: its session ends the
	// same way) hands the role to another.
	stops[second]()
	h.waitFor(t, second)
	h.mu.Lock()
	defer h.mu.Unlock()
	// The old holder learns at once that the server ended its session.
	if h.overlap > 100*time.Millisecond {
		t.Errorf("two nodes held the role at once for %v (tenures %v)", h.overlap, h.starts)
	}
	t.Logf("tenures %v; longest overlap %v", h.starts, h.overlap)
}
