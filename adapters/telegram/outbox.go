package telegram

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"time"
)

// sender delivers the outbox: one goroutine per chat with pending
// requests sends them in order, at most one per ChatInterval, sharing a
// global limit of GlobalRate a second. A request leaves the outbox only
// after a 2xx (or a permanent refusal); until then it is retried,
// honouring 429 retry_after and backing off on 5xx and network errors.
// A 403 (the user blocked the bot) marks the chat blocked and drops its
// queue. It runs while its context lives: the adapter's, or on a node
// among several, the lead's.
type sender struct {
	a   *Adapter
	ctx context.Context

	mu     sync.Mutex
	loaded uint64 // highest outbox id taken into queues
	queues map[int64][]outgoing
	last   time.Time // global limiter: when the last request may have gone
	wg     sync.WaitGroup
	kicks  chan struct{}
}

func newSender(a *Adapter, ctx context.Context) *sender {
	return &sender{a: a, ctx: ctx, queues: map[int64][]outgoing{}, kicks: make(chan struct{}, 1)}
}

// load starts the loader, which takes new outbox entries into the
// per-chat queues whenever kicked (and every rescan, if not 0), and
// loads what is queued now.
func (s *sender) load(rescan time.Duration) error {
	if err := s.scan(); err != nil {
		return err
	}
	var tick <-chan time.Time
	if rescan > 0 {
		t := time.NewTicker(rescan)
		tick = t.C
		s.wg.Go(func() { <-s.ctx.Done(); t.Stop() })
	}
	s.wg.Go(func() {
		for {
			select {
			case <-s.kicks:
			case <-tick:
			case <-s.ctx.Done():
				return
			}
			if err := s.scan(); err != nil && s.ctx.Err() == nil {
				s.a.opts.Log.Error("telegram: read outbox", "err", err)
			}
		}
	})
	return nil
}

// kick tells the loader that the outbox has new entries.
func (s *sender) kick() {
	select {
	case s.kicks <- struct{}{}:
	default:
	}
}

// wait waits for the loader and the chat goroutines to stop.
func (s *sender) wait() { s.wg.Wait() }

func (s *sender) scan() error {
	s.mu.Lock()
	from := s.loaded
	s.mu.Unlock()
	var fresh []outgoing
	err := s.a.store.TelegramOutbox(s.ctx, func(id uint64, data []byte) error {
		if id <= from {
			return nil
		}
		var o outgoing
		if err := json.Unmarshal(data, &o); err != nil {
			s.a.opts.Log.Error("telegram: undecodable outbox entry; dropped", "id", id, "err", err)
			return s.a.store.TelegramSent(s.ctx, id)
		}
		o.id = id
		fresh = append(fresh, o)
		return nil
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range fresh {
		if o.id <= s.loaded {
			continue
		}
		s.loaded = o.id
		q, running := s.queues[o.Chat]
		s.queues[o.Chat] = append(q, o)
		if !running {
			chat := o.Chat
			s.wg.Go(func() { s.run(chat) })
		}
	}
	return nil
}

// run delivers one chat's queue until it is empty or the adapter stops.
func (s *sender) run(chat int64) {
	var lastSent time.Time
	for {
		s.mu.Lock()
		q := s.queues[chat]
		if len(q) == 0 {
			delete(s.queues, chat)
			s.mu.Unlock()
			return
		}
		o := q[0]
		s.mu.Unlock()
		if wait := time.Until(lastSent.Add(s.a.opts.ChatInterval)); wait > 0 && !sleep(s.ctx, wait) {
			s.abandon(chat)
			return
		}
		result := s.deliver(o)
		lastSent = time.Now()
		switch result {
		case stopped:
			s.abandon(chat)
			return
		case blocked:
			s.block(chat)
			continue
		}
		// Not s.ctx: a message Telegram accepted is marked sent even
		// while stopping, or it would be sent again after a restart.
		if err := s.a.store.TelegramSent(context.Background(), o.id); err != nil {
			// Still queued on disk: it is sent again after a restart.
			s.a.opts.Log.Error("telegram: mark sent", "err", err)
		}
		s.mu.Lock()
		s.queues[chat] = s.queues[chat][1:]
		s.mu.Unlock()
	}
}

// abandon forgets a chat's in-memory queue on Stop (or the loss of the
// lead); the outbox keeps it.
func (s *sender) abandon(chat int64) {
	s.mu.Lock()
	delete(s.queues, chat)
	s.mu.Unlock()
}

// block marks a chat blocked and drops everything queued for it.
func (s *sender) block(chat int64) {
	s.mu.Lock()
	q := s.queues[chat]
	s.queues[chat] = nil
	s.mu.Unlock()
	ids := make([]uint64, len(q))
	for i, o := range q {
		ids[i] = o.id
	}
	if err := s.a.store.TelegramSetBlocked(context.Background(), chat, true); err != nil {
		s.a.opts.Log.Error("telegram: mark chat blocked", "chat", chat, "err", err)
	}
	if err := s.a.store.TelegramSent(context.Background(), ids...); err != nil {
		s.a.opts.Log.Error("telegram: drop blocked chat's messages", "chat", chat, "err", err)
	}
	s.a.opts.Log.Warn("telegram: the user blocked the bot; messages to the chat dropped until they write again", "chat", chat, "dropped", len(ids))
}

type result int

const (
	sent    result = iota
	dropped        // refused for good (400): not retried
	blocked        // 403: the user blocked the bot
	stopped        // the adapter is stopping
)

// deliver sends one request, retrying until it is accepted, refused for
// good, or the adapter stops.
func (s *sender) deliver(o outgoing) result {
	backoff := s.a.opts.MinBackoff
	for {
		if !sleep(s.ctx, s.slot()) {
			return stopped
		}
		_, err := s.a.api.MakeRequest(o.Method, o.params())
		code := apiCode(err)
		switch {
		case err == nil:
			return sent
		case code == 403:
			s.a.opts.Observer.TelegramFailed("blocked")
			return blocked
		case code == 429:
			s.a.opts.Observer.TelegramRetry("rate_limited")
			wait := time.Duration(max(retryAfter(err), 1)) * s.a.opts.RetryAfterUnit
			s.a.opts.Log.Info("telegram: rate limited", "chat", o.Chat, "retry_after", wait)
			if !sleep(s.ctx, wait) {
				return stopped
			}
			continue
		case code >= 400 && code < 500:
			s.a.opts.Log.Error("telegram: message refused; dropped", "chat", o.Chat, "code", code, "err", err)
			s.a.opts.Observer.TelegramFailed("refused")
			return dropped
		}
		if s.ctx.Err() != nil {
			return stopped
		}
		s.a.opts.Log.Warn("telegram: send failed; retrying", "chat", o.Chat, "err", err, "wait", backoff)
		s.a.opts.Observer.TelegramRetry("unavailable")
		// Full jitter keeps many chats from retrying in step.
		if !sleep(s.ctx, backoff/2+rand.N(backoff/2+1)) {
			return stopped
		}
		backoff = min(backoff*2, s.a.opts.MaxBackoff)
	}
}

// slot reserves the next global send slot and returns how long to wait
// for it.
func (s *sender) slot() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	gap := time.Duration(float64(time.Second) / s.a.opts.GlobalRate)
	next := s.last.Add(gap)
	if now := time.Now(); next.Before(now) {
		next = now
	}
	s.last = next
	return time.Until(next)
}
