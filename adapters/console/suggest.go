package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/kb"
)

// Suggestions: how many, and the confidence that makes an older question
// a better basis than the newest message (which may be "a person,
// please").
const (
	suggestionsShown = 3
	suggestConfident = 0.2
	suggestLookBack  = 3
	// suggestFloor: below it an article is noise, shown only when it is
	// the best there is.
	suggestFloor = 0.05
)

// suggest returns articles for the customer's latest question: the
// newest of their last few typed messages that the knowledge base
// answers with some confidence, else the newest one's best guesses.
// Messages the bot took for small talk or for a request for a person
// ("a human, please") are not questions and are passed over.
func (s *Server) suggest(ctx context.Context, msgs []bot.Message) (string, []suggestionView) {
	if s.kb == nil {
		return "", []suggestionView{}
	}
	query, first := "", []kb.Hit(nil)
	looked := 0
	var reply *bot.Decision // the bot's decision on the message after msgs[i]
	for i := len(msgs) - 1; i >= 0 && looked < suggestLookBack; i-- {
		m := msgs[i]
		if m.From == bot.FromBot {
			reply = m.Decision
			continue
		}
		if m.From != bot.FromCustomer || m.Payload != "" || strings.TrimSpace(m.Text) == "" {
			continue
		}
		notQuestion := reply != nil && (reply.Kind == "smalltalk" || reply.Kind == "handoff" && reply.Reason == "requested")
		reply = nil
		if notQuestion {
			continue
		}
		looked++
		hits, err := s.kb.Search(ctx, m.Text)
		if err != nil {
			s.opts.Log.Error("suggest articles", "conversation", m.ConversationID, "err", err)
			break
		}
		if query == "" {
			query, first = m.Text, hits
		}
		if len(hits) > 0 && hits[0].Confidence >= suggestConfident {
			return m.Text, s.viewHits(hits, suggestionsShown, suggestFloor)
		}
	}
	return query, s.viewHits(first, suggestionsShown, suggestFloor)
}

// viewHits describes the first n hits; after the first, those below
// floor are left out.
func (s *Server) viewHits(hits []kb.Hit, n int, floor float64) []suggestionView {
	out := []suggestionView{}
	for _, h := range hits {
		if len(out) == n || len(out) > 0 && h.Confidence < floor {
			break
		}
		a := h.Article
		if a == nil {
			var ok bool
			if a, ok = s.kb.Article(h.ID); !ok {
				continue
			}
		}
		out = append(out, suggestionView{ID: a.ID, Title: a.Title, Confidence: h.Confidence, Body: a.Body, Tags: nonNil(a.Tags)})
	}
	return out
}

// handleArticles searches the knowledge base for the console's article
// picker: GET /api/agent/articles?q=...
func (s *Server) handleArticles() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		q := strings.TrimSpace(r.URL.Query().Get("q"))
		if q == "" || len(q) > bot.MaxTextLen {
			writeError(w, http.StatusBadRequest, "give a search text of 1 to 4000 bytes as ?q=")
			return
		}
		out := struct {
			Query    string           `json:"query"`
			Articles []suggestionView `json:"articles"`
		}{Query: q, Articles: []suggestionView{}}
		if s.kb != nil {
			hits, err := s.kb.Search(r.Context(), q)
			if err != nil {
				s.fail(w, err, "search articles", sess, "")
				return
			}
			out.Articles = s.viewHits(hits, 5, 0)
		}
		writeJSON(w, http.StatusOK, out)
	})
}
