package main

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/kb"
)

// homeStore is what the widget's first screen reads of the store (both
// backends keep it).
type homeStore interface {
	TopicCounts(ctx context.Context) (map[string]int, error)
	FirstReplyTimes(ctx context.Context, n int) ([]time.Duration, error)
}

// widgetHome computes the widget's first screen (web.HomeSource) from the
// knowledge base, the store and who is online, recomputing at most once a
// minute: every widget asks when it opens.
type widgetHome struct {
	kb     interface{ Articles() []kb.Article } // the live knowledge base
	db     homeStore
	agents *handoff.Agents
	queue  *handoff.Queue
	now    func() time.Time

	mu   sync.Mutex
	last web.Home
	at   time.Time
}

// Figures of the first screen.
const (
	homeTopics  = 4           // common questions shown
	homeTeam    = 5           // people shown
	homeSamples = 50          // recent first replies the usual reply time is the median of
	homeEvery   = time.Minute // how often it is recomputed
)

// Home implements web.HomeSource.
func (h *widgetHome) Home(ctx context.Context) (web.Home, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && h.now().Sub(h.at) < homeEvery {
		return h.last, nil
	}
	out := web.Home{Topics: []web.HomeTopic{}, Team: []web.HomeMember{}}
	counts, err := h.db.TopicCounts(ctx)
	if err != nil {
		return web.Home{}, err
	}
	out.Topics = popular(h.kb.Articles(), counts, homeTopics)
	times, err := h.db.FirstReplyTimes(ctx, homeSamples)
	if err != nil {
		return web.Home{}, err
	}
	if len(times) > 0 {
		slices.Sort(times)
		median := times[len(times)/2]
		out.ReplySeconds = int64(median / time.Second)
		out.ReplyText = "We usually reply in " + handoff.AboutWait(median)
	}
	list, err := h.agents.List(ctx)
	if err != nil {
		return web.Home{}, err
	}
	presence := h.queue.Presences()
	for _, a := range list {
		if a.Disabled {
			continue
		}
		out.Team = append(out.Team, web.HomeMember{Name: firstName(a.Name), Initials: initials(a.Name), Online: presence[a.ID] == handoff.PresenceOnline})
	}
	sort.SliceStable(out.Team, func(i, j int) bool { return out.Team[i].Online && !out.Team[j].Online })
	if len(out.Team) > homeTeam {
		out.Team = out.Team[:homeTeam]
	}
	h.last, h.at = out, h.now()
	return out, nil
}

// popular returns the n articles most customers asked about (see
// bot.Popular), as the widget shows them.
func popular(articles []kb.Article, counts map[string]int, n int) []web.HomeTopic {
	out := []web.HomeTopic{}
	for _, a := range bot.Popular(articles, counts, n) {
		out = append(out, web.HomeTopic{ID: a.ID, Title: a.Title})
	}
	return out
}

func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

// initials are the first letters of the first and last words of a name.
func initials(name string) string {
	f := strings.Fields(name)
	first := func(w string) string {
		for _, r := range w {
			return string(unicode.ToUpper(r))
		}
		return ""
	}
	switch len(f) {
	case 0:
		return "?"
	case 1:
		return first(f[0])
	}
	return first(f[0]) + first(f[len(f)-1])
}
