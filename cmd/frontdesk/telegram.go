package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdesk/frontdesk/adapters/telegram"
	"github.com/frontdesk/frontdesk/bot"
)

// telegramSettings declares the Telegram settings on s.
func telegramSettings(s *settings) {
	s.add("telegram-token", "", "Telegram bot token from BotFather; enables the Telegram channel")
	s.add("telegram-api-url", telegram.DefaultAPIURL, "Telegram Bot API server (e.g. a self-hosted one)")
	s.add("telegram-webhook", "", "public HTTPS URL Telegram posts updates to (default: long polling, no public address needed)")
	s.add("telegram-webhook-secret", "", "secret Telegram sends with webhook updates (default: a random one each start)")
	s.add("public-url", "", "public address of this server (https://chat.example.com), for links that open the web chat (Telegram's /web)")
}

// startTelegram starts the Telegram channel if a token is configured
// (else it withdraws any stale "continue on Telegram" offer and returns
// nil, nil). In webhook mode the handler is registered on mux at the path
// of the webhook URL, which must be free: a path another route of mux
// serves is a usage error. The returned stop stops polling and delivery and
// waits for the goroutines; it is safe to call more than once. With a
// lease (nodes sharing one PostgreSQL database), only the node holding
// the "telegram" role polls and sends; the webhook works on every node.
func startTelegram(ctx context.Context, cfg *settings, engine *bot.Engine, db telegram.Store, lease telegram.Lease, mux *http.ServeMux, obs telegram.Observer, log *slog.Logger) (stop func(), err error) {
	token := cfg.get("telegram-token")
	if token == "" {
		if err := engine.OfferChannel(ctx, bot.Telegram, ""); err != nil {
			return nil, fmt.Errorf("telegram: %w", err)
		}
		return nil, nil
	}
	opts := telegram.Options{
		Token:         token,
		APIURL:        cfg.get("telegram-api-url"),
		WebhookURL:    cfg.get("telegram-webhook"),
		WebhookSecret: cfg.get("telegram-webhook-secret"),
		PublicURL:     cfg.get("public-url"),
		Log:           log.With("channel", "telegram"),
		Observer:      obs,
		Lease:         lease,
	}
	var path string
	if opts.WebhookURL != "" {
		u, err := url.Parse(opts.WebhookURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, usageError{fmt.Sprintf("telegram-webhook: %q is not an https:// URL", opts.WebhookURL)}
		}
		path = u.Path
		if path == "" || path == "/" {
			return nil, usageError{"telegram-webhook: the URL needs a path, e.g. https://chat.example.com/telegram/webhook"}
		}
		if err := freePath(mux, path); err != nil {
			return nil, usageError{fmt.Sprintf("telegram-webhook: %v; choose another path, e.g. https://%s/telegram/webhook", err, u.Host)}
		}
		if opts.WebhookSecret == "" {
			var b [32]byte
			if _, err := rand.Read(b[:]); err != nil {
				return nil, err
			}
			opts.WebhookSecret = hex.EncodeToString(b[:])
		}
	}
	// The webhook route is registered once; until the channel is up it
	// answers 503, and Telegram delivers the update again later.
	var live atomic.Pointer[telegram.Adapter]
	if path != "" {
		err := handle(mux, "POST "+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a := live.Load()
			if a == nil {
				http.Error(w, "telegram channel starting", http.StatusServiceUnavailable)
				return
			}
			a.WebhookHandler().ServeHTTP(w, r)
		}))
		if err != nil {
			return nil, usageError{fmt.Sprintf("telegram-webhook: %v", err)}
		}
	}
	start := func() (*telegram.Adapter, error) {
		a, err := telegram.New(ctx, engine, db, opts)
		if err != nil {
			return nil, err
		}
		live.Store(a)
		if err := a.Start(ctx); err != nil {
			live.Store(nil)
			a.Stop()
			return nil, err
		}
		log.Info("telegram channel ready", "bot", "@"+a.Username(), "mode", map[bool]string{true: "webhook", false: "polling"}[path != ""])
		return a, nil
	}
	a, err := start()
	switch {
	case err == nil:
		return a.Stop, nil
	case telegram.Refused(err):
		return nil, fmt.Errorf("%w (check --telegram-token / FRONTDESK_TELEGRAM_TOKEN)", err)
	}
	// Telegram is unreachable: the web keeps working, and Telegram joins
	// when it is back. Nothing is lost meanwhile: updates wait at Telegram.
	log.Warn("telegram unreachable; the web chat runs and Telegram is retried in the background", "err", err)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var started *telegram.Adapter
	go func() {
		defer close(done)
		wait := 2 * time.Second
		for {
			select {
			case <-rctx.Done():
				return
			case <-time.After(wait):
			}
			a, err := start()
			if err == nil {
				started = a
				return
			}
			if telegram.Refused(err) {
				log.Error("telegram refused the bot token; the Telegram channel stays off", "err", err)
				return
			}
			log.Warn("telegram still unreachable", "err", err, "retry_in", wait.String())
			wait = min(2*wait, time.Minute)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
			if started != nil {
				started.Stop()
			}
		})
	}, nil
}

// freePath reports why path cannot be given a route of its own on mux:
// it is not a plain, clean path (ServeMux reads "{...}" as a wildcard and
// redirects unclean paths), or a route already serves it, for POST or
// GET.
func freePath(mux *http.ServeMux, p string) error {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "{}") || strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return fmt.Errorf("the path %q is not a plain URL path (letters, digits, / - _ . ~ and the like)", p)
	}
	if clean := path.Clean(p); clean != strings.TrimSuffix(p, "/") && clean != p {
		return fmt.Errorf("the path %q is not clean (say %q)", p, clean)
	}
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		if _, pattern := mux.Handler(&http.Request{Method: method, Host: "localhost", URL: &url.URL{Path: p}}); pattern != "" {
			return fmt.Errorf("the path %s is already served by the route %q", p, pattern)
		}
	}
	return nil
}

// handle registers h for pattern on mux, returning as an error what
// ServeMux would panic with (a pattern it cannot parse, or one that
// conflicts with another).
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot serve %q: %v", pattern, r)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}
