package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// Admin endpoints: managing agent accounts and the data while Frontdesk
// runs (the frontdesk agent, customer and backup commands need the server
// stopped to open the database file themselves).
//
//	POST /api/agent/agents                 create an agent (admins)
//	POST /api/agent/agents/{id}/disable    disable, ending its sessions (admins)
//	POST /api/agent/agents/{id}/enable     enable again (admins)
//	POST /api/agent/agents/{id}/password   set a new password (admins, or the agent itself with its current one)
//	GET  /api/agent/admin/backup           a consistent copy of the database file (admins)
//	GET  /api/agent/admin/customers/{id}/export   everything kept about a customer (admins)
//	POST /api/agent/admin/customers/{id}/forget   erase a customer for good (admins)

// Records is what the data endpoints need of the database.
type Records interface {
	// Backup writes a consistent copy of the database file to w and
	// returns how many bytes it wrote.
	Backup(ctx context.Context, w io.Writer) (int64, error)
	// ExportCustomer writes everything kept about the customer as JSON to
	// w; it writes nothing and returns bot.ErrNotFound for an unknown id.
	ExportCustomer(ctx context.Context, id string, w io.Writer) error
	// ForgetCustomer erases the customer for good and returns what it
	// erased: bot.ErrNotFound for an unknown id, bot.ErrInHandoff while
	// people have one of the conversations. An error with something
	// erased means the erasure stands but a later step (scrubbing the
	// file) failed.
	ForgetCustomer(ctx context.Context, id string) (bot.Erased, error)
}

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
		httperr.WriteJSON(w, http.StatusCreated, viewAgent(a))
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
		httperr.WriteJSON(w, http.StatusOK, agentStatus{agentView: viewAgent(a), Presence: s.queue.Presence(id), Disabled: a.Disabled})
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
		httperr.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
}

// dataAdmin runs h for an admin when the server has Records: 403 for
// anyone else, 503 without Records.
func (s *Server) dataAdmin(h agentHandler) http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !handoff.CanManageData(sess.agent) {
			writeError(w, http.StatusForbidden, "only admins take backups and export or erase customers")
			return
		}
		if s.opts.Records == nil {
			writeError(w, http.StatusServiceUnavailable, "this server does not offer backups or customer data")
			return
		}
		h(w, r, sess)
	})
}

// handleBackup streams a consistent copy of the database file. A failure
// before anything was sent is a JSON error; after, the response is cut
// off (no final chunk), so that no client takes a partial copy for whole.
func (s *Server) handleBackup() http.Handler {
	return s.dataAdmin(func(w http.ResponseWriter, r *http.Request, sess *session) {
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="frontdesk-`+time.Now().UTC().Format("20060102T150405Z")+`.db"`)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		// A big file to a slow client may outlast the server's write
		// timeout, which is meant for ordinary responses.
		http.NewResponseController(w).SetWriteDeadline(time.Time{})
		start := time.Now()
		n, err := s.opts.Records.Backup(r.Context(), w)
		if err != nil {
			s.opts.Log.Error("backup", "agent", sess.agent.ID, "bytes", n, "err", err)
			if n > 0 {
				panic(http.ErrAbortHandler)
			}
			h.Del("Content-Disposition")
			writeError(w, http.StatusInternalServerError, "could not take the backup; see the server log")
			return
		}
		s.opts.Log.Info("backup taken", "agent", sess.agent.ID, "bytes", n, "seconds", time.Since(start).Seconds())
	})
}

// safeID is what an id must look like to go into a file name.
var safeID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// handleExportCustomer answers with everything kept about the customer,
// as a JSON file to download.
func (s *Server) handleExportCustomer() http.Handler {
	return s.dataAdmin(func(w http.ResponseWriter, r *http.Request, sess *session) {
		id := r.PathValue("id")
		var buf bytes.Buffer
		err := s.opts.Records.ExportCustomer(r.Context(), id, &buf)
		switch {
		case errors.Is(err, bot.ErrNotFound):
			writeError(w, http.StatusNotFound, "no customer with that id")
			return
		case err != nil:
			s.fail(w, err, "export the customer", sess, "")
			return
		}
		name := "customer.json"
		if safeID.MatchString(id) {
			name = "customer-" + id + ".json"
		}
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(buf.Bytes())
		s.opts.Log.Info("customer exported", "customer", id, "agent", sess.agent.ID)
	})
}

type forgetResponse struct {
	CustomerID string `json:"customer_id"`
	bot.Erased
}

// handleForgetCustomer erases a customer for good (see Records).
func (s *Server) handleForgetCustomer() http.Handler {
	return s.dataAdmin(func(w http.ResponseWriter, r *http.Request, sess *session) {
		id := r.PathValue("id")
		start := time.Now()
		erased, err := s.opts.Records.ForgetCustomer(r.Context(), id)
		switch {
		case errors.Is(err, bot.ErrNotFound):
			writeError(w, http.StatusNotFound, "no customer with that id")
			return
		case errors.Is(err, bot.ErrInHandoff):
			writeError(w, http.StatusConflict, "a conversation of the customer is with people: resolve it or return it to the bot first")
			return
		case err != nil && erased.Customers > 0:
			s.opts.Log.Error("forget customer: scrub the file", "customer", id, "agent", sess.agent.ID, "err", err)
			writeError(w, http.StatusInternalServerError, "the customer is erased, but their old text may remain in free space of the database file until the server restarts (see the server log)")
			return
		case err != nil:
			s.fail(w, err, "erase the customer", sess, "")
			return
		}
		s.opts.Log.Info("customer forgotten", "customer", id, "agent", sess.agent.ID,
			"conversations", erased.Conversations, "messages", erased.Messages, "seconds", time.Since(start).Seconds())
		httperr.WriteJSON(w, http.StatusOK, forgetResponse{CustomerID: id, Erased: erased})
	})
}
