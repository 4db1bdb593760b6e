package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/insights"
	"github.com/frontdesk/frontdesk/internal/httperr"
	"github.com/frontdesk/frontdesk/kb"
)

// Insights is what the console's insight pages need: the knowledge gaps
// of a period (*insights.Service implements it).
type Insights interface {
	Gaps(ctx context.Context, since time.Time) (insights.Report, error)
}

// ContentStatus is what the console shows of the live content: the
// problems of the files and the articles whose previous version serves
// (*kb.Live implements it).
type ContentStatus interface {
	Status() kb.LiveStatus
}

// handleContentStatus tells supervisors and admins whether the content
// loaded cleanly: GET /api/agent/insights/content.
func (s *Server) handleContentStatus() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !handoff.CanSupervise(sess.agent) {
			writeError(w, http.StatusForbidden, "insights are for supervisors and admins")
			return
		}
		cs, ok := s.kb.(ContentStatus)
		if !ok {
			writeError(w, http.StatusServiceUnavailable, "this server does not report its content")
			return
		}
		st := cs.Status()
		if st.Problems == nil {
			st.Problems = []kb.Problem{}
		}
		httperr.WriteJSON(w, http.StatusOK, st)
	})
}

// maxLookBack bounds how far back an insight query may reach.
const maxLookBack = 366 * 24 * time.Hour

// parseLookBack reads a period such as "7d" or "12h" (default 7 days).
func parseLookBack(v string) (time.Duration, bool) {
	if v == "" {
		return 7 * 24 * time.Hour, true
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, false
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, false
		}
	}
	return d, d > 0 && d <= maxLookBack
}

// handleGaps gives supervisors and admins the questions the bot could not
// answer over a period, grouped into topics: GET
// /api/agent/insights/gaps?since=7d.
func (s *Server) handleGaps() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !handoff.CanSupervise(sess.agent) {
			writeError(w, http.StatusForbidden, "insights are for supervisors and admins")
			return
		}
		if s.opts.Insights == nil {
			writeError(w, http.StatusServiceUnavailable, "insights are not configured on this server")
			return
		}
		back, ok := parseLookBack(r.URL.Query().Get("since"))
		if !ok {
			writeError(w, http.StatusBadRequest, "since must be a period such as 7d or 12h, at most 366d")
			return
		}
		rep, err := s.opts.Insights.Gaps(r.Context(), time.Now().Add(-back))
		if err != nil {
			s.fail(w, err, "find knowledge gaps", sess, "")
			return
		}
		if rep.Topics == nil {
			rep.Topics = []insights.Topic{}
		}
		httperr.WriteJSON(w, http.StatusOK, rep)
	})
}
