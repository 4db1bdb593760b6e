package console

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// ---- The inbox -------------------------------------------------------------
//
// GET /api/agent/inbox lists conversations in one of four views, with an
// optional search. Open conversations come from the open-ticket index;
// closed ones from the closed-ticket index, newest first, so a request
// reads only the tickets and conversation records it lists. Previews come
// from the conversation record (bot.Conversation.Last): no message log is
// read unless a search has to look into message text, and then only the
// logs of conversations the agent may read, at most inboxScan of them.

// Inbox views.
const (
	viewMine       = "mine"       // the agent's open conversations, offered ones too
	viewUnassigned = "unassigned" // waiting for an agent, in queue order
	viewAll        = "all"        // every open conversation the agent may read, then closed ones
	viewResolved   = "resolved"   // closed conversations (resolved or handed back to the bot)
)

const (
	inboxDefault = 50
	inboxMax     = 200
	// inboxScan bounds how many closed tickets one request reads.
	inboxScan = 2000
	// inboxBatch is how many closed tickets are read at a time.
	inboxBatch = 100
	// inboxQueryMax is the longest search, in bytes.
	inboxQueryMax = 200
	// matchExcerpt is how many bytes of a matching message are shown.
	matchExcerpt = 120
)

type inboxItem struct {
	*ticketView
	// LastActivity is the time of the last message said, or the last
	// change when there is none.
	LastActivity time.Time `json:"last_activity"`
	// Match is, when a search matched a message's text rather than the
	// customer or the preview, an excerpt of that message.
	Match string `json:"match,omitempty"`
}

type inboxResponse struct {
	View  string      `json:"view"`
	Query string      `json:"query"`
	Items []inboxItem `json:"items"`
	// NextBefore, when set, is the before= that lists older closed
	// conversations.
	NextBefore time.Time `json:"next_before,omitzero"`
}

// inboxRequest is a parsed GET /api/agent/inbox.
type inboxRequest struct {
	view   string
	query  string // lower case
	limit  int
	before time.Time
}

func parseInbox(r *http.Request) (inboxRequest, string) {
	qs := r.URL.Query()
	in := inboxRequest{view: cmp.Or(qs.Get("view"), viewAll), limit: inboxDefault}
	if !slices.Contains([]string{viewMine, viewUnassigned, viewAll, viewResolved}, in.view) {
		return in, `view is one of "mine", "unassigned", "all" or "resolved"`
	}
	q := strings.TrimSpace(qs.Get("q"))
	if len(q) > inboxQueryMax || !utf8.ValidString(q) {
		return in, "give a search of at most 200 bytes of UTF-8 as ?q="
	}
	in.query = strings.ToLower(q)
	if l := qs.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > inboxMax {
			return in, "limit is a number from 1 to 200"
		}
		in.limit = n
	}
	if b := qs.Get("before"); b != "" {
		t, err := time.Parse(time.RFC3339Nano, b)
		if err != nil {
			return in, "before is a time like 2026-11-28T09:00:00Z (the next_before of a previous page)"
		}
		in.before = t
	}
	return in, ""
}

func (s *Server) handleInbox() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		in, bad := parseInbox(r)
		if bad != "" {
			writeError(w, http.StatusBadRequest, bad)
			return
		}
		out, err := s.inbox(r.Context(), sess.agent, in)
		if err != nil {
			s.fail(w, err, "list the inbox", sess, "")
			return
		}
		httperr.WriteJSON(w, http.StatusOK, out)
	})
}

