package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

func apiKeys(t *testing.T, s Records, _ func() []byte) {
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	var texts []string
	// Stored out of order: listed by creation time, ties by id.
	for i, at := range []time.Time{base.Add(2 * time.Hour), base, base.Add(time.Hour)} {
		k, text, err := bot.NewAPIKey(fmt.Sprint("key ", i), bot.ScopeRead, at)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, text)
	}
	ks, err := s.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 3 || ks[0].Name != "key 1" || ks[1].Name != "key 2" || ks[2].Name != "key 0" {
		t.Fatalf("keys %+v, want key 1, key 2, key 0 (oldest first)", ks)
	}
	if !ks[0].Created.Equal(base) || ks[0].Hash == "" || ks[0].Scope != bot.ScopeRead {
		t.Errorf("key read back %+v", ks[0])
	}
	k, err := bot.CheckAPIKey(ctx, s, texts[0])
	if err != nil || k.Name != "key 0" {
		t.Fatalf("check a stored key: %+v, %v", k, err)
	}
	if _, err := s.APIKey(ctx, "key_nope"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("unknown key: %v, want ErrNotFound", err)
	}
	k.Revoked = base.Add(3 * time.Hour)
	if err := s.PutAPIKey(ctx, *k); err != nil {
		t.Fatal(err)
	}
	if _, err := bot.CheckAPIKey(ctx, s, texts[0]); !errors.Is(err, bot.ErrBadAPIKey) {
		t.Errorf("a revoked key: %v, want ErrBadAPIKey", err)
	}
	if ks, _ := s.APIKeys(ctx); len(ks) != 3 || ks[2].Revoked.IsZero() {
		t.Errorf("after revoking: %+v, want 3 keys, the last revoked", ks)
	}
	if _, err := bot.CheckAPIKey(ctx, s, texts[1]); err != nil {
		t.Errorf("another key stopped working: %v", err)
	}
}
