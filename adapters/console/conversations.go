package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// ---- Queue and conversations -----------------------------------------------

type queueResponse struct {
	// Tickets wait for an agent, in queue order.
	Tickets []*ticketView `json:"tickets"`
	// Mine are the requesting agent's conversations.
	Mine []*ticketView `json:"mine"`
	// Assigned, for supervisors only, are the other agents'.
	Assigned []*ticketView `json:"assigned,omitempty"`
}

// inQueueOf reports whether agent a is shown ticket t, customer and all,
// in the queue: everyone sees the tickets waiting for a person and their
// own; only supervisors and admins see the tickets other agents have.
// GET /api/agent/queue lists by it, and the agent websocket's queue
// events leave the customer out of the tickets it rules out.
func inQueueOf(a *handoff.Agent, t *handoff.Ticket) bool {
	return t.Waiting() || t.Agent == a.ID || handoff.CanSupervise(a)
}

func (s *Server) handleQueue() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		ctx := r.Context()
		open, err := s.queue.Tickets(ctx, handoff.Filter{})
		if err != nil {
			s.fail(w, err, "list the queue", sess, "")
			return
		}
		names, now := s.names(ctx), time.Now()
		out := queueResponse{Tickets: []*ticketView{}, Mine: []*ticketView{}}
		if handoff.CanSupervise(sess.agent) {
			out.Assigned = []*ticketView{}
		}
		for i := range open {
			t := &open[i]
			if !inQueueOf(sess.agent, t) {
				continue
			}
			v := s.viewTicket(ctx, t, sess.agent, names, now)
			switch {
			case t.Waiting():
				out.Tickets = append(out.Tickets, v)
			case t.Agent == sess.agent.ID:
				out.Mine = append(out.Mine, v)
			default:
				out.Assigned = append(out.Assigned, v)
			}
		}
		httperr.WriteJSON(w, http.StatusOK, out)
	})
}

type conversationResponse struct {
	Conversation      conversationView   `json:"conversation"`
	Ticket            *ticketView        `json:"ticket"`
	Customer          *customerView      `json:"customer"`
	PastConversations []pastConversation `json:"past_conversations"`
	Messages          []messageView      `json:"messages"`
	Suggestions       []suggestionView   `json:"suggestions"`
	// SuggestionsQuery is the customer message the suggestions are for.
	SuggestionsQuery string `json:"suggestions_query"`
}

// pastShown is how many past conversations, and how many of the last
// messages of each, a conversation's view includes.
const (
	pastShown         = 10
	pastMessagesShown = 3
)

func (s *Server) handleConversation() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		conv, t, ok := s.readable(w, r, sess)
		if !ok {
			return
		}
		ctx, st := r.Context(), s.engine
		msgs, err := st.Transcript(ctx, conv.ID, 0)
		if err != nil {
			s.fail(w, err, "load the messages", sess, conv.ID)
			return
		}
		names := s.names(ctx)
		out := conversationResponse{
			Conversation: conversationView{Conversation: conv, AgentName: names[conv.Agent]},
			Ticket:       s.viewTicket(ctx, t, sess.agent, names, time.Now()),
			Messages:     viewMessages(msgs),
		}
		cust, err := st.Customer(ctx, conv.CustomerID)
		switch {
		case err == nil:
			out.Customer = viewCustomer(cust, names)
		case !errors.Is(err, bot.ErrNotFound):
			s.fail(w, err, "load the customer", sess, conv.ID)
			return
		}
		if out.PastConversations, err = s.past(ctx, conv); err != nil {
			s.fail(w, err, "load past conversations", sess, conv.ID)
			return
		}
		out.SuggestionsQuery, out.Suggestions = s.suggest(ctx, msgs)
		httperr.WriteJSON(w, http.StatusOK, out)
	})
}

// past returns the customer's other conversations, newest first, each
// with its last few messages.
func (s *Server) past(ctx context.Context, conv *bot.Conversation) ([]pastConversation, error) {
	st := s.engine
	convs, err := st.Conversations(ctx, conv.CustomerID)
	if err != nil {
		return nil, err
	}
	out := []pastConversation{}
	for _, c := range convs {
		if c.ID == conv.ID {
			continue
		}
		if len(out) == pastShown {
			break
		}
		ms, err := st.Transcript(ctx, c.ID, max(c.LastSeq-pastMessagesShown, 0))
		if err != nil {
			return nil, err
		}
		out = append(out, pastConversation{ID: c.ID, Channel: c.Channel, State: c.State, Created: c.Created, Updated: c.Updated,
			MessageCount: c.LastSeq, HandoffReason: c.HandoffReason, Rating: c.Rating, RatingComment: c.RatingComment, LastMessages: viewMessages(ms)})
	}
	return out, nil
}