// inbox lists the view for agent a. Access follows handoff.May: what an
// agent may not read is not listed.
func (s *Server) inbox(ctx context.Context, a *handoff.Agent, in inboxRequest) (*inboxResponse, error) {
	out := &inboxResponse{View: in.view, Query: in.query, Items: []inboxItem{}}
	open, err := s.queue.Tickets(ctx, handoff.Filter{})
	if err != nil {
		return nil, err
	}
	helping := map[string]bool{} // customers the agent has a conversation of
	seen := map[string]bool{}    // conversations with an open ticket
	for _, t := range open {
		seen[t.ConversationID] = true
		if t.Status == handoff.StatusAssigned && t.Agent == a.ID {
			helping[t.CustomerID] = true
		}
	}
	names, now := s.names(ctx), time.Now()
	// add lists t if a may read its conversation and it matches the
	// search; it reports whether it did.
	add := func(t *handoff.Ticket) (bool, error) {
		conv, err := s.engine.Conversation(ctx, t.ConversationID)
		if errors.Is(err, bot.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		sit := handoff.Situation{Conversation: conv, Ticket: t, HasCustomer: helping[t.CustomerID]}
		if !handoff.May(a, handoff.AccessRead, sit) {
			return false, nil
		}
		item := inboxItem{ticketView: s.viewTicket(ctx, t, a, names, now), LastActivity: conv.Updated}
		if conv.Last != nil {
			item.LastActivity = conv.Last.Time
		}
		if in.query != "" {
			ok, match, err := s.matches(ctx, in.query, item.ticketView)
			if err != nil || !ok {
				return false, err
			}
			item.Match = match
		}
		out.Items = append(out.Items, item)
		return true, nil
	}

	if in.view != viewResolved && in.before.IsZero() {
		for i := range open {
			t := &open[i]
			switch {
			case len(out.Items) == in.limit:
			case in.view == viewMine && t.Agent != a.ID:
			case in.view == viewUnassigned && !t.Waiting():
			default:
				if _, err := add(t); err != nil {
					return nil, err
				}
			}
		}
		if in.view != viewUnassigned {
			// Queue order for the queue; newest activity first for the rest.
			slices.SortStableFunc(out.Items, func(x, y inboxItem) int { return y.LastActivity.Compare(x.LastActivity) })
		}
	}
	if in.view != viewAll && in.view != viewResolved {
		return out, nil
	}
	// Closed conversations, the most recently closed first, each once (as
	// its latest ticket) and only if not open again.
	cursor, scanned, more := in.before, 0, true
	for more && len(out.Items) < in.limit && scanned < inboxScan {
		n := min(inboxBatch, inboxScan-scanned)
		batch, err := s.queue.Closed(ctx, cursor, n)
		if err != nil {
			return nil, err
		}
		more = len(batch) == n
		for i := range batch {
			t := &batch[i]
			scanned++
			cursor = t.ClosedAt
			if seen[t.ConversationID] {
				continue
			}
			seen[t.ConversationID] = true
			if _, err := add(t); err != nil {
				return nil, err
			}
			if len(out.Items) == in.limit {
				more = more || i < len(batch)-1
				break
			}
		}
	}
	if more {
		out.NextBefore = cursor
	}
	return out, nil
}

// matches reports whether the conversation of v matches the lower-case
// query: its customer's name or email, its preview, or the text of any
// of its messages (system notices aside). For a match in the messages it
// returns an excerpt of the message.
func (s *Server) matches(ctx context.Context, query string, v *ticketView) (bool, string, error) {
	if c := v.Customer; c != nil && (contains(c.Name, query) || contains(c.Email, query)) {
		return true, "", nil
	}
	if v.LastMessage != nil && contains(v.LastMessage.Text, query) {
		return true, "", nil
	}
	msgs, err := s.engine.Transcript(ctx, v.ConversationID, 0)
	if err != nil {
		return false, "", err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		m := &msgs[i]
		if m.From != bot.FromSystem && contains(m.Text, query) {
			return true, excerpt(m.Text, query), nil
		}
	}
	return false, "", nil
}

func contains(text, lowerQuery string) bool {
	return text != "" && strings.Contains(strings.ToLower(text), lowerQuery)
}

// excerpt returns about matchExcerpt bytes of text around the first
// match of the lower-case query, on one line.
func excerpt(text, lowerQuery string) string {
	text = strings.Join(strings.Fields(text), " ")
	at := strings.Index(strings.ToLower(text), lowerQuery)
	if at < 0 || len(text) <= matchExcerpt || len(strings.ToLower(text)) != len(text) {
		return bot.Preview(text, matchExcerpt)
	}
	start := max(at-matchExcerpt/3, 0)
	for start > 0 && !utf8.RuneStart(text[start]) {
		start--
	}
	out := bot.Preview(text[start:], matchExcerpt)
	if start > 0 {
		out = "…" + out
	}
	return out
}
