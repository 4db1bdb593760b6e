package console

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"unicode"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/httperr"
	"github.com/frontdesk/frontdesk/kb"
)

// Suggestions: how many, how many of the customer's latest messages
// are looked through for a question, and the confidence below which an
// article is noise and is not suggested at all.
const (
	suggestionsShown = 3
	suggestLookBack  = 8
	suggestFloor     = 0.1
	// suggestTail is how many of the newest messages suggestions read.
	suggestTail = 40
)

// suggest returns articles for the customer's latest question: the
// newest of their typed messages that is a question, whatever older
// questions the knowledge base answered better. Messages that are not
// questions are passed over: those the bot took for small talk or for a
// request for a person ("a human, please"), and those with nothing to
// search for once contact details and courtesies are set aside ("my
// email is maria@example.com", "ok, thanks"). Articles below
// suggestFloor are not suggested.
func (s *Server) suggest(ctx context.Context, msgs []bot.Message) (string, []suggestionView) {
	if s.kb == nil {
		return "", []suggestionView{}
	}
	query := latestQuestion(msgs)
	if query == "" {
		return "", []suggestionView{}
	}
	hits, err := s.kb.Search(ctx, query)
	if err != nil {
		s.opts.Log.Error("suggest articles", "err", err)
		return query, []suggestionView{}
	}
	return query, s.viewHits(hits, suggestionsShown, suggestFloor)
}

// latestQuestion returns the text of the newest customer message in msgs
// that is a question (see suggest), looking through the last
// suggestLookBack typed messages, or "".
func latestQuestion(msgs []bot.Message) string {
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
		looked++
		notQuestion := reply != nil && (reply.Kind == "smalltalk" || reply.Kind == "handoff" && reply.Reason == "requested")
		reply = nil
		if notQuestion || nothingToSearch(m.Text) {
			continue
		}
		return m.Text
	}
	return ""
}

var (
	emailish = regexp.MustCompile(`\S+@\S+`)
	urlish   = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+`)
)

// courtesies are words that alone ask nothing: greetings, thanks,
// yes and no, and the words around contact details.
var courtesies = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ok okay k yes yeah yep sure no nope not thanks thank you thx ty cheers
		hi hello hey great cool fine perfect good please pls here is it its it's my me the a an and or
		email e-mail mail address phone number name call contact reach at on via this that`) {
		courtesies[w] = true
	}
}

// nothingToSearch reports whether text holds nothing a knowledge base
// could answer: once email addresses, links, numbers, punctuation and
// courtesies are taken out, no word is left.
func nothingToSearch(text string) bool {
	text = urlish.ReplaceAllString(emailish.ReplaceAllString(text, " "), " ")
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && r != '-'
	})
	for _, w := range words {
		if w = strings.Trim(w, "'-"); w != "" && !courtesies[w] {
			return false
		}
	}
	return true
}

// handleSuggestions answers the suggestions for a conversation's latest
// question, for the console to refresh them when the customer writes:
// GET /api/agent/conversations/{id}/suggestions.
func (s *Server) handleSuggestions() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		conv, _, ok := s.readable(w, r, sess)
		if !ok {
			return
		}
		msgs, err := s.engine.Transcript(r.Context(), conv.ID, max(conv.LastSeq-suggestTail, 0))
		if err != nil {
			s.fail(w, err, "load the messages", sess, conv.ID)
			return
		}
		out := struct {
			Query       string           `json:"suggestions_query"`
			Suggestions []suggestionView `json:"suggestions"`
		}{}
		out.Query, out.Suggestions = s.suggest(r.Context(), msgs)
		httperr.WriteJSON(w, http.StatusOK, out)
	})
}

// viewHits describes the first n hits, leaving out those below floor.
func (s *Server) viewHits(hits []kb.Hit, n int, floor float64) []suggestionView {
	out := []suggestionView{}
	for _, h := range hits {
		if len(out) == n || h.Confidence < floor {
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
		httperr.WriteJSON(w, http.StatusOK, out)
	})
}
