package bolt

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

func TestPingAnswersThroughTheCommitLoop(t *testing.T) {
	db, c := openCounting(t)
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if n := c.n.Load(); n != 0 {
		t.Errorf("a ping cost %d commits, want none", n)
	}

	release := holdLoop(t, db)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := db.Ping(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ping while the loop is stuck: %v, want the deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ping took %v with a 50 ms deadline", d)
	}
	release()
	if err := db.Ping(ctx); err != nil {
		t.Errorf("ping once the loop moves again: %v", err)
	}

	db.Close()
	if err := db.Ping(ctx); !errors.Is(err, bot.ErrClosed) {
		t.Errorf("ping after close: %v, want bot.ErrClosed", err)
	}
}
