package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// Admins manage the customer API's keys (docs/customer-api.md) here while
// the server runs; "frontdesk apikey" does it with the server stopped.

func (s *Server) apiKeyRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/agent/admin/apikeys", s.handleAddAPIKey())
	mux.Handle("GET /api/agent/admin/apikeys", s.handleAPIKeys())
	mux.Handle("DELETE /api/agent/admin/apikeys/{id}", s.handleRevokeAPIKey())
	mux.Handle("GET /api/agent/admin/webhooks", s.handleWebhooks())
}

// apiKeyView is a key as admins see it: never its secret or hash.
type apiKeyView struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Scope   bot.Scope `json:"scope"`
	Created time.Time `json:"created"`
	Revoked time.Time `json:"revoked,omitzero"`
	// Key is the key to present, only in the answer that made it.
	Key string `json:"key,omitempty"`
}

func viewAPIKey(k bot.APIKey) apiKeyView {
	return apiKeyView{ID: k.ID, Name: k.Name, Scope: k.Scope, Created: k.Created, Revoked: k.Revoked}
}

// admin runs h for an admin when keys are kept: 403 for anyone else, 503
// without a key store.
func (s *Server) admin(h func(w http.ResponseWriter, r *http.Request, sess *session)) http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !handoff.CanManageAgents(sess.agent) {
			writeError(w, http.StatusForbidden, "only admins manage API keys")
			return
		}
		if s.opts.APIKeys == nil {
			writeError(w, http.StatusServiceUnavailable, "API keys are not available on this server")
			return
		}
		h(w, r, sess)
	})
}

// handleAddAPIKey makes a key: 201 with the key, shown only here.
func (s *Server) handleAddAPIKey() http.Handler {
	return s.admin(func(w http.ResponseWriter, r *http.Request, sess *session) {
		var in struct {
			Name  string    `json:"name"`
			Scope bot.Scope `json:"scope"`
		}
		if !decode(w, r, &in) {
			return
		}
		if in.Scope == "" {
			in.Scope = bot.ScopeRead
		}
		k, text, err := bot.NewAPIKey(in.Name, in.Scope, time.Now())
		if err != nil {
			s.fail(w, err, "make the API key", sess, "")
			return
		}
		if err := s.opts.APIKeys.PutAPIKey(r.Context(), k); err != nil {
			s.fail(w, err, "store the API key", sess, "")
			return
		}
		s.opts.Log.Info("api key added", "key", k.ID, "scope", k.Scope, "by", sess.agent.ID)
		v := viewAPIKey(k)
		v.Key = text
		httperr.WriteJSON(w, http.StatusCreated, v)
	})
}

// handleAPIKeys lists the keys, revoked ones too.
func (s *Server) handleAPIKeys() http.Handler {
	return s.admin(func(w http.ResponseWriter, r *http.Request, sess *session) {
		ks, err := s.opts.APIKeys.APIKeys(r.Context())
		if err != nil {
			s.fail(w, err, "list API keys", sess, "")
			return
		}
		out := []apiKeyView{}
		for _, k := range ks {
			out = append(out, viewAPIKey(k))
		}
		httperr.WriteJSON(w, http.StatusOK, map[string]any{"keys": out})
	})
}

// handleRevokeAPIKey revokes a key for good: 200 with the key, 404 for
// an unknown id.
func (s *Server) handleRevokeAPIKey() http.Handler {
	return s.admin(func(w http.ResponseWriter, r *http.Request, sess *session) {
		k, err := s.opts.APIKeys.APIKey(r.Context(), r.PathValue("id"))
		if errors.Is(err, bot.ErrNotFound) {
			writeError(w, http.StatusNotFound, "no API key with that id")
			return
		}
		if err != nil {
			s.fail(w, err, "load the API key", sess, "")
			return
		}
		if k.Revoked.IsZero() {
			k.Revoked = time.Now().UTC()
			if err := s.opts.APIKeys.PutAPIKey(r.Context(), *k); err != nil {
				s.fail(w, err, "revoke the API key", sess, "")
				return
			}
			s.opts.Log.Info("api key revoked", "key", k.ID, "by", sess.agent.ID)
		}
		httperr.WriteJSON(w, http.StatusOK, viewAPIKey(*k))
	})
}
