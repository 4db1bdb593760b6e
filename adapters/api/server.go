// Package api is the customer API a shop's backend calls (/api/v1/, the
// contract docs/customer-api.md specifies): it creates and updates the
// customers the shop knows by its own ids, reads their profiles and
// conversations, and forgets them. Callers present an API key (see
// bot.APIKey); a read key reads, a write key may also change.
//
// The package holds no state: customers belong to the bot engine, keys
// to the key store, the erasure to the records.
package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/frontdesk/frontdesk/bot"
)

// Engine is what the API needs of the bot.
type Engine interface {
	PutVerified(ctx context.Context, v bot.Verified) (*bot.Customer, bool, error)
	CustomerByExternalID(ctx context.Context, externalID string) (*bot.Customer, error)
	Conversations(ctx context.Context, customerID string) ([]bot.Conversation, error)
	Messages(ctx context.Context, conversationID string, after int64) ([]bot.Message, error)
}

// Records erases a customer (the data-rights forget).
type Records interface {
	// ForgetCustomer erases the customer for good and returns what it
	// erased: bot.ErrNotFound for an unknown id, bot.ErrInHandoff while
	// people have one of the conversations.
	ForgetCustomer(ctx context.Context, id string) (bot.Erased, error)
}

// Options configure the API. The zero value is usable.
type Options struct {
	Log *slog.Logger
	// OnCustomer, if set, is told of every customer a PUT changed (for
	// the customer.updated webhook). It must not block.
	OnCustomer func(c *bot.Customer)
}

// Server serves the customer API.
type Server struct {
	engine  Engine
	keys    bot.APIKeyStore
	records Records
	opts    Options
}

// NewServer returns the API over the engine, checking keys against keys
// and forgetting customers through records (nil: DELETE answers 503).
func NewServer(e Engine, keys bot.APIKeyStore, records Records, opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{engine: e, keys: keys, records: records, opts: opts}
}

// Routes registers the API's routes on mux.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.Handle("PUT /api/v1/customers/{external_id}", s.authed(bot.ScopeWrite, s.handlePutCustomer()))
	mux.Handle("GET /api/v1/customers/{external_id}", s.authed(bot.ScopeRead, s.handleGetCustomer()))
	mux.Handle("DELETE /api/v1/customers/{external_id}", s.authed(bot.ScopeWrite, s.handleDeleteCustomer()))
	mux.Handle("GET /api/v1/conversations", s.authed(bot.ScopeRead, s.handleConversations()))
	mux.Handle("/api/v1/", s.authed(bot.ScopeRead, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, bot.NewError(bot.CodeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path))
	})))
}
