package console

import (
	"context"
	"net/http"
	"time"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
	"github.com/frontdesk/frontdesk/stats"
)

// Stats is what the dashboard over time needs: the daily rollups of a
// period (*bolt.DB implements it).
type Stats interface {
	Stats(ctx context.Context, from, to time.Time) (map[string]stats.Day, error)
}

// maxStatsDays bounds a stats period.
const maxStatsDays = 366

// handleStats gives supervisors and admins the figures of a period:
// GET /api/agent/stats?from=2026-11-01&to=2026-11-30, as JSON or, with
// format=csv, one CSV row a day.
func (s *Server) handleStats() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !handoff.CanSupervise(sess.agent) {
			writeError(w, http.StatusForbidden, "the dashboard is for supervisors and admins")
			return
		}
		if s.opts.Stats == nil {
			writeError(w, http.StatusServiceUnavailable, "statistics are not configured on this server")
			return
		}
		q := r.URL.Query()
		today := time.Now().UTC().Truncate(24 * time.Hour)
		to, from := today, today.AddDate(0, 0, -6)
		var err error
		if v := q.Get("to"); v != "" {
			if to, err = time.Parse(stats.DayLayout, v); err != nil {
				writeError(w, http.StatusBadRequest, "to must be a date such as 2026-11-30")
				return
			}
		}
		if v := q.Get("from"); v != "" {
			if from, err = time.Parse(stats.DayLayout, v); err != nil {
				writeError(w, http.StatusBadRequest, "from must be a date such as 2026-11-01")
				return
			}
		} else if q.Get("to") != "" {
			from = to.AddDate(0, 0, -6)
		}
		if from.After(to) || to.Sub(from) >= maxStatsDays*24*time.Hour {
			writeError(w, http.StatusBadRequest, "from must not be after to, and a period is at most 366 days")
			return
		}
		format := q.Get("format")
		if format != "" && format != "json" && format != "csv" {
			writeError(w, http.StatusBadRequest, "format must be json or csv")
			return
		}
		days, err := s.opts.Stats.Stats(r.Context(), from, to)
		if err != nil {
			s.fail(w, err, "compute statistics", sess, "")
			return
		}
		sum := stats.Summarize(days, from, to)
		for i := range sum.Helpfulness {
			if s.kb != nil {
				if a, ok := s.kb.Article(sum.Helpfulness[i].ArticleID); ok {
					sum.Helpfulness[i].Title = a.Title
				}
			}
		}
		if format == "csv" {
			h := w.Header()
			h.Set("Content-Type", "text/csv; charset=utf-8")
			h.Set("Content-Disposition", `attachment; filename="frontdesk-stats-`+sum.From+`-`+sum.To+`.csv"`)
			h.Set("Cache-Control", "no-store")
			h.Set("X-Content-Type-Options", "nosniff")
			if err := stats.WriteCSV(w, sum); err != nil {
				s.opts.Log.Warn("write stats CSV", "agent", sess.agent.ID, "err", err)
			}
			return
		}
		httperr.WriteJSON(w, http.StatusOK, sum)
	})
}
