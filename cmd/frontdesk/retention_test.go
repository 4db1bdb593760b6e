package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/bolt"
)

func TestParseRetention(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"", 0, true},
		{"365d", 365 * day, true},
		{"30d", 30 * day, true},
		{"8760h", 8760 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"-1d", 0, false},
		{"-5h", 0, false},
		{"a year", 0, false},
		{"12", 0, false},
		{"1.5d", 0, false},
	} {
		got, err := parseRetention(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseRetention(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

// The sweep on a fixed clock: "now" is 2026-06-01, retention 365 days.
func TestRetentionSweepOnAFixedClock(t *testing.T) {
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	put := func(id string, updated time.Time, state bot.State) {
		err := db.Update(ctx, func(tx bot.Tx) error {
			if err := tx.PutCustomer(&bot.Customer{ID: "cus_" + id, Email: id + "@example.com", FirstSeen: updated, LastSeen: updated}); err != nil {
				return err
			}
			return tx.PutConversation(&bot.Conversation{ID: "con_" + id, CustomerID: "cus_" + id, Channel: bot.Web,
				State: state, Created: updated, Updated: updated})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("ancient", now.AddDate(0, 0, -400), bot.StateBot)
	put("year_and_a_day", now.AddDate(0, 0, -366), bot.StateClosed)
	put("waiting", now.AddDate(0, 0, -400), bot.StateQueued)
	put("fresh", now.AddDate(0, 0, -364), bot.StateBot)

	r := retention{store: db, keep: 365 * 24 * time.Hour, interval: time.Hour, now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler)}
	erased := r.sweep(ctx)
	if erased != (bot.Erased{Customers: 2, Conversations: 2}) {
		t.Errorf("erased %+v", erased)
	}
	for id, gone := range map[string]bool{"ancient": true, "year_and_a_day": true, "waiting": false, "fresh": false} {
		_, err := db.Conversation(ctx, "con_"+id)
		if gone != errors.Is(err, bot.ErrNotFound) {
			t.Errorf("%s: conversation %v, want gone %v", id, err, gone)
		}
		_, err = db.CustomerByEmail(ctx, id+"@example.com")
		if gone != errors.Is(err, bot.ErrNotFound) {
			t.Errorf("%s: customer by email %v, want gone %v", id, err, gone)
		}
	}
	// A day later the fresh one is still 363 days old: nothing more goes.
	now = now.AddDate(0, 0, 1)
	if erased := r.sweep(ctx); erased != (bot.Erased{}) {
		t.Errorf("second sweep erased %+v", erased)
	}
	// Two days after that it is past the year.
	now = now.AddDate(0, 0, 2)
	if erased := r.sweep(ctx); erased.Conversations != 1 {
		t.Errorf("third sweep erased %+v, want the fresh one", erased)
	}
}

// run sweeps once at start, then on its interval, and returns when its
// context ends. The clock tells when a sweep starts: each reads it once.
func TestRetentionRunsAtStartAndStops(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sweeps := make(chan struct{}, 10)
	clock := func() time.Time {
		sweeps <- struct{}{}
		return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	r := retention{store: db, keep: time.Hour, interval: 20 * time.Millisecond, now: clock, log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.run(ctx); close(done) }()
	for i := range 3 {
		select {
		case <-sweeps:
		case <-time.After(5 * time.Second):
			t.Fatalf("sweep %d did not come", i+1)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return when its context ended")
	}
}
