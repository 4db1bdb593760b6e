package console

import (
	"context"
	"net/http"

	"github.com/frontdesk/frontdesk/bot"
)

// reader records read marks; *bot.Engine implements it.
type reader interface {
	MarkRead(ctx context.Context, conversationID string, from bot.Sender, seq int64) error
}

type readRequest struct {
	Seq int64 `json:"seq"`
}

// readFrame tells a console how far the customer has seen a
// conversation (read receipts).
type readFrame struct {
	Type           string     `json:"type"` // "read"
	ConversationID string     `json:"conversation_id"`
	From           bot.Sender `json:"from"`
	Seq            int64      `json:"seq"`
}

// handleRead records that the agent who has the conversation has seen it
// up to seq, which the customer's widget shows as "Seen". Anyone else
// reading (a supervisor looking in) marks nothing: 204 either way.
func (s *Server) handleRead() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		var in readRequest
		if !decode(w, r, &in) {
			return
		}
		conv, t, ok := s.readable(w, r, sess)
		if !ok {
			return
		}
		rd, can := s.engine.(reader)
		if can && in.Seq > 0 && t != nil && t.Open() && t.Agent == sess.agent.ID {
			if err := rd.MarkRead(r.Context(), conv.ID, bot.FromAgent, in.Seq); err != nil {
				s.fail(w, err, "mark the conversation read", sess, conv.ID)
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
