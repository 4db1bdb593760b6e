package console

import (
	"errors"
	"net/http"

	"github.com/frontdesk/frontdesk/handoff"
)

// Admin endpoints: managing agent accounts while Frontdesk runs (the
// frontdesk agent command needs the server stopped, as it opens the
// database file).
//
//	POST /api/agent/agents                 create an agent (admins)
//	POST /api/agent/agents/{id}/disable    disable, ending its sessions (admins)
//	POST /api/agent/agents/{id}/enable     enable again (admins)
//	POST /api/agent/agents/{id}/password   set a new password (admins, or the agent itself with its current one)

type newAgentRequest struct {
	Name     string   `json:"name"`
	Email    string   `json:"email"`
	Role     string   `json:"role"`
	Teams    []string `json:"teams"`
	MaxChats int      `json:"max_chats"`
	Password string   `json:"password"`
}

// handleAddAgent creates an agent: 201 with the agent, 400 for invalid
// input, 409 when the email is taken, 403 for anyone but an admin.
func (s *Server) handleAddAgent() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !handoff.CanManageAgents(sess.agent) {
			writeError(w, http.StatusForbidden, "only admins manage agents")
			return
		}
		var in newAgentRequest
		if !decode(w, r, &in) {
			return
		}
		if in.Role == "" {
			in.Role = string(handoff.RoleAgent)
		}
		a, err := s.agents.Add(r.Context(), handoff.NewAgent{Name: in.Name, Email: in.Email, Role: handoff.Role(in.Role),
			Teams: in.Teams, MaxChats: in.MaxChats, Password: in.Password})
		switch {
		case errors.Is(err, handoff.ErrEmailTaken):
			writeError(w, http.StatusConflict, "another agent has that email address")
			return
		case err != nil:
			s.fail(w, err, "add the agent", sess, "")
			return
		}
		s.opts.Log.Info("agent added", "agent", a.ID, "by", sess.agent.ID, "role", a.Role)
		writeJSON(w, http.StatusCreated, viewAgent(a))
	})
}

// handleAgentStatus disables or enables an agent (admins only; an admin
// cannot disable their own account, so that one admin always remains).
func (s *Server) handleAgentStatus(disable bool) http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !handoff.CanManageAgents(sess.agent) {
			writeError(w, http.StatusForbidden, "only admins manage agents")
			return
		}
		id := r.PathValue("id")
		if disable && id == sess.agent.ID {
			writeError(w, http.StatusBadRequest, "you cannot disable your own account")
			return
		}
		if _, err := s.agents.Agent(r.Context(), id); errors.Is(err, handoff.ErrNotFound) {
			writeError(w, http.StatusNotFound, "no agent with that id")
			return
		}
		var err error
		if disable {
			err = s.agents.Disable(r.Context(), id)
		} else {
			err = s.agents.Enable(r.Context(), id)
		}
		if err != nil {
			s.fail(w, err, "change the agent", sess, "")
			return
		}
		if disable {
			s.closeAgent(id)
		}
		a, err := s.agents.Agent(r.Context(), id)
		if err != nil {
			s.fail(w, err, "load the agent", sess, "")
			return
		}
		s.opts.Log.Info("agent status changed", "agent", id, "by", sess.agent.ID, "disabled", a.Disabled)
		writeJSON(w, http.StatusOK, agentStatus{agentView: viewAgent(a), Presence: s.queue.Presence(id), Disabled: a.Disabled})
	})
}

// handleAgentPassword sets a new password: an admin for anyone, an agent
// for itself, giving its current password (so that a stolen session
// cannot take the account over; admins resetting another agent's
// password need not know it). The agent's sessions end, the caller's own
// included.
func (s *Server) handleAgentPassword() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		id := r.PathValue("id")
		own := id == sess.agent.ID
		if !own && !handoff.CanManageAgents(sess.agent) {
			writeError(w, http.StatusForbidden, "only admins set other agents' passwords")
			return
		}
		var in struct {
			Password        string `json:"password"`
			CurrentPassword string `json:"current_password"`
		}
		if !decode(w, r, &in) {
			return
		}
		if _, err := s.agents.Agent(r.Context(), id); errors.Is(err, handoff.ErrNotFound) {
			writeError(w, http.StatusNotFound, "no agent with that id")
			return
		}
		var err error
		switch {
		case own && in.CurrentPassword == "":
			writeError(w, http.StatusBadRequest, `give your current password as "current_password"`)
			return
		case own:
			err = s.agents.ChangePassword(r.Context(), id, in.CurrentPassword, in.Password, clientAddr(r))
		default:
			err = s.agents.SetPassword(r.Context(), id, in.Password)
		}
		switch {
		case errors.Is(err, handoff.ErrBadCredentials):
			writeError(w, http.StatusForbidden, "the current password is wrong")
			return
		case errors.Is(err, handoff.ErrRateLimited):
			writeError(w, http.StatusTooManyRequests, "too many wrong passwords; wait a few minutes and try again")
			return
		case errors.Is(err, handoff.ErrBusy):
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "too many password checks at once; try again in a moment")
			return
		case err != nil:
			s.fail(w, err, "set the password", sess, "")
			return
		}
		s.closeAgent(id)
		s.opts.Log.Info("agent password changed", "agent", id, "by", sess.agent.ID)
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
}
