package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/bot/boltstore"
	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/kb"
)

func serveSettings(fs *flag.FlagSet) *settings {
	s := newSettings(fs)
	s.add("config", "", "YAML config `file`")
	s.add("addr", ":8080", "listen address")
	s.add("data-dir", "data", "data directory (customer database, stored index)")
	s.add("content", "", "content directory (default: the embedded demo knowledge base)")
	s.add("allowed-origins", "", "comma-separated sites (https://shop.example) that may embed the widget, besides this server's own origin; * allows any")
	s.add("answer-threshold", fmt.Sprint(kb.DefaultThresholds.Answer), "answer at this confidence or above")
	s.add("clarify-threshold", fmt.Sprint(kb.DefaultThresholds.Clarify), "offer candidates at this confidence or above")
	s.add("human-phrases", strings.Join(bot.DefaultHumanPhrases, ","), "comma-separated phrases that ask for a person")
	s.add("greeting", "", "first message to a new customer (default: a built-in greeting)")
	s.add("visit-gap", "30m", "how long a customer must be away to be welcomed back as a new visit")
	s.add("log-level", "info", "log level: debug, info, warn, error")
	return s
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	cfg := serveSettings(fset)
	pos, err := cfg.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", pos)}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.get("log-level"))); err != nil {
		return usageError{fmt.Sprintf("log-level: %v", err)}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var th kb.Thresholds
	if th.Answer, err = cfg.float("answer-threshold"); err != nil {
		return err
	}
	if th.Clarify, err = cfg.float("clarify-threshold"); err != nil {
		return err
	}
	if err := th.Validate(); err != nil {
		return usageError{err.Error()}
	}
	visitGap, err := time.ParseDuration(cfg.get("visit-gap"))
	if err != nil || visitGap <= 0 {
		return usageError{fmt.Sprintf("visit-gap: %q is not a positive duration such as 30m", cfg.get("visit-gap"))}
	}
	kf := kbFlags{contentDir: cfg.get("content")}
	c, err := kf.readContent()
	if err != nil {
		return err
	}
	for _, p := range c.Problems {
		log.Warn("content problem", "file", p.File, "line", p.Line, "problem", p.Msg)
	}
	if len(c.Articles) == 0 {
		return errors.New("content has no usable articles")
	}
	dataDir := cfg.get("data-dir")
	start := time.Now()
	k, err := kb.Open(ctx, filepath.Join(dataDir, "kb"), c, kb.Options{Thresholds: th, Progress: func(stage string, done, total int) {
		if total == 0 {
			log.Warn(stage)
		}
	}})
	if err != nil {
		return fmt.Errorf("open knowledge base: %w", err)
	}
	defer k.Close()
	log.Info("knowledge base ready", "articles", len(k.Articles()), "reused", k.Reused, "seconds", time.Since(start).Seconds())

	db, err := boltstore.Open(filepath.Join(dataDir, "frontdesk.db"))
	if err != nil {
		return err
	}
	defer db.Close()

	bus := bot.NewBus()
	engine := bot.NewEngine(k, db, bus, bot.Options{
		Greeting:     cfg.get("greeting"),
		HumanPhrases: cfg.list("human-phrases"),
		VisitGap:     visitGap,
		Log:          log,
	})
	assets, err := fs.Sub(content.FS, "web")
	if err != nil {
		return err
	}
	webSrv := web.NewServer(engine, web.Options{AllowedOrigins: cfg.list("allowed-origins"), Assets: assets, Log: log})
	m := newMetrics(bus, len(k.Articles()))
	defer m.close()

	mux := http.NewServeMux()
	webSrv.Routes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ready\n") })
	mux.Handle("GET /metrics", m)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", cfg.get("addr"))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := baseURL(ln.Addr())
	log.Info("listening", "addr", ln.Addr().String())
	fmt.Fprintf(stdout, "Frontdesk is running.\n  Demo shop with the chat widget: %s/\n  Widget script tag: <script src=\"%s/widget.js\" async></script>\n  Health: %s/healthz   Metrics: %s/metrics\nPress Ctrl+C to stop.\n", base, base, base, base)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Websockets are hijacked connections that http.Server.Shutdown does
	// not track: tell them first, then stop the listener.
	if err := webSrv.Shutdown(sctx); err != nil {
		log.Warn("websocket shutdown", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// baseURL is how a person on this machine reaches the listener.
func baseURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
