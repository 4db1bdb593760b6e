package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/frontdesk/frontdesk/internal/tick"
)

// roller is what the rollup loop needs of the store.
type roller interface {
	Rollup(ctx context.Context) error
}

// rollupLoop brings the dashboard's daily rollups up to date every
// interval until ctx ends, so that a request for figures has little left
// to roll up itself.
func rollupLoop(ctx context.Context, st roller, interval time.Duration, log *slog.Logger) {
	tick.Every(ctx, interval, func() {
		if err := st.Rollup(ctx); err != nil && ctx.Err() == nil {
			log.Error("roll up the dashboard's figures", "err", err)
		}
	})
}
