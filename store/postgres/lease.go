package postgres

import (
	"context"
	"hash/fnv"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
)

// LeaseApplicationName is the application_name of the connections that
// hold leases (see Hold).
const LeaseApplicationName = "frontdesk-lease"

// leaseKey is the advisory lock key of a role.
func leaseKey(role string) int64 {
	h := fnv.New64a()
	h.Write([]byte("frontdesk lease " + role))
	return int64(h.Sum64())
}

// Hold runs fn whenever this node holds the cluster-wide role (the
// Telegram poller, the timers): one node at a time, among all those
// calling Hold with the role on the database. The role is a session
// advisory lock on a connection of Hold's own, so it is held as long as
// that connection lives: when the node stops or dies, PostgreSQL ends its
// session and another node takes the role at its next try (every
// interval).
//
// fn's context is cancelled when the role is lost (the connection fails:
// a read waiting on it returns at once when the server ends the session)
// or ctx ends; fn must then return. When fn returns, the role is released
// and Hold tries for it again, until ctx ends, when Hold returns.
//
// Two nodes may run fn at once for a moment: the old holder learns that
// its session ended a little after the server released the lock (at once
// when the server ended it; when its connection times out when the
// network cut it off). What fn does must be safe for that, as acts are:
// state it keeps in the store (the Telegram offset and outbox) repeats
// nothing committed. A machine that dies without closing its
// connection loses the role in about 11 seconds (TCP keepalives, both
// ways, on the lease's connection).
func (db *DB) Hold(ctx context.Context, role string, interval time.Duration, fn func(ctx context.Context)) {
	cfg := db.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = LeaseApplicationName
	// A machine that dies without closing its connection (power, kernel)
	// must lose the role within seconds, not the hours of the default
	// TCP keepalive: the server probes the session's client, and this
	// node its server, after 5s of silence, every 2s, 3 times.
	cfg.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	dialer := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}}
	cfg.DialFunc = dialer.DialContext
	key := leaseKey(role)
	wait := func() bool {
		t := time.NewTimer(interval)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			if !wait() {
				return
			}
			continue
		}
		db.holdOn(ctx, conn, key, fn, wait)
		conn.Close(context.Background())
		if !wait() { // after a lost session, the others try first
			return
		}
	}
}

// holdOn tries for the role on conn, and runs fn while it holds it,
// until conn fails or ctx ends.
func (db *DB) holdOn(ctx context.Context, conn *pgx.Conn, key int64, fn func(context.Context), wait func() bool) {
	for {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
			return
		}
		if !got {
			if !wait() {
				return
			}
			continue
		}
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); fn(fctx) }()
		// Watch the session: a read on the idle connection returns at
		// once when the server ends it (or the network fails it), and is
		// cut short, harmlessly, when fn returns.
		wctx, stopWatch := context.WithCancel(ctx)
		go func() { <-done; stopWatch() }()
		lost := false
		for wctx.Err() == nil {
			if err := conn.PgConn().WaitForNotification(wctx); err != nil && wctx.Err() == nil {
				lost = true
				break
			}
		}
		cancel()
		<-done
		stopWatch()
		if lost || ctx.Err() != nil {
			return // closing the connection releases the lock
		}
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			return
		}
	}
}
