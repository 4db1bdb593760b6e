package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/metrics"
)

// followMetrics has m follow the conversation events and the agent
// queue until ctx ends or m is closed.
func followMetrics(ctx context.Context, m *metrics.Metrics, bus bot.Bus, convs metrics.Conversations, queue *handoff.Queue) {
	m.Follow(ctx, metrics.Sources{
		Events:        metrics.BusFunc(func(id string, n int) metrics.Subscription { return bus.Subscribe(id, n) }),
		Conversations: convs,
		Queue:         queue,
		QueueEvents:   metrics.QueueEventsFunc(func(n int) metrics.QueueSubscription { return queue.Subscribe(n) }),
	})
}

// instrument wraps the main handler so that m counts the agent
// websocket's connections and the agent API's error responses (the
// customer websocket reports its own, through web.Observer).
func instrument(m *metrics.Metrics, h http.Handler) http.Handler {
	return m.HTTP(h, metrics.HTTPOptions{
		WebSockets: map[string]string{"/api/agent/ws": "console"},
		APIs:       map[string]string{"/api/agent/": "console"},
	})
}

// serveMonitoring serves the metrics. With addr "" they go on the main
// mux (GET /metrics), and the profiler is not served at all; url is then
// "" (the main listener's). Otherwise /metrics and /debug/pprof/ are
// served on a listener of their own at addr (a private port), and not on
// the main one; url is its metrics URL. stop shuts that listener down and
// waits for it.
func serveMonitoring(addr string, m *metrics.Metrics, mux *http.ServeMux, log *slog.Logger) (url string, stop func(), err error) {
	if addr == "" {
		m.Routes(mux)
		return "", func() {}, nil
	}
	private := http.NewServeMux()
	m.Routes(private)
	metrics.DebugRoutes(private)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen for metrics: %w", err)
	}
	log.Info("metrics and profiler listening", "addr", ln.Addr().String())
	// No write timeout: a CPU profile answers after the seconds it is
	// asked for.
	srv := &http.Server{
		Handler:           private,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readHeaderTimeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	return baseURL(ln.Addr()) + "/metrics", func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		stopHTTP(ctx, srv, "metrics", log)
		<-done
	}, nil
}
