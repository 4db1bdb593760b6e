package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Limits of the HTTP listeners that are not settings.
const (
	// readHeaderTimeout bounds the time to send a request's headers.
	readHeaderTimeout = 10 * time.Second
	// maxHeaderBytes bounds a request's headers.
	maxHeaderBytes = 64 << 10
	// maxRequestBody bounds any request body; routes that read one set
	// their own, lower limits (the agent API 64 KiB, Telegram's webhook
	// 1 MiB).
	maxRequestBody = 1 << 20
	// shutdownGrace is how long requests in flight and websockets get to
	// finish when the server stops; connections still open after it
	// (clients stalled mid-request) are closed.
	shutdownGrace = time.Second
)

// httpSettings declares the HTTP server's time limits on s.
func httpSettings(s *settings) {
	s.add("read-timeout", "15s", "longest time a client may take to send a whole request, body included; 0: no limit")
	s.add("write-timeout", "30s", "longest time to answer a request, from the end of its headers; 0: no limit")
	s.add("idle-timeout", "2m", "how long a keep-alive connection may wait for its next request; 0: no limit")
}

// httpLimits are the time limits of the main HTTP listener.
type httpLimits struct {
	read, write, idle time.Duration
}

// readHTTPLimits reads the settings declared by httpSettings.
func readHTTPLimits(cfg *settings) (httpLimits, error) {
	var l httpLimits
	for _, s := range []struct {
		name string
		d    *time.Duration
	}{{"read-timeout", &l.read}, {"write-timeout", &l.write}, {"idle-timeout", &l.idle}} {
		d, err := cfg.duration(s.name)
		if err != nil {
			return l, err
		}
		if d < 0 {
			return l, usageError{fmt.Sprintf("%s: %s is negative", s.name, d)}
		}
		*s.d = d
	}
	return l, nil
}

// newHTTPServer returns the server for h with the limits: a slow or
// stalled client (headers, body, or an idle keep-alive connection) is
// cut off instead of holding a connection and a goroutine for good, and
// request bodies are bounded. Websockets are not subject to the read and
// write timeouts: net/http clears a connection's deadlines when a handler
// takes it over (Hijack), as gorilla's upgrade does, and the websocket
// code sets its own.
func newHTTPServer(h http.Handler, l httpLimits, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       l.read,
		WriteTimeout:      l.write,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// stopHTTP stops srv: it stops listening, closes idle connections, and
// gives the requests in flight until ctx ends to finish; then it closes
// the connections left (a client stalled mid-request), so that stopping
// never waits on a client. Hijacked connections (websockets) are their
// owners' to close. name says which listener it is, for the log.
func stopHTTP(ctx context.Context, srv *http.Server, name string, log *slog.Logger) {
	err := srv.Shutdown(ctx)
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		return
	}
	log.Warn("closing connections still busy at shutdown", "listener", name, "err", err)
	srv.Close()
}
