package web_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/adapters/web"
)

// recorder is an Observer that remembers what it was told.
type recorder struct {
	mu      sync.Mutex
	open    int // connections open now
	depths  int
	refused map[string]int // channel/reason
	errors  map[string]int // channel/code
}

func (r *recorder) ObserveSendQueue(int) { r.mu.Lock(); r.depths++; r.mu.Unlock() }
func (r *recorder) ConnOpened(string)    { r.mu.Lock(); r.open++; r.mu.Unlock() }
func (r *recorder) ConnClosed(string)    { r.mu.Lock(); r.open--; r.mu.Unlock() }
func (r *recorder) Refused(channel, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused[channel+"/"+reason]++
}
func (r *recorder) Error(channel, code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors[channel+"/"+code]++
}

func TestTheObserverHearsOfRefusalsErrorsAndSends(t *testing.T) {
	obs := &recorder{refused: map[string]int{}, errors: map[string]int{}}
	s := startServer(t, "", web.Options{RateBurst: 3, RatePerSecond: 0.001, AllowedOrigins: []string{"https://shop.example"}, Observer: obs})
	c := s.connect()
	c.hello("", 0)
	c.Frame()
	c.Send(map[string]any{"type": "nonsense"})
	for i := range 4 {
		c.Send(map[string]any{"type": "message", "id": string(rune('a' + i)), "text": "hello"})
	}
	var errs int
	for errs < 2 {
		if f := c.Frame(); f["type"] == "error" {
			errs++
		}
	}
	if _, resp, err := s.dial(http.Header{"Origin": {"https://evil.example"}}); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a foreign origin was not refused: %v", err)
	}

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.refused["web/rate_limited"] != 1 || obs.refused["web/origin"] != 1 {
		t.Errorf("refusals %v, want one rate_limited and one origin", obs.refused)
	}
	if obs.errors["web/rate_limited"] != 1 || obs.errors["web/bad_frame"] != 1 {
		t.Errorf("error frames %v, want one rate_limited and one bad_frame", obs.errors)
	}
	if obs.open != 1 {
		t.Errorf("%d connections open by the observer's count, want 1", obs.open)
	}
	if obs.depths == 0 {
		t.Error("no send-queue depth observed")
	}
}
