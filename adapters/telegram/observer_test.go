package telegram_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// observer remembers what the adapter told it.
type observer struct {
	mu       sync.Mutex
	requests map[string]int // by method
	errors   map[string]int // by method
	retries  map[string]int // by reason
	failures map[string]int // by reason
}

func newObserver() *observer {
	return &observer{requests: map[string]int{}, errors: map[string]int{}, retries: map[string]int{}, failures: map[string]int{}}
}

func (o *observer) ObserveTelegram(method string, d time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests[method]++
	if err != nil {
		o.errors[method]++
	}
}
func (o *observer) TelegramRetry(reason string)  { o.mu.Lock(); o.retries[reason]++; o.mu.Unlock() }
func (o *observer) TelegramFailed(reason string) { o.mu.Lock(); o.failures[reason]++; o.mu.Unlock() }

func (o *observer) get(m map[string]int, k string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return m[k]
}

func TestTheObserverHearsOfRequestsRetriesAndFailures(t *testing.T) {
	r := newRig(t)
	var mu sync.Mutex
	sends := 0
	r.api.setInject(func(method string) string {
		if method != "sendMessage" {
			return ""
		}
		mu.Lock()
		defer mu.Unlock()
		sends++
		switch sends {
		case 1:
			return "429"
		case 2:
			return "5xx"
		}
		return ""
	})
	obs := newObserver()
	opts := r.options()
	opts.Observer = obs
	r.start(opts)
	r.api.push(textUpdate(3001, "Eve", "hello"))
	r.waitSent(3001, "")
	// The request is observed when its response arrives, which may be
	// just after the fake recorded the message.
	waitFor(t, "three sendMessage requests observed", func() bool { return obs.get(obs.requests, "sendMessage") >= 3 })
	if obs.get(obs.requests, "getMe") == 0 || obs.get(obs.requests, "getUpdates") == 0 {
		t.Errorf("requests by method %v, want getMe and getUpdates too", obs.requests)
	}
	if obs.get(obs.errors, "sendMessage") != 2 {
		t.Errorf("failed requests by method %v, want 2 sendMessage", obs.errors)
	}
	if obs.get(obs.retries, "rate_limited") != 1 || obs.get(obs.retries, "unavailable") != 1 {
		t.Errorf("retries %v, want one rate_limited and one unavailable", obs.retries)
	}

	r.api.setInject(func(method string) string {
		if method == "sendMessage" {
			return "403"
		}
		return ""
	})
	r.api.push(textUpdate(3002, "Fay", "hello"))
	waitFor(t, "the blocked chat", func() bool {
		b, _ := r.db.TelegramBlocked(context.Background(), 3002)
		return b
	})
	// The greeting and the reply may both be refused before the chat is
	// marked blocked.
	if got := obs.get(obs.failures, "blocked"); got < 1 {
		t.Errorf("failures %v, want blocked", obs.failures)
	}
}
