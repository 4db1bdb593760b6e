// Package web is the website channel: the customer websocket endpoint
// (/ws, whose protocol docs/protocol.md specifies), the chat widget's
// assets and the demo shop page.
package web

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/adapters/origin"
	"github.com/frontdesk/frontdesk/bot"
)

// Options configure the web channel. Zero values take the defaults.
type Options struct {
	// AllowedOrigins are the sites (scheme://host[:port]) that may open the
	// websocket besides this server's own origin; "*" allows any.
	AllowedOrigins []string
	// Assets hold widget.js, widget.css and index.html.
	Assets fs.FS
	Log    *slog.Logger
	// MaxFrame is the largest frame accepted, in bytes (default 4096);
	// a larger one closes the connection with 1009.
	MaxFrame int64
	// MaxText is the longest message text, in characters (default 2000).
	MaxText int
	// RateBurst messages may be sent at once, then RatePerSecond.
	RateBurst     int
	RatePerSecond float64
	// SendQueue bounds the frames waiting for a slow client (default 256);
	// when full the client is disconnected and resumes on reconnect.
	SendQueue    int
	PingInterval time.Duration // default 30 s
	ReadTimeout  time.Duration // default 60 s: a client silent for longer is dropped
	// Observer is told of send queues, refusals and error frames
	// (default: nobody).
	Observer Observer
}

// Server serves the web channel.
type Server struct {
	engine   *bot.Engine
	opts     Options
	upgrader websocket.Upgrader

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutting bool
	wg       sync.WaitGroup
}

// NewServer returns the web channel for the engine.
func NewServer(e *bot.Engine, opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxFrame == 0 {
		opts.MaxFrame = 4096
	}
	if opts.MaxText == 0 {
		opts.MaxText = 2000
	}
	if opts.RateBurst == 0 {
		opts.RateBurst = 10
	}
	if opts.RatePerSecond == 0 {
		opts.RatePerSecond = 1
	}
	if opts.SendQueue == 0 {
		opts.SendQueue = 256
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = 30 * time.Second
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 60 * time.Second
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	s := &Server{engine: e, opts: opts, conns: map[*conn]struct{}{}}
	s.upgrader = websocket.Upgrader{
		// Frames are small (MaxFrame); write buffers are lent from a pool
		// only while a frame is written, so an idle connection holds none.
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
	}
	return s
}

// checkOrigin lets the server's own pages and the configured sites open
// the websocket (see origin.Allowed); everything else is refused and
// logged.
func (s *Server) checkOrigin(r *http.Request) bool {
	if origin.Allowed(r, s.opts.AllowedOrigins) {
		return true
	}
	s.opts.Log.Warn("websocket origin refused", "origin", r.Header.Get("Origin"), "host", r.Host)
	s.opts.Observer.Refused(string(bot.Web), "origin")
	return false
}

// Shutdown tells every connected client that the server is going away
// (close code 1001; the widget reconnects and resumes) and waits for the
// connections to finish, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutting = true
	for c := range s.conns {
		c.goAway()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.opts.Observer.ConnOpened(string(bot.Web))
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.opts.Observer.ConnClosed(string(bot.Web))
	s.wg.Done()
}
