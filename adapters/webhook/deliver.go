package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Store is the outbox as the Deliverer needs it (*bolt.DB has it).
type Store interface {
	// Outbox calls fn with up to limit records with seq > after, oldest
	// first.
	Outbox(ctx context.Context, after uint64, limit int, fn func(seq uint64, data []byte)) error
	// PutOutbox replaces a record's data (its delivery state).
	PutOutbox(ctx context.Context, seq uint64, data []byte) error
	// DeleteOutbox removes delivered records.
	DeleteOutbox(ctx context.Context, seqs ...uint64) error
}

// Observer is told of deliveries, for metrics. Its methods must not
// block.
type Observer interface {
	WebhookDelivered(eventType string)
	WebhookFailed(eventType string)
	// WebhookGivenUp is told of an event dropped after GiveUpAfter.
	WebhookGivenUp(eventType string)
	WebhookPending(n int)
}

// Options configure Webhooks.
type Options struct {
	// URLs receive every event; at least one.
	URLs []string
	// Secret signs each body (X-Frontdesk-Signature); required.
	Secret []byte
	// Client posts the events (default: a client with a 10 s timeout).
	Client *http.Client
	// MinBackoff is the wait after a first failure, doubled after each
	// further one up to MaxBackoff (defaults 1 s and 5 min), with jitter.
	MinBackoff, MaxBackoff time.Duration
	// GiveUpAfter is how long an event is retried after its first
	// failed attempt before it is dropped (logged, counted, and listed
	// among the failures), so that a URL gone for good does not fill the
	// outbox; 0 retries for ever.
	GiveUpAfter time.Duration
	// Poll is the longest Run waits before it reads the outbox again
	// (default a minute). The Recorder wakes its own Webhooks' Run as
	// soon as an act's events are durable; records another process
	// wrote, such as another node of a cluster where one node delivers,
	// are seen within Poll.
	Poll     time.Duration
	Observer Observer
	Log      *slog.Logger
	Now      func() time.Time
}

