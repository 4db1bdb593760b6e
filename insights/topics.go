package insights

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/kb"
)

// Matcher is what grouping needs of the knowledge base: its features, to
// tell which questions are alike, and its search, to name the articles
// they came closest to. *kb.KB implements it.
type Matcher interface {
	Fingerprint(q string) kb.Fingerprint
	Search(ctx context.Context, q string) ([]kb.Hit, error)
}

// GroupThreshold is how alike (mean cosine of kb fingerprints between
// their questions) two groups must be to merge. Chosen on
// insights/testdata/gaps.txt, where questions of one topic score 0.09 to
// 0.45 with each other (0.18 to 0.35 on average) and questions of
// different topics 0 to 0.14 (0.07 on average at most). Matching is by
// words, so "job" and "vacancy" meet only through the content's synonyms.
const GroupThreshold = 0.1

// MaxGrouped bounds how many questions Group compares (the newest):
// average-link grouping costs the cube of their number.
const MaxGrouped = 800

// Limits of a report.
const (
	maxExamples = 5
	maxNearest  = 3
)

// Topic is a group of alike questions the knowledge base could not answer.
type Topic struct {
	// Label is the question most typical of the group.
	Label string `json:"label"`
	// Count is how many questions (one per conversation) the topic holds;
	// Conversations how many conversations they came from.
	Count         int            `json:"count"`
	Conversations int            `json:"conversations"`
	Reasons       map[string]int `json:"reasons"`
	Examples      []Gap          `json:"examples"`
	// Nearest are the articles the questions came closest to, best first.
	Nearest []Nearest `json:"nearest"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// Nearest is an article a topic came close to.
type Nearest struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Confidence is the knowledge base's mean confidence in the article
	// over the topic's questions.
	Confidence float64 `json:"confidence"`
}

// Report is the knowledge gaps of a period.
type Report struct {
	Since     time.Time `json:"since"`
	Questions int       `json:"questions"`
	Topics    []Topic   `json:"topics"`
}

// Group sorts gaps into topics of alike questions, biggest first, by
// average-link agglomeration: the two groups whose questions are most
// alike on average merge, until no two are alike by GroupThreshold.
// Questions are taken in time order, so a report is the same however the
// store lists them. Only the newest MaxGrouped gaps are grouped.
func Group(ctx context.Context, m Matcher, gaps []Gap) ([]Topic, error) {
	gaps = append([]Gap(nil), gaps...)
	sort.SliceStable(gaps, func(i, j int) bool {
		if !gaps[i].Time.Equal(gaps[j].Time) {
			return gaps[i].Time.Before(gaps[j].Time)
		}
		return gaps[i].Question < gaps[j].Question
	})
	if len(gaps) > MaxGrouped {
		gaps = gaps[len(gaps)-MaxGrouped:]
	}
	n := len(gaps)
	prints := make([]kb.Fingerprint, n)
	for i, g := range gaps {
		prints[i] = m.Fingerprint(g.Question)
	}
	// sim[i][j] is the mean similarity between the questions of groups i
	// and j (Lance-Williams update for average linkage).
	sim := make([][]float64, n)
	for i := range sim {
		sim[i] = make([]float64, n)
		for j := 0; j < i; j++ {
			sim[i][j] = prints[i].Similarity(prints[j])
			sim[j][i] = sim[i][j]
		}
	}
	members := make([][]int, n)
	for i := range members {
		members[i] = []int{i}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a, b, best := -1, -1, GroupThreshold
		for i := range n {
			if members[i] == nil {
				continue
			}
			for j := i + 1; j < n; j++ {
				if members[j] != nil && sim[i][j] >= best {
					if a < 0 || sim[i][j] > best {
						a, b, best = i, j, sim[i][j]
					}
				}
			}
		}
		if a < 0 {
			break
		}
		na, nb := float64(len(members[a])), float64(len(members[b]))
		for k := range n {
			if members[k] == nil || k == a || k == b {
				continue
			}
			s := (na*sim[a][k] + nb*sim[b][k]) / (na + nb)
			sim[a][k], sim[k][a] = s, s
		}
		members[a] = append(members[a], members[b]...)
		members[b] = nil
	}
	type group struct {
		members  []int
		prints   []kb.Fingerprint
		centroid kb.Fingerprint
	}
	var groups []*group
	for _, ms := range members {
		if ms == nil {
			continue
		}
		sort.Ints(ms)
		gr := &group{members: ms}
		for _, i := range ms {
			gr.prints = append(gr.prints, prints[i])
		}
		gr.centroid = kb.Centroid(gr.prints...)
		groups = append(groups, gr)
	}
	topics := make([]Topic, 0, len(groups))
	for _, gr := range groups {
		t := Topic{Reasons: map[string]int{}}
		convs := map[string]bool{}
		conf := map[string]float64{}
		titles := map[string]string{}
		labelSim := -1.0
		for k, i := range gr.members {
			g := gaps[i]
			t.Count++
			convs[g.ConversationID] = true
			for _, r := range g.Reasons {
				t.Reasons[r]++
			}
			if s := gr.prints[k].Similarity(gr.centroid); s > labelSim {
				t.Label, labelSim = g.Question, s
			}
			if t.First.IsZero() || g.Time.Before(t.First) {
				t.First = g.Time
			}
			if g.Time.After(t.Last) {
				t.Last = g.Time
			}
			hits, err := m.Search(ctx, g.Question)
			if err != nil {
				return nil, fmt.Errorf("search %q: %w", g.Question, err)
			}
			for _, h := range hits {
				conf[h.ID] += h.Confidence
				titles[h.ID] = h.Title
			}
		}
		t.Conversations = len(convs)
		// The newest examples, with an agent's reply first: they show
		// what the missing article should say.
		ex := make([]Gap, 0, len(gr.members))
		for _, i := range gr.members {
			ex = append(ex, gaps[i])
		}
		sort.SliceStable(ex, func(i, j int) bool {
			if (ex[i].AgentReply != "") != (ex[j].AgentReply != "") {
				return ex[i].AgentReply != ""
			}
			return ex[i].Time.After(ex[j].Time)
		})
		t.Examples = ex[:min(len(ex), maxExamples)]
		for id, c := range conf {
			t.Nearest = append(t.Nearest, Nearest{ID: id, Title: titles[id], Confidence: c / float64(t.Count)})
		}
		sort.Slice(t.Nearest, func(i, j int) bool {
			if t.Nearest[i].Confidence != t.Nearest[j].Confidence {
				return t.Nearest[i].Confidence > t.Nearest[j].Confidence
			}
			return t.Nearest[i].ID < t.Nearest[j].ID
		})
		t.Nearest = t.Nearest[:min(len(t.Nearest), maxNearest)]
		topics = append(topics, t)
	}
	sort.SliceStable(topics, func(i, j int) bool {
		if topics[i].Count != topics[j].Count {
			return topics[i].Count > topics[j].Count
		}
		return topics[i].Last.After(topics[j].Last)
	})
	return topics, nil
}

// Gaps reads the conversations changed since the time, finds the
// questions the bot failed on since then, and groups them into topics.
func Gaps(ctx context.Context, src Source, m Matcher, since time.Time) (Report, error) {
	gaps, err := Collect(ctx, src, since)
	if err != nil {
		return Report{}, err
	}
	return Reported(ctx, m, gaps, since)
}

// Collect returns the questions the bot failed on since the time, in the
// conversations changed since then: the part of Gaps that reads the
// store.
func Collect(ctx context.Context, src Source, since time.Time) ([]Gap, error) {
	var gaps []Gap
	err := src.EachConversation(ctx, since, func(_ bot.Conversation, ms []bot.Message) error {
		for _, g := range FindGaps(ms) {
			if !g.Time.Before(since) {
				gaps = append(gaps, g)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read conversations: %w", err)
	}
	return gaps, nil
}

// Reported groups gaps collected since the time into the report: the
// part of Gaps that needs the knowledge base.
func Reported(ctx context.Context, m Matcher, gaps []Gap, since time.Time) (Report, error) {
	topics, err := Group(ctx, m, gaps)
	if err != nil {
		return Report{}, err
	}
	return Report{Since: since, Questions: len(gaps), Topics: topics}, nil
}

// Service answers insight queries from a store and the knowledge base.
type Service struct {
	src Source
	m   Matcher
}

// NewService returns insights over the conversations of src, matched with
// m.
func NewService(src Source, m Matcher) *Service { return &Service{src: src, m: m} }

// Gaps returns the knowledge gaps since the time (see Gaps).
func (s *Service) Gaps(ctx context.Context, since time.Time) (Report, error) {
	return Gaps(ctx, s.src, s.m, since)
}
