package web

import (
	"context"
	"encoding/json"
	"net/http"
)

// Home is what the widget's first screen shows before the customer
// writes (GET /home): common questions from the knowledge base, how fast
// people usually reply (measured), and who is on the team.
type Home struct {
	// Topics are the articles customers ask about most (or, before
	// there is anything to count, the knowledge base's first ones); the
	// widget sends "article:<id>" when one is chosen.
	Topics []HomeTopic `json:"topics"`
	// ReplySeconds is the median time to a person's first reply over
	// recent hand-offs, 0 before there are any; ReplyText says it in
	// words ("We usually reply in about 5 minutes").
	ReplySeconds int64  `json:"reply_seconds,omitempty"`
	ReplyText    string `json:"reply_text,omitempty"`
	// Team are the people who may answer, online ones first: initials
	// and first names only.
	Team []HomeMember `json:"team"`
}

// HomeTopic is an article offered on the first screen.
type HomeTopic struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// HomeMember is a person of the team, as the first screen shows them.
type HomeMember struct {
	Name     string `json:"name"`
	Initials string `json:"initials"`
	Online   bool   `json:"online"`
}

// HomeSource computes the first screen; it should cache, as every
// widget asks when it opens.
type HomeSource interface {
	Home(ctx context.Context) (Home, error)
}

// handleHome serves the first screen's facts to anyone (they are what
// the shop shows every visitor), to the sites allowed to embed the chat.
func (s *Server) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.cors(w, r)
		h := Home{Topics: []HomeTopic{}, Team: []HomeMember{}}
		if s.opts.Home != nil {
			var err error
			if h, err = s.opts.Home.Home(r.Context()); err != nil {
				s.opts.Log.Error("widget home", "err", err)
				http.Error(w, "could not load", http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=60")
		json.NewEncoder(w).Encode(h)
	})
}
