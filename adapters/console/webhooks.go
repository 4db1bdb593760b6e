package console

import (
	"net/http"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// handleWebhooks answers how the outgoing webhooks stand (admins): the
// URLs, events waiting, delivered and failed counts, and the last
// failures. 503 when no webhook is configured.
//
//	GET /api/agent/admin/webhooks
func (s *Server) handleWebhooks() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !handoff.CanManageAgents(sess.agent) {
			writeError(w, http.StatusForbidden, "only admins see the webhooks")
			return
		}
		if s.opts.Webhooks == nil {
			writeError(w, http.StatusServiceUnavailable, "no webhook is configured (--webhook-url)")
			return
		}
		httperr.WriteJSON(w, http.StatusOK, s.opts.Webhooks())
	})
}
