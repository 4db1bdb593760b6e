package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// keyOf is the context key of the request's API key.
type keyOf struct{}

// authed runs h for a request presenting a key (Authorization: Bearer)
// that allows scope: 401 without a valid key, 403 for a read key asking
// to write.
func (s *Server) authed(scope bot.Scope, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		text, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeError(w, bot.NewError(bot.CodeUnauthorized, "send an API key: Authorization: Bearer fd_..."))
			return
		}
		k, err := bot.CheckAPIKey(r.Context(), s.keys, text)
		if err != nil {
			if bot.ErrorCode(err) == bot.CodeInternal {
				s.opts.Log.Error("check api key", "err", err)
			}
			writeError(w, err)
			return
		}
		if !k.Scope.Allows(scope) {
			writeError(w, bot.NewError(bot.CodeForbidden, "this API key may only read"))
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyOf{}, k)))
	})
}

// customerRequest is a PUT's body. Absent fields leave what is stored.
type customerRequest struct {
	Name       *string        `json:"name"`
	Email      *string        `json:"email"`
	Segment    *string        `json:"segment"`
	Tags       []string       `json:"tags"`
	Attributes map[string]any `json:"attributes"`
}

// customerView is a customer as the API shows it.
type customerView struct {
	ID         string            `json:"id"`
	ExternalID string            `json:"external_id"`
	Name       string            `json:"name,omitempty"`
	Email      string            `json:"email,omitempty"`
	Segment    string            `json:"segment,omitempty"`
	Tags       []string          `json:"tags"`
	Attributes map[string]string `json:"attributes"`
	Visits     int               `json:"visits"`
	FirstSeen  time.Time         `json:"first_seen"`
	LastSeen   time.Time         `json:"last_seen"`
}

func viewCustomer(c *bot.Customer) customerView {
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	return customerView{ID: c.ID, ExternalID: c.ExternalID, Name: c.Name, Email: c.Email, Segment: c.Segment, Tags: tags,
		Attributes: bot.ShopAttrs(c), Visits: c.Visits, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen}
}

// conversationView is a conversation as the API shows it.
type conversationView struct {
	ID            string        `json:"id"`
	Channel       bot.Channel   `json:"channel"`
	State         bot.State     `json:"state"`
	Created       time.Time     `json:"created"`
	Updated       time.Time     `json:"updated"`
	Messages      int64         `json:"messages"`
	Rating        int           `json:"rating,omitempty"`
	RatingComment string        `json:"rating_comment,omitempty"`
	Log           []messageView `json:"log,omitempty"`
}

type messageView struct {
	Seq   int64      `json:"seq"`
	From  bot.Sender `json:"from"`
	Text  string     `json:"text"`
	Agent string     `json:"agent,omitempty"`
	Time  time.Time  `json:"time"`
}

type ratingView struct {
	ConversationID string `json:"conversation_id"`
	Rating         int    `json:"rating"`
	Comment        string `json:"comment,omitempty"`
}

func viewConversation(c *bot.Conversation) conversationView {
	return conversationView{ID: c.ID, Channel: c.Channel, State: c.State, Created: c.Created, Updated: c.Updated,
		Messages: c.LastSeq, Rating: c.Rating, RatingComment: c.RatingComment}
}

// handlePutCustomer creates or updates the customer with the external id:
// 201 with the customer when created, 200 when it existed. Giving the
// same body again changes nothing.
func (s *Server) handlePutCustomer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ext := r.PathValue("external_id")
		if err := bot.CheckExternalID(ext); err != nil {
			writeError(w, err)
			return
		}
		var in customerRequest
		if err := decode(r, &in); err != nil {
			writeError(w, err)
			return
		}
		v := bot.Verified{ExternalID: ext, Tags: in.Tags}
		if in.Name != nil {
			v.Name = *in.Name
		}
		if in.Email != nil {
			v.Email = *in.Email
		}
		if in.Segment != nil {
			seg, err := handoff.Segment(*in.Segment)
			if err != nil {
				writeError(w, err)
				return
			}
			v.Segment = &seg
		}
		if in.Tags != nil && len(in.Tags) > 50 {
			writeError(w, bot.NewError(bot.CodeInvalid, "at most 50 tags"))
			return
		}
		if in.Attributes != nil {
			attrs, err := attributes(in.Attributes)
			if err != nil {
				writeError(w, err)
				return
			}
			v.Attributes = attrs
		}
		c, created, err := s.engine.PutVerified(r.Context(), v)
		if err != nil {
			s.fail(w, err, "put customer")
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		s.opts.Log.Info("customer put by api", "customer", c.ID, "key", key(r).ID, "created", created)
		if s.opts.OnCustomer != nil {
			s.opts.OnCustomer(c)
		}
		httperr.WriteJSON(w, status, viewCustomer(c))
	})
}

// attributes turns a JSON object of scalars into a shop's attributes: a
// string as it is, a number or true/false as JSON writes it; null drops
// the name.
func attributes(in map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		switch v := v.(type) {
		case nil:
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return nil, bot.NewError(bot.CodeInvalid, fmt.Sprintf("attribute %q: values are strings, numbers or true/false", k))
		}
	}
	if err := bot.CheckAttributes(out); err != nil {
		return nil, err
	}
	return out, nil
}

