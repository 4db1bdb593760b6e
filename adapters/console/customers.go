package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// ---- Customers ---------------------------------------------------------------

type customerRequest struct {
	Segment        *string `json:"segment"`
	DedicatedAgent *string `json:"dedicated_agent"`
}

// handleCustomer sets a customer's segment and dedicated agent. The agent
// who has one of the customer's conversations may, and supervisors.
func (s *Server) handleCustomer() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		var in customerRequest
		if !decode(w, r, &in) {
			return
		}
		ctx, st := r.Context(), s.engine
		id := r.PathValue("id")
		c, err := st.Customer(ctx, id)
		switch {
		case errors.Is(err, bot.ErrNotFound):
			writeError(w, http.StatusNotFound, "no customer with that id")
			return
		case err != nil:
			s.fail(w, err, "load the customer", sess, "")
			return
		}
		helps, err := s.helps(ctx, sess.agent, id)
		if err != nil {
			s.fail(w, err, "check access", sess, "")
			return
		}
		if !handoff.May(sess.agent, handoff.AccessEditCustomer, handoff.Situation{HasCustomer: helps}) {
			writeError(w, http.StatusForbidden, "only the agent who has one of the customer's conversations, or a supervisor, may change the customer")
			return
		}
		if in.Segment == nil && in.DedicatedAgent == nil {
			writeError(w, http.StatusBadRequest, `give "segment" or "dedicated_agent"`)
			return
		}
		var seg, aid string
		if in.Segment != nil {
			if seg, err = handoff.Segment(*in.Segment); err != nil {
				writeError(w, http.StatusBadRequest, bot.ErrorMessage(err))
				return
			}
		}
		if in.DedicatedAgent != nil {
			aid = strings.TrimSpace(*in.DedicatedAgent)
			if aid != "" {
				if _, err := s.agents.Agent(ctx, aid); err != nil {
					writeError(w, http.StatusBadRequest, "no agent with that id")
					return
				}
			}
		}
		// One transaction: the bot may be recording a topic meanwhile.
		c, err = s.engine.UpdateCustomer(ctx, c.ID, func(c *bot.Customer) error {
			if in.Segment != nil {
				c.Segment = seg
			}
			if in.DedicatedAgent != nil {
				c.DedicatedAgent = aid
			}
			return nil
		})
		if err != nil {
			s.fail(w, err, "save the customer", sess, "")
			return
		}
		s.opts.Log.Info("customer updated", "customer", c.ID, "agent", sess.agent.ID, "segment", c.Segment, "dedicated_agent", c.DedicatedAgent)
		httperr.WriteJSON(w, http.StatusOK, viewCustomer(c, s.names(ctx)))
	})
}