// Failure is a failed delivery attempt, for the console.
type Failure struct {
	At       time.Time `json:"at"`
	URL      string    `json:"url"`
	Type     string    `json:"type"`
	EventID  string    `json:"event_id"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
	// NextAt is when the event is tried again (zero when it was given
	// up: GaveUp).
	NextAt time.Time `json:"next_at"`
	GaveUp bool      `json:"gave_up,omitempty"`
}

// Status is how delivery stands.
type Status struct {
	URLs      []string `json:"urls"`
	Pending   int      `json:"pending"`
	Delivered int64    `json:"delivered"`
	Failed    int64    `json:"failed"`
	// GivenUp counts the events dropped after GiveUpAfter.
	GivenUp  int64     `json:"given_up"`
	Failures []Failure `json:"last_failures"`
}

// maxFailures is how many recent failures Status keeps.
const maxFailures = 20

// Webhooks records events into the outbox and delivers them.
type Webhooks struct {
	store Store
	opts  Options
	rec   *Recorder
	wake  chan struct{}

	mu        sync.Mutex
	pending   int
	delivered int64
	failed    int64
	givenUp   int64
	failures  []Failure
}

// New returns webhooks delivering to opts.URLs from st. It checks the
// URLs and the secret; it starts nothing (see Run).
func New(st Store, opts Options) (*Webhooks, error) {
	if len(opts.URLs) == 0 {
		return nil, errors.New("webhook: no URL")
	}
	for _, u := range opts.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("webhook URL %q is not an http(s) URL", u)
		}
	}
	if len(opts.Secret) < 16 {
		return nil, errors.New("webhook: the secret must be at least 16 characters")
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	w := &Webhooks{store: st, opts: opts, wake: make(chan struct{}, 1)}
	w.rec = &Recorder{urls: opts.URLs, now: opts.Now, wake: w.poke}
	return w, nil
}

// Recorder is what the engine needs to write events into the outbox
// (bot.Engine.SetRecorder).
func (w *Webhooks) Recorder() *Recorder { return w.rec }

func (w *Webhooks) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Status returns the delivery counts and the last failures, newest
// first.
func (w *Webhooks) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	fs := make([]Failure, len(w.failures))
	for i, f := range w.failures {
		fs[len(fs)-1-i] = f
	}
	return Status{URLs: w.opts.URLs, Pending: w.pending, Delivered: w.delivered, Failed: w.failed, GivenUp: w.givenUp, Failures: fs}
}

// page is how many outbox records one pass reads.
const page = 500

// Run delivers the outbox until ctx ends: a pass posts every record that
// is due, oldest first, except those behind an undelivered record of
// the same URL and key; then it waits for new events, the next retry or
// Options.Poll, whichever comes first. Run owns the delivery: run one
// per outbox.
func (w *Webhooks) Run(ctx context.Context) {
	for ctx.Err() == nil {
		next, err := w.pass(ctx)
		if err != nil && ctx.Err() == nil {
			w.opts.Log.Error("webhook delivery pass", "err", err)
			next = w.opts.Now().Add(w.opts.MinBackoff)
		}
		wait := w.opts.Poll
		if !next.IsZero() {
			wait = min(max(next.Sub(w.opts.Now()), 0), wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

type record struct {
	seq uint64
	e   entry
}

// removeBatch is how many delivered records are removed in one
// transaction (one fsync). A crash before the removal sends them again:
// delivery is at least once either way.
const removeBatch = 64

// pass delivers what is due and returns when the earliest waiting
// record is due again (zero: none waits).
func (w *Webhooks) pass(ctx context.Context) (next time.Time, err error) {
	blocked := map[string]bool{}
	after, pending := uint64(0), 0
	var done []uint64
	flush := func() error {
		// Deliveries made are recorded even as Run is being stopped.
		err := w.store.DeleteOutbox(context.WithoutCancel(ctx), done...)
		done = done[:0]
		return err
	}
	defer func() {
		if ferr := flush(); err == nil {
			err = ferr
		}
	}()
	for {
		var recs []record
		var bad error
		err := w.store.Outbox(ctx, after, page, func(seq uint64, data []byte) {
			var e entry
			if err := json.Unmarshal(data, &e); err != nil && bad == nil {
				bad = fmt.Errorf("outbox record %d: %w", seq, err)
			}
			recs = append(recs, record{seq, e})
		})
		if err == nil {
			err = bad
		}
		if err != nil {
			return next, err
		}
		for _, r := range recs {
			after = r.seq
			k := r.e.URL + "\x00" + r.e.Key
			if blocked[k] {
				pending++
				continue
			}
			if now := w.opts.Now(); now.Before(r.e.NextAt) {
				blocked[k] = true
				pending++
				if next.IsZero() || r.e.NextAt.Before(next) {
					next = r.e.NextAt
				}
				continue
			}
			ok, err := w.deliver(ctx, &r)
			if err != nil {
				return next, err
			}
			if ok {
				if done = append(done, r.seq); len(done) == removeBatch {
					if err := flush(); err != nil {
						return next, err
					}
				}
			} else {
				blocked[k] = true
				pending++
				if next.IsZero() || r.e.NextAt.Before(next) {
					next = r.e.NextAt
				}
			}
		}
		if err := flush(); err != nil {
			return next, err
		}
		if len(recs) < page {
			break
		}
	}
	w.mu.Lock()
	w.pending = pending
	w.mu.Unlock()
	if w.opts.Observer != nil {
		w.opts.Observer.WebhookPending(pending)
	}
	return next, nil
}

// deliver posts one record. On success the caller removes it; on
// failure it stores the next attempt's time in r.e and the outbox, or,
// once the record has failed for GiveUpAfter, gives it up: the caller
// removes it as if delivered. ok reports that the record is done with;
// err is a store error.
func (w *Webhooks) deliver(ctx context.Context, r *record) (ok bool, err error) {
	postErr := w.post(ctx, r.e)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if postErr == nil {
		w.mu.Lock()
		w.delivered++
		w.mu.Unlock()
		if w.opts.Observer != nil {
			w.opts.Observer.WebhookDelivered(r.e.Type)
		}
		return true, nil
	}
	now := w.opts.Now()
	r.e.Attempts++
	r.e.LastErr = postErr.Error()
	if r.e.FirstFailed.IsZero() {
		r.e.FirstFailed = now
	}
	gaveUp := w.opts.GiveUpAfter > 0 && now.Sub(r.e.FirstFailed) >= w.opts.GiveUpAfter
	f := Failure{At: now.UTC(), URL: r.e.URL, Type: r.e.Type, EventID: r.e.ID, Attempts: r.e.Attempts, Error: r.e.LastErr, GaveUp: gaveUp}
	if !gaveUp {
		r.e.NextAt = now.Add(w.backoff(r.e.Attempts))
		f.NextAt = r.e.NextAt.UTC()
		data, err := json.Marshal(r.e)
		if err != nil {
			return false, err
		}
		if err := w.store.PutOutbox(ctx, r.seq, data); err != nil {
			return false, err
		}
	}
	w.mu.Lock()
	w.failed++
	if gaveUp {
		w.givenUp++
	}
	w.failures = append(w.failures, f)
	if len(w.failures) > maxFailures {
		w.failures = w.failures[len(w.failures)-maxFailures:]
	}
	w.mu.Unlock()
	if w.opts.Observer != nil {
		w.opts.Observer.WebhookFailed(r.e.Type)
		if gaveUp {
			w.opts.Observer.WebhookGivenUp(r.e.Type)
		}
	}
	if gaveUp {
		w.opts.Log.Error("webhook event given up: its URL has refused it since its first attempt", "url", r.e.URL, "type", r.e.Type,
			"event", r.e.ID, "attempts", r.e.Attempts, "first_failed", r.e.FirstFailed.UTC(), "give_up_after", w.opts.GiveUpAfter, "err", postErr)
		return true, nil
	}
	w.opts.Log.Warn("webhook delivery failed; will retry", "url", r.e.URL, "type", r.e.Type, "attempts", r.e.Attempts, "err", postErr)
	return false, nil
}

// backoff is the wait after the n-th failure: MinBackoff doubled n-1
// times, at most MaxBackoff, between 3/4 and all of it.
func (w *Webhooks) backoff(n int) time.Duration {
	d := w.opts.MinBackoff
	for i := 1; i < n && d < w.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.opts.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// post sends one event: 2xx is success, anything else a failure.
func (w *Webhooks) post(ctx context.Context, e entry) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(e.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Frontdesk-Webhooks")
	req.Header.Set("X-Frontdesk-Event", e.Type)
	req.Header.Set("X-Frontdesk-Delivery", e.ID)
	req.Header.Set("X-Frontdesk-Signature", Signature(w.opts.Secret, e.Body))
	resp, err := w.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}
