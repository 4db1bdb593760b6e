package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
	"github.com/frontdesk/frontdesk/kb"
)

// ---- Agents' acts on conversations ------------------------------------------

func (s *Server) handleClaim() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		conv, ok := s.conversation(w, r)
		if !ok {
			return
		}
		t, err := s.queue.Claim(r.Context(), conv.ID, sess.agent.ID)
		if errors.Is(err, handoff.ErrNotFound) {
			writeError(w, http.StatusConflict, "the conversation is not waiting for an agent")
			return
		}
		if err != nil {
			s.fail(w, err, "claim", sess, conv.ID)
			return
		}
		s.opts.Log.Info("conversation claimed", "conversation", conv.ID, "agent", sess.agent.ID)
		httperr.WriteJSON(w, http.StatusOK, s.viewTicket(r.Context(), &t, sess.agent, s.names(r.Context()), time.Now()))
	})
}

type messageRequest struct {
	Text     string `json:"text"`
	Internal bool   `json:"internal"`
	// ArticleID names the knowledge-base article the reply sends; with no
	// text, the article's body is the text.
	ArticleID string `json:"article_id"`
}

// handleMessage stores an agent's reply or private note. Only the agent
// who owns the conversation replies; anyone who may read it may add a
// note, which the customer never sees.
func (s *Server) handleMessage() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		var in messageRequest
		if !decode(w, r, &in) {
			return
		}
		conv, t, ok := s.readable(w, r, sess)
		if !ok {
			return
		}
		if in.ArticleID != "" {
			var a *kb.Article
			if s.kb != nil {
				a, ok = s.kb.Article(in.ArticleID)
			}
			if a == nil || !ok {
				writeError(w, http.StatusBadRequest, "no article with that id")
				return
			}
			if strings.TrimSpace(in.Text) == "" {
				in.Text = a.Body
			}
		}
		in.Text = strings.TrimSpace(in.Text)
		switch {
		case in.Text == "":
			writeError(w, http.StatusBadRequest, "the message is empty")
			return
		case len(in.Text) > bot.MaxTextLen:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("the message is longer than %d bytes", bot.MaxTextLen))
			return
		case !utf8.ValidString(in.Text):
			writeError(w, http.StatusBadRequest, "the message is not valid UTF-8")
			return
		}
		ctx := r.Context()
		if !in.Internal && (t == nil || !t.Open() || t.Agent != sess.agent.ID) {
			writeError(w, http.StatusForbidden, "only the agent who has the conversation can reply; claim it first")
			return
		}
		if !in.Internal && t.Offered {
			// Answering a conversation routing offered accepts it: the
			// customer is told the agent joined, then reads the reply.
			if _, err := s.queue.Claim(ctx, conv.ID, sess.agent.ID); err != nil {
				s.fail(w, err, "accept the conversation", sess, conv.ID)
				return
			}
		}
		// One act: the message, and the ticket's first reply.
		m, err := s.queue.Reply(ctx, bot.AgentMessage{ConversationID: conv.ID, AgentID: sess.agent.ID, AgentName: sess.agent.Name, Text: in.Text, Internal: in.Internal, ArticleID: in.ArticleID})
		if err != nil {
			s.fail(w, err, "send the message", sess, conv.ID)
			return
		}
		s.opts.Log.Info("agent message", "conversation", conv.ID, "agent", sess.agent.ID, "internal", in.Internal, "article", in.ArticleID)
		httperr.WriteJSON(w, http.StatusCreated, viewMessage(&m))
	})
}

type transferRequest struct {
	AgentID string `json:"agent_id"`
	Team    string `json:"team"`
}

func (s *Server) handleTransfer() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		var in transferRequest
		if !decode(w, r, &in) {
			return
		}
		ctx := r.Context()
		in.AgentID, in.Team = strings.TrimSpace(in.AgentID), strings.TrimSpace(in.Team)
		if (in.AgentID == "") == (in.Team == "") {
			writeError(w, http.StatusBadRequest, `name either an "agent_id" or a "team"`)
			return
		}
		conv, ok := s.conversation(w, r)
		if !ok {
			return
		}
		if in.AgentID != "" {
			if _, err := s.agents.Agent(ctx, in.AgentID); errors.Is(err, handoff.ErrNotFound) {
				writeError(w, http.StatusBadRequest, "no agent with that id")
				return
			}
		} else if !slices.Contains(s.teams(ctx), in.Team) {
			writeError(w, http.StatusBadRequest, "no team with that name")
			return
		}
		t, err := s.queue.Transfer(ctx, conv.ID, sess.agent.ID, handoff.Target{Agent: in.AgentID, Team: in.Team})
		if err != nil {
			s.fail(w, err, "transfer", sess, conv.ID)
			return
		}
		httperr.WriteJSON(w, http.StatusOK, s.viewTicket(ctx, &t, sess.agent, s.names(ctx), time.Now()))
	})
}

// teams returns the known teams: the configured ones and those agents
// belong to, sorted.
func (s *Server) teams(ctx context.Context) []string {
	out := slices.Clone(s.opts.Teams)
	if list, err := s.agents.List(ctx); err == nil {
		for _, a := range list {
			out = append(out, a.Teams...)
		}
	}
	slices.Sort(out)
	return nonNil(slices.Compact(out))
}

// handleTicketAction runs one of the queue's moves on the conversation
// of the path and answers with the ticket; after, if set, runs once the
// move succeeded.
func (s *Server) handleTicketAction(what string, move func(ctx context.Context, conversationID, by string) (handoff.Ticket, error), after func(ctx context.Context, conversationID string) error) http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		conv, ok := s.conversation(w, r)
		if !ok {
			return
		}
		ctx := r.Context()
		t, err := move(ctx, conv.ID, sess.agent.ID)
		if err != nil {
			s.fail(w, err, what, sess, conv.ID)
			return
		}
		if after != nil {
			if err := after(ctx, conv.ID); err != nil {
				// The move is stored; only the follow-up failed.
				s.opts.Log.Error(what+": follow-up", "conversation", conv.ID, "err", err)
			}
		}
		httperr.WriteJSON(w, http.StatusOK, s.viewTicket(ctx, &t, sess.agent, s.names(ctx), time.Now()))
	})
}

func (s *Server) handleEscalate() http.Handler {
	return s.handleTicketAction("escalate", s.queue.Escalate, nil)
}

// handleResolve closes the ticket and gives the conversation back to the
// bot, which asks the customer for a rating (in the same act).
func (s *Server) handleResolve() http.Handler {
	return s.handleTicketAction("resolve", s.queue.Resolve, nil)
}

func (s *Server) handleReturnToBot() http.Handler {
	return s.handleTicketAction("return to bot", s.queue.ReturnToBot, nil)
}
