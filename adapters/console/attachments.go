package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// attachmentRequest is an agent's file, sent as JSON (so that the
// console's CSRF rule, JSON only, holds for uploads too): the file's
// bytes in base64, its name, and an optional text sent with it.
type attachmentRequest struct {
	Name string `json:"name"`
	Data []byte `json:"data"` // base64 in the JSON
	Text string `json:"text"`
}

// handleSendAttachment sends a file to the customer from the agent who
// owns the conversation: the file is kept (type and size checked), then
// sent as the agent's reply, in one act with the ticket's first reply.
func (s *Server) handleSendAttachment() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		files := s.opts.Attachments
		if files == nil {
			writeError(w, http.StatusServiceUnavailable, "attachments are not enabled")
			return
		}
		var in attachmentRequest
		// Base64 takes 4 bytes for 3, plus the JSON around it.
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, files.MaxSize()*4/3+maxBody))
		if err := dec.Decode(&in); err != nil {
			if strings.Contains(err.Error(), "too large") {
				writeError(w, http.StatusRequestEntityTooLarge, bot.ErrorMessage(files.TooLarge()))
				return
			}
			writeError(w, http.StatusBadRequest, "request body is not the expected JSON object")
			return
		}
		conv, t, ok := s.readable(w, r, sess)
		if !ok {
			return
		}
		if t == nil || !t.Open() || t.Agent != sess.agent.ID {
			writeError(w, http.StatusForbidden, "only the agent who has the conversation can reply; claim it first")
			return
		}
		text := strings.TrimSpace(in.Text)
		if len(text) > bot.MaxTextLen {
			writeError(w, http.StatusBadRequest, "the message is too long")
			return
		}
		att, err := files.Save(conv.ID, in.Name, bytes.NewReader(in.Data))
		if err != nil {
			if bot.ErrorCode(err) == bot.CodeInvalid {
				writeError(w, http.StatusBadRequest, bot.ErrorMessage(err))
				return
			}
			s.fail(w, err, "keep the file", sess, conv.ID)
			return
		}
		m, err := s.queue.Reply(r.Context(), bot.AgentMessage{ConversationID: conv.ID, AgentID: sess.agent.ID, AgentName: sess.agent.Name, Text: text, Attachment: &att})
		if err != nil {
			s.fail(w, err, "send the file", sess, conv.ID)
			return
		}
		s.opts.Log.Info("agent attachment", "conversation", conv.ID, "agent", sess.agent.ID, "type", att.Type, "size", att.Size)
		httperr.WriteJSON(w, http.StatusCreated, viewMessage(&m))
	})
}

// handleAttachment serves a file of a conversation to an agent who may
// read the conversation.
func (s *Server) handleAttachment() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		files := s.opts.Attachments
		if files == nil {
			http.NotFound(w, r)
			return
		}
		conv, _, ok := s.readable(w, r, sess)
		if !ok {
			return
		}
		id := r.PathValue("attachment")
		ms, err := s.engine.Transcript(r.Context(), conv.ID, 0)
		if err != nil {
			s.fail(w, err, "load the messages", sess, conv.ID)
			return
		}
		for _, m := range ms {
			if m.Attachment != nil && m.Attachment.ID == id {
				files.Serve(w, r, conv.ID, id, m.Attachment.Name)
				return
			}
		}
		writeError(w, http.StatusNotFound, "no such attachment in this conversation")
	})
}
