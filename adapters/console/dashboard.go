package console

import (
	"context"
	"net/http"
	"time"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// ---- Agents, presence, canned replies, dashboard -----------------------------

// statuses returns every agent with presence and load, and the open
// tickets they were counted from.
func (s *Server) statuses(ctx context.Context) ([]agentStatus, []handoff.Ticket, error) {
	list, err := s.agents.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	open, err := s.queue.Tickets(ctx, handoff.Filter{})
	if err != nil {
		return nil, nil, err
	}
	load := map[string]int{}
	for _, t := range open {
		if t.Status == handoff.StatusAssigned {
			load[t.Agent]++
		}
	}
	pres := s.queue.Presences()
	out := make([]agentStatus, 0, len(list))
	for i := range list {
		a := &list[i]
		p := pres[a.ID]
		if p == "" {
			p = handoff.PresenceOffline
		}
		out = append(out, agentStatus{agentView: viewAgent(a), Presence: p, Load: load[a.ID], Disabled: a.Disabled})
	}
	return out, open, nil
}

func (s *Server) handleAgents() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		list, _, err := s.statuses(r.Context())
		if err != nil {
			s.fail(w, err, "list agents", sess, "")
			return
		}
		httperr.WriteJSON(w, http.StatusOK, struct {
			Agents []agentStatus `json:"agents"`
			Teams  []string      `json:"teams"`
		}{list, s.teams(r.Context())})
	})
}

type presenceRequest struct {
	Presence handoff.Presence `json:"presence"`
}

// handlePresence records a heartbeat for tools that keep no websocket
// open; the console beats over its websocket.
func (s *Server) handlePresence() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		var in presenceRequest
		if !decode(w, r, &in) {
			return
		}
		if err := s.queue.Heartbeat(r.Context(), sess.agent.ID, in.Presence); err != nil {
			s.fail(w, err, "set presence", sess, "")
			return
		}
		httperr.WriteJSON(w, http.StatusOK, presenceRequest{Presence: s.queue.Presence(sess.agent.ID)})
	})
}

type cannedView struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

func (s *Server) handleCanned() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		out := make([]cannedView, len(s.opts.Canned))
		for i, c := range s.opts.Canned {
			out[i] = cannedView{Title: c.Title, Text: c.Text}
		}
		httperr.WriteJSON(w, http.StatusOK, map[string][]cannedView{"canned": out})
	})
}

type dashboardResponse struct {
	QueueLength        int           `json:"queue_length"`
	Escalated          int           `json:"escalated"` // second-tier tickets waiting
	LongestWaitSeconds int64         `json:"longest_wait_seconds"`
	SLABreaches        int           `json:"sla_breaches"` // open tickets that waited past their SLA
	Assigned           int           `json:"assigned"`
	AgentsOnline       int           `json:"agents_online"`
	AgentsAway         int           `json:"agents_away"`
	Agents             []agentStatus `json:"agents"`
}

// handleDashboard gives supervisors the state of the floor.
func (s *Server) handleDashboard() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !handoff.CanSupervise(sess.agent) {
			writeError(w, http.StatusForbidden, "the dashboard is for supervisors and admins")
			return
		}
		list, open, err := s.statuses(r.Context())
		if err != nil {
			s.fail(w, err, "build the dashboard", sess, "")
			return
		}
		now := time.Now()
		out := dashboardResponse{Agents: list}
		for _, t := range open {
			if t.SLABreached {
				out.SLABreaches++
			}
			if !t.Waiting() {
				out.Assigned++
				continue
			}
			out.QueueLength++
			if t.Tier > 1 {
				out.Escalated++
			}
			out.LongestWaitSeconds = max(out.LongestWaitSeconds, int64(now.Sub(t.QueuedAt)/time.Second))
		}
		for _, a := range list {
			switch a.Presence {
			case handoff.PresenceOnline:
				out.AgentsOnline++
			case handoff.PresenceAway:
				out.AgentsAway++
			}
		}
		httperr.WriteJSON(w, http.StatusOK, out)
	})
}
