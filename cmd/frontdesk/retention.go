package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/internal/tick"

	"github.com/frontdesk/frontdesk/bot"
)

// parseRetention reads --retention: "0" keeps everything, otherwise a
// number of days ("365d") or a Go duration ("8760h", "90m").
func parseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	bad := usageError{fmt.Sprintf("retention: %q is not 0, a number of days such as 365d, or a duration such as 8760h", v)}
	if v == "" || v == "0" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*366 {
			return 0, bad
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, bad
	}
	return d, nil
}

// expirer is what the retention sweep needs of the store.
type expirer interface {
	// Expire deletes conversations nobody handles that have not changed
	// since before, then customers last seen before it who have none.
	Expire(ctx context.Context, before time.Time) (bot.Erased, error)
}

// retention deletes what is older than keep: once when serve starts,
// then every interval, until ctx is done. The store deletes in small
// acts (see bolt.DB.Expire), so a sweep never holds other writes up for
// long.
type retention struct {
	store    expirer
	keep     time.Duration
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
	// after, if set, runs after a sweep that deleted conversations (to
	// delete their attachments).
	after func(ctx context.Context)
}

// run sweeps at once and then every interval until ctx is done. Its
// caller owns the goroutine and waits for it.
func (r retention) run(ctx context.Context) {
	r.sweep(ctx)
	tick.Every(ctx, r.interval, func() { r.sweep(ctx) })
}

// sweep deletes what is older than keep now, and logs what it did.
func (r retention) sweep(ctx context.Context) bot.Erased {
	start := time.Now()
	before := r.now().Add(-r.keep)
	erased, err := r.store.Expire(ctx, before)
	if err != nil && ctx.Err() == nil {
		r.log.Error("retention sweep", "before", before.Format(time.RFC3339), "err", err)
	}
	if erased.Conversations > 0 && r.after != nil {
		r.after(ctx)
	}
	if erased != (bot.Erased{}) {
		r.log.Info("retention sweep", "before", before.Format(time.RFC3339), "customers", erased.Customers,
			"conversations", erased.Conversations, "messages", erased.Messages, "seconds", time.Since(start).Seconds())
	}
	return erased
}
