package console

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// ---- Requests and errors ---------------------------------------------------

// maxBody bounds a request body: a message is at most bot.MaxTextLen
// bytes, which JSON escaping may make up to six times longer.
const maxBody = 64 << 10

// decode reads the JSON body into v; an empty body leaves v as is. It
// answers 400 and returns false when the body is not JSON.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "request body too large or unreadable")
		return false
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return true
	}
	if err := json.Unmarshal(data, v); err != nil {
		writeError(w, http.StatusBadRequest, "request body is not the expected JSON object")
		return false
	}
	return true
}

// writeError answers with an error body: the message for a person under
// "error" (the agent API's original form) and "message", and the code a
// program branches on under "code" (see httperr.CodeOf).
func writeError(w http.ResponseWriter, status int, msg string) {
	httperr.WriteJSON(w, status, httperr.NewBody(httperr.CodeOf(status), msg))
}

// fail answers for an error of the queue or the engine while doing what
// (e.g. "claim"): handoff's sentinel errors become 403, 409 and 400, and
// anything unexpected a logged 500. The conversation is known to exist,
// so a missing ticket means it is not waiting for or with a person.
func (s *Server) fail(w http.ResponseWriter, err error, what string, sess *session, conversationID string) {
	code := bot.ErrorCode(err)
	switch {
	case code == bot.CodeNotFound:
		// The conversation is known to exist: what is missing is a ticket.
		writeError(w, http.StatusConflict, "the conversation is not handed off to people (no open ticket)")
		return
	case code == bot.CodeInternal:
		s.opts.Log.Error(what, "conversation", conversationID, "agent", sess.agent.ID, "err", err)
		writeError(w, http.StatusInternalServerError, "could not "+what+"; try again")
		return
	case errors.Is(err, handoff.ErrInvalid):
		// The wrapping says which argument.
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeError(w, httperr.StatusOf(code), bot.ErrorMessage(err))
}

// conversation loads the {id} of the path, answering 404 (or 500) when
// there is none.
func (s *Server) conversation(w http.ResponseWriter, r *http.Request) (*bot.Conversation, bool) {
	id := r.PathValue("id")
	c, err := s.engine.Conversation(r.Context(), id)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		writeError(w, http.StatusNotFound, "no conversation with that id")
		return nil, false
	case err != nil:
		s.opts.Log.Error("load conversation", "conversation", id, "err", err)
		writeError(w, http.StatusInternalServerError, "could not load the conversation")
		return nil, false
	}
	return c, true
}

// ticket returns the conversation's open ticket, or its latest closed
// one, or nil if it was never handed off.
func (s *Server) ticket(ctx context.Context, conversationID string) (*handoff.Ticket, error) {
	t, err := s.queue.Ticket(ctx, conversationID)
	if errors.Is(err, handoff.ErrNotFound) {
		return nil, nil
	}
	return t, err
}

// canRead reports whether agent a may read the conversation, whose
// ticket is t (nil if never handed off). Supervisors and admins read
// everything. An agent reads a conversation waiting in the queue (to
// decide to claim it), one it owns, and the past conversations of a
// customer it is looking after now, but never a conversation another
// agent has.
func (s *Server) canRead(ctx context.Context, a *handoff.Agent, conv *bot.Conversation, t *handoff.Ticket) (bool, error) {
	sit := handoff.Situation{Conversation: conv, Ticket: t}
	if handoff.May(a, handoff.AccessRead, sit) {
		return true, nil
	}
	var err error
	if sit.HasCustomer, err = s.helps(ctx, a, conv.CustomerID); err != nil {
		return false, err
	}
	return handoff.May(a, handoff.AccessRead, sit), nil
}

// helps reports whether the agent has one of the customer's
// conversations assigned.
func (s *Server) helps(ctx context.Context, a *handoff.Agent, customerID string) (bool, error) {
	mine, err := s.queue.Tickets(ctx, handoff.Filter{Agent: a.ID, Status: handoff.StatusAssigned})
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(mine, func(m handoff.Ticket) bool { return m.CustomerID == customerID }), nil
}

// readable loads the conversation of the path and checks that the agent
// may read it, answering 404 or 403 otherwise.
func (s *Server) readable(w http.ResponseWriter, r *http.Request, sess *session) (*bot.Conversation, *handoff.Ticket, bool) {
	conv, ok := s.conversation(w, r)
	if !ok {
		return nil, nil, false
	}
	t, err := s.ticket(r.Context(), conv.ID)
	if err != nil {
		s.fail(w, err, "load the ticket", sess, conv.ID)
		return nil, nil, false
	}
	ok, err = s.canRead(r.Context(), sess.agent, conv, t)
	switch {
	case err != nil:
		s.fail(w, err, "check access", sess, conv.ID)
		return nil, nil, false
	case !ok:
		writeError(w, http.StatusForbidden, "you may not see this conversation")
		return nil, nil, false
	}
	return conv, t, true
}
