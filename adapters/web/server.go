// Package web is the website channel: the customer websocket endpoint
// (/ws, whose protocol docs/protocol.md specifies), the chat widget's
// assets and the demo shop page.
package web

import (
	"cmp"
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/origin"
	"github.com/frontdesk/frontdesk/internal/wsconn"
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
	// RateBurst messages may be sent at once by one visitor (customer),
	// then RatePerSecond (default 10, then 1 a second). The bucket is the
	// visitor's, across their connections and reconnects.
	RateBurst     int
	RatePerSecond float64
	// AddressRateBurst and AddressRatePerSecond limit the messages of all
	// visitors at one client address together (default 10 times a
	// visitor's: 100, then 10 a second), enough for a shop's customers
	// behind one NAT.
	AddressRateBurst     int
	AddressRatePerSecond float64
	// HelloBurst new visitors (a hello without a known token) may start at
	// one client address at once, then HellosPerMinute (default 60, then
	// 30 a minute). A hello over the limit is refused and closed.
	HelloBurst      int
	HellosPerMinute float64
	// MaxResumes connections of one client address may be sent their
	// history at once (default 4); another waits up to ResumeWait (default
	// 10 s) for its turn, then is refused and closed.
	MaxResumes int
	ResumeWait time.Duration
	// MaxBacklog is the most messages a hello is sent (default 1000): a
	// last_seq further back gets the newest MaxBacklog and is told that
	// earlier history was skipped.
	MaxBacklog int
	// TrustProxy takes the client address of the per-address limits from
	// the last X-Forwarded-For entry (set by a reverse proxy in front)
	// instead of the connection's peer. Off by default: without a proxy
	// that sets it, a client could name any address.
	TrustProxy bool
	// IdentitySecret verifies the identities shops send in hello (the
	// user_hash, see identity.go). Without it no identity is verified.
	IdentitySecret []byte
	// DemoLogin lets the demo shop page log in as the demo customer
	// (demo.go): anyone may then be that one customer. Off by default.
	DemoLogin bool
	// LimitExempt are client addresses exempt from the per-address limits
	// (not from a visitor's own), e.g. 127.0.0.1/32 to run bench here.
	LimitExempt []netip.Prefix
	// SendQueue bounds the frames waiting for a slow client (default 256);
	// when full the client is disconnected and resumes on reconnect.
	SendQueue    int
	PingInterval time.Duration // default 30 s
	ReadTimeout  time.Duration // default 60 s: a client silent for longer is dropped
	// Observer is told of send queues, refusals and error frames
	// (default: nobody).
	Observer Observer
	// Attachments keeps the files visitors send (nil: none accepted).
	Attachments *attachment.Store
	// Home gives the widget's first screen (nil: an empty one).
	Home HomeSource
}

// Server serves the web channel.
type Server struct {
	engine   Engine
	opts     Options
	upgrader websocket.Upgrader
	limits   *limits
	conns    wsconn.Registry[*conn]
}

// NewServer returns the web channel for the engine.
func NewServer(e Engine, opts Options) *Server {
	// A zero option takes its default (cmp.Or: the first non-zero).
	opts.Log = cmp.Or(opts.Log, slog.New(slog.DiscardHandler))
	opts.MaxFrame = cmp.Or(opts.MaxFrame, 4096)
	opts.MaxText = cmp.Or(opts.MaxText, 2000)
	opts.RateBurst = cmp.Or(opts.RateBurst, 10)
	opts.RatePerSecond = cmp.Or(opts.RatePerSecond, 1)
	opts.AddressRateBurst = cmp.Or(opts.AddressRateBurst, 10*opts.RateBurst)
	opts.AddressRatePerSecond = cmp.Or(opts.AddressRatePerSecond, 10*opts.RatePerSecond)
	opts.HelloBurst = cmp.Or(opts.HelloBurst, 60)
	opts.HellosPerMinute = cmp.Or(opts.HellosPerMinute, 30)
	opts.MaxResumes = cmp.Or(opts.MaxResumes, 4)
	opts.ResumeWait = cmp.Or(opts.ResumeWait, 10*time.Second)
	opts.MaxBacklog = cmp.Or(opts.MaxBacklog, 1000)
	opts.SendQueue = cmp.Or(opts.SendQueue, 256)
	opts.PingInterval = cmp.Or(opts.PingInterval, 30*time.Second)
	opts.ReadTimeout = cmp.Or(opts.ReadTimeout, 60*time.Second)
	opts.Observer = cmp.Or[Observer](opts.Observer, nopObserver{})
	s := &Server{engine: e, opts: opts}
	s.limits = newLimits(&s.opts)
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
	return s.conns.Shutdown(ctx, func(c *conn) { c.ws.GoAway() })
}

// track registers a connection; false once shutting down.
func (s *Server) track(c *conn) bool {
	if !s.conns.Add(c) {
		return false
	}
	s.opts.Observer.ConnOpened(string(bot.Web))
	return true
}

// untrack forgets a connection whose goroutines have finished.
func (s *Server) untrack(c *conn) {
	s.conns.Remove(c, nil)
	s.opts.Observer.ConnClosed(string(bot.Web))
	s.conns.Done()
}
