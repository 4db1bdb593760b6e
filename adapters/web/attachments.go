package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/origin"
)

// Customers finds a visitor's customer, to check that an attachment is
// theirs; *bot.Engine implements it.
type Customers interface {
	CustomerByIdentity(ctx context.Context, id bot.Identity) (*bot.Customer, error)
}

// handleUpload receives a file from a visitor (docs/protocol.md,
// "Attachments"): a multipart form with the visitor's token, the
// conversation, the client id of the message and the file. The file is
// kept, then sent as the customer's message, which reaches the widget as
// any message does; the answer is the message's ack as JSON.
func (s *Server) handleUpload() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.cors(w, r)
		files := s.opts.Attachments
		if files == nil {
			uploadError(w, http.StatusServiceUnavailable, bot.CodeUnavailable, "attachments are not enabled")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, files.MaxSize()+64<<10)
		f, hdr, err := r.FormFile("file")
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				uploadError(w, http.StatusRequestEntityTooLarge, bot.CodeInvalid, bot.ErrorMessage(files.TooLarge()))
				return
			}
			uploadError(w, http.StatusBadRequest, bot.CodeInvalid, "send the file as the multipart field \"file\"")
			return
		}
		defer f.Close()
		ctx := r.Context()
		conv, ok := s.visitorConversation(w, r, r.FormValue("token"), r.FormValue("conversation_id"))
		if !ok {
			return
		}
		v := s.limits.visitor(conv.CustomerID)
		defer s.limits.releaseVisitor(v)
		a := s.limits.address(s.clientAddr(r))
		defer s.limits.releaseAddress(a)
		if !s.limits.allowMessage(v, a) {
			s.opts.Observer.Refused(string(bot.Web), "rate_limited")
			uploadError(w, http.StatusTooManyRequests, bot.CodeRateLimited, "you are sending too fast; please wait a moment")
			return
		}
		att, err := files.Save(conv.ID, hdr.Filename, f)
		if err != nil {
			uploadError(w, status(err), bot.ErrorCode(err), bot.ErrorMessage(err))
			return
		}
		text := strings.TrimSpace(r.FormValue("text"))
		if len([]rune(text)) > s.opts.MaxText {
			text = string([]rune(text)[:s.opts.MaxText])
		}
		m, err := s.engine.Handle(ctx, bot.Inbound{ConversationID: conv.ID, ClientID: truncate(r.FormValue("id"), 100), Text: text, Attachment: &att})
		if err != nil && m.Seq == 0 {
			s.opts.Log.Error("attachment message", "conversation", conv.ID, "err", err)
			uploadError(w, status(err), bot.ErrorCode(err), bot.ErrorMessage(err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(ackFrame{Type: "ack", ID: m.ClientID, Seq: m.Seq})
	})
}

// handleDownload serves an attachment of the visitor's conversation to
// the visitor, who proves it with their token (Authorization: Bearer).
func (s *Server) handleDownload() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.cors(w, r)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		files := s.opts.Attachments
		if files == nil {
			http.NotFound(w, r)
			return
		}
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		conv, ok := s.visitorConversation(w, r, token, r.PathValue("conversation"))
		if !ok {
			return
		}
		id := r.PathValue("id")
		name := ""
		if m, ok := s.attachmentMessage(r.Context(), conv.ID, id); ok {
			name = m.Attachment.Name
		} else {
			http.NotFound(w, r)
			return
		}
		files.Serve(w, r, conv.ID, id, name)
	})
}

// attachmentMessage finds the customer-visible message of the
// conversation that carries the attachment: one the customer may see (a
// private note's file is not theirs to fetch).
func (s *Server) attachmentMessage(ctx context.Context, convID, id string) (bot.Message, bool) {
	var after int64
	for {
		ms, next, err := s.engine.MessagePage(ctx, convID, after, historyPage)
		if err != nil || next == after {
			return bot.Message{}, false
		}
		for _, m := range ms {
			if m.Attachment != nil && m.Attachment.ID == id {
				return m, true
			}
		}
		after = next
	}
}

// visitorConversation checks that the token is a known visitor's and the
// conversation theirs, answering 401/404 itself when not.
func (s *Server) visitorConversation(w http.ResponseWriter, r *http.Request, token, convID string) (*bot.Conversation, bool) {
	cs, ok := s.engine.(Customers)
	if len(token) != tokenLen || !isHex(token) || !ok {
		uploadError(w, http.StatusUnauthorized, bot.CodeUnauthorized, "unknown visitor")
		return nil, false
	}
	cust, err := cs.CustomerByIdentity(r.Context(), visitorIdentity(token))
	if err != nil {
		uploadError(w, http.StatusUnauthorized, bot.CodeUnauthorized, "send a message before a file")
		return nil, false
	}
	conv, err := s.engine.Conversation(r.Context(), convID)
	if err != nil || conv.CustomerID != cust.ID {
		uploadError(w, http.StatusNotFound, bot.CodeNotFound, "unknown conversation")
		return nil, false
	}
	return conv, true
}

// cors lets the sites allowed to open the websocket (see checkOrigin)
// upload and fetch attachments from their pages.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) {
	o := r.Header.Get("Origin")
	if o == "" || !origin.Allowed(r, s.opts.AllowedOrigins) {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Allow-Headers", "Authorization")
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Add("Vary", "Origin")
}

func status(err error) int {
	switch bot.ErrorCode(err) {
	case bot.CodeInvalid:
		return http.StatusBadRequest
	case bot.CodeUnauthorized:
		return http.StatusUnauthorized
	case bot.CodeForbidden:
		return http.StatusForbidden
	case bot.CodeNotFound:
		return http.StatusNotFound
	case bot.CodeConflict:
		return http.StatusConflict
	case bot.CodeRateLimited:
		return http.StatusTooManyRequests
	case bot.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func uploadError(w http.ResponseWriter, code int, c bot.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(errorFrame{Type: "error", Code: string(c), Message: msg})
}