// handleGetCustomer answers the customer's profile, conversations and
// ratings.
func (s *Server) handleGetCustomer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.customer(w, r, r.PathValue("external_id"))
		if !ok {
			return
		}
		convs, err := s.engine.Conversations(r.Context(), c.ID)
		if err != nil {
			s.fail(w, err, "list conversations")
			return
		}
		out := struct {
			Customer      customerView       `json:"customer"`
			Conversations []conversationView `json:"conversations"`
			Ratings       []ratingView       `json:"ratings"`
		}{Customer: viewCustomer(c), Conversations: []conversationView{}, Ratings: []ratingView{}}
		for i := range convs {
			out.Conversations = append(out.Conversations, viewConversation(&convs[i]))
			if convs[i].Rating > 0 {
				out.Ratings = append(out.Ratings, ratingView{ConversationID: convs[i].ID, Rating: convs[i].Rating, Comment: convs[i].RatingComment})
			}
		}
		httperr.WriteJSON(w, http.StatusOK, out)
	})
}

// handleDeleteCustomer forgets the customer for good (see
// Records.ForgetCustomer): 200 with what was erased, 409 while people
// have one of the conversations.
func (s *Server) handleDeleteCustomer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.records == nil {
			writeError(w, bot.NewError(bot.CodeUnavailable, "forgetting customers is not available on this server"))
			return
		}
		c, ok := s.customer(w, r, r.PathValue("external_id"))
		if !ok {
			return
		}
		erased, err := s.records.ForgetCustomer(r.Context(), c.ID)
		if errors.Is(err, bot.ErrInHandoff) {
			writeError(w, bot.NewError(bot.CodeConflict, "a conversation of the customer is with people; resolve it first"))
			return
		}
		if err != nil && erased == (bot.Erased{}) {
			s.fail(w, err, "forget customer")
			return
		}
		if err != nil {
			s.opts.Log.Error("forget customer: scrub", "customer", c.ID, "err", err)
		}
		s.opts.Log.Info("customer forgotten by api", "customer", c.ID, "key", key(r).ID)
		httperr.WriteJSON(w, http.StatusOK, struct {
			Erased bot.Erased `json:"erased"`
		}{erased})
	})
}

// maxListed bounds the conversations one GET /api/v1/conversations
// returns.
const maxListed = 100

// handleConversations lists a customer's conversations changed since a
// time, with their messages (agents' private notes left out), newest
// first.
func (s *Server) handleConversations() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ext := q.Get("customer")
		if ext == "" {
			writeError(w, bot.NewError(bot.CodeInvalid, "give ?customer=EXTERNAL_ID"))
			return
		}
		var since time.Time
		if v := q.Get("since"); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(w, bot.NewError(bot.CodeInvalid, "since is a time such as 2026-11-28T09:00:00Z"))
				return
			}
			since = t
		}
		c, ok := s.customer(w, r, ext)
		if !ok {
			return
		}
		convs, err := s.engine.Conversations(r.Context(), c.ID)
		if err != nil {
			s.fail(w, err, "list conversations")
			return
		}
		out := struct {
			Conversations []conversationView `json:"conversations"`
		}{[]conversationView{}}
		for i := range convs {
			if convs[i].Updated.Before(since) || len(out.Conversations) == maxListed {
				continue
			}
			ms, err := s.engine.Messages(r.Context(), convs[i].ID, 0)
			if err != nil {
				s.fail(w, err, "read messages")
				return
			}
			v := viewConversation(&convs[i])
			v.Log = make([]messageView, 0, len(ms))
			for _, m := range ms {
				v.Log = append(v.Log, messageView{Seq: m.Seq, From: m.From, Text: m.Text, Agent: m.AgentName, Time: m.Time})
			}
			out.Conversations = append(out.Conversations, v)
		}
		httperr.WriteJSON(w, http.StatusOK, out)
	})
}

// customer loads the customer with the external id, answering 404 (or
// 500) when there is none.
func (s *Server) customer(w http.ResponseWriter, r *http.Request, ext string) (*bot.Customer, bool) {
	if err := bot.CheckExternalID(ext); err != nil {
		writeError(w, err)
		return nil, false
	}
	c, err := s.engine.CustomerByExternalID(r.Context(), ext)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		writeError(w, bot.NewError(bot.CodeNotFound, "no customer with that external id"))
		return nil, false
	case err != nil:
		s.fail(w, err, "load customer")
		return nil, false
	}
	return c, true
}

// fail answers err, logging an internal one.
func (s *Server) fail(w http.ResponseWriter, err error, what string) {
	if bot.ErrorCode(err) == bot.CodeInternal {
		s.opts.Log.Error(what, "err", err)
	}
	writeError(w, err)
}

// decode reads a JSON object body into v; an empty body is an empty
// object.
func decode(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(data) > maxBody {
		return bot.NewError(bot.CodeInvalid, "request body too large or unreadable")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bot.NewError(bot.CodeInvalid, "request body is not the expected JSON object: "+err.Error())
	}
	return nil
}

func key(r *http.Request) *bot.APIKey {
	k, _ := r.Context().Value(keyOf{}).(*bot.APIKey)
	if k == nil {
		return &bot.APIKey{}
	}
	return k
}
