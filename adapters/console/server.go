// Package console is the agent side of Frontdesk on the web: the agent
// API (/api/agent/..., JSON over HTTP, the contract docs/agent-api.md
// specifies), the agent websocket that streams queue changes and
// conversation events, and the console page served from embedded assets.
//
// The package holds no state of its own that matters: sessions and
// agents belong to handoff.Agents, tickets to handoff.Queue, conversations
// to the bot engine. It decides who may see and do what (see canRead and
// the handlers), turns requests into calls on those, and turns their
// errors into HTTP statuses.
package console

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/origin"
	"github.com/frontdesk/frontdesk/internal/wsconn"
	"github.com/frontdesk/frontdesk/kb"
)

// Suggester is what the console needs of the knowledge base.
type Suggester interface {
	Search(ctx context.Context, q string) ([]kb.Hit, error)
	Article(id string) (*kb.Article, bool)
}

// Canned is a ready-made reply offered in the console. In Text,
// "{name}" stands for the customer's first name (or "there").
type Canned struct{ Title, Text string }

// Options configure the console. The zero value is usable, but without
// Assets the console page is not served (the API still is).
type Options struct {
	Assets         fs.FS    // index.html, console.js, console.css (content/console)
	AllowedOrigins []string // besides same-origin, for the agent websocket
	Canned         []Canned // canned replies offered in the console
	Teams          []string // team names, for transfer
	Log            *slog.Logger
	// Records serves the admin endpoints for the data: backups, and a
	// customer's export and erasure (admin.go). Without it they answer
	// 503.
	Records Records
	// Attachments keeps the files sent in chats (nil: none).
	Attachments *attachment.Store
	// APIKeys keeps the customer API's keys, which admins manage
	// (apikeys.go). Without it those endpoints answer 503.
	APIKeys bot.APIKeyStore
	// Webhooks, if set, returns how the outgoing webhooks stand, as
	// JSON (webhooks.go).
	Webhooks func() any
	// Insights serves the insight pages (insights.go); without it they
	// answer 503.
	Insights Insights
	// Editor writes articles (articles.go); without it saving an answer
	// as an article and the admins' editor answer 503.
	Editor ArticleEditor
	// Stats serves the dashboard over time (stats.go); without it GET
	// /api/agent/stats answers 503.
	Stats Stats
}

// Limits and timings of the agent websocket.
const (
	maxFrame     = 8 << 10          // largest frame a console may send
	sendQueue    = 256              // frames waiting for a slow console
	pingInterval = 30 * time.Second // server pings this often
	readTimeout  = 60 * time.Second // a console silent for longer is dropped
	signOffWait  = 10 * time.Second // to sign off an agent whose last console closed
	maxWatched   = 20               // conversations one connection may watch at once
)

// Server serves the agent console and its API.
type Server struct {
	engine Engine
	queue  Queue
	agents Agents
	kb     Suggester
	opts   Options

	upgrader websocket.Upgrader
	conns    wsconn.Registry[*conn]
}

// NewServer returns the console for the engine, queue and agents, with
// suggestions from k. It starts no goroutine: each agent websocket runs on
// the goroutines of its request until it closes or Shutdown is called.
func NewServer(e Engine, q Queue, a Agents, k Suggester, opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{engine: e, queue: q, agents: a, kb: k, opts: opts}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		CheckOrigin:     s.checkOrigin,
	}
	return s
}

// checkOrigin allows requests without an Origin header (not from a
// browser, so no cross-site risk), the server's own origin and the
// configured ones. Everything else is refused and logged.
func (s *Server) checkOrigin(r *http.Request) bool {
	if s.originAllowed(r) {
		return true
	}
	s.opts.Log.Warn("console origin refused", "origin", r.Header.Get("Origin"), "host", r.Host, "path", r.URL.Path)
	return false
}

// originAllowed reports whether the request's Origin, if any, is this
// server or one of Options.AllowedOrigins.
func (s *Server) originAllowed(r *http.Request) bool {
	return origin.Allowed(r, s.opts.AllowedOrigins)
}

// Shutdown closes every agent websocket with code 1001 (going away; the
// console reconnects when the server is back) and waits for them to
// finish, or for ctx. Websockets opened afterwards are refused.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.conns.Shutdown(ctx, func(c *conn) { c.ws.GoAway() })
}

// closeAgent closes every websocket of the agent: its sessions ended
// (disabled, new password).
func (s *Server) closeAgent(agentID string) {
	for _, c := range s.conns.Matching(func(c *conn) bool { return c.agent.ID == agentID }) {
		c.ws.Close(websocket.ClosePolicyViolation, "session ended")
	}
}

// endSession closes the websockets opened with the session whose token
// hash is given: a logged-out console stops receiving at once.
func (s *Server) endSession(tokenHash []byte) {
	for _, c := range s.conns.Matching(func(c *conn) bool { return bytes.Equal(c.tokenHash, tokenHash) }) {
		c.ws.Close(websocket.ClosePolicyViolation, "logged out")
	}
}
