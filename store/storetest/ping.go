package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
)

func ping(t *testing.T, s Records, _ func() []byte) {
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Ping(done); !errors.Is(err, context.Canceled) {
		t.Errorf("ping with a cancelled context: %v, want it to say so", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("ping after a cancelled one: %v", err)
	}
	s.Close()
	if err := s.Ping(ctx); !errors.Is(err, bot.ErrClosed) {
		t.Errorf("ping after close: %v, want bot.ErrClosed", err)
	}
}
