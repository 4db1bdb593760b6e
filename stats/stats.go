// Package stats computes the figures of the supervisors' dashboard over
// time (deflection, hand-offs by reason, waiting and first-response
// times, the survey, helpfulness by article, busiest hours) as daily
// rollups: each conversation's contribution to each day is computed from
// its transcript once, when it changes (see Contribution), and the days'
// totals are summed over a period on request (Summarize), so a request
// never reads messages. It depends on the domain (bot) only; the store
// keeps the rollups.
package stats

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// DayLayout is how days are keyed: UTC dates.
const DayLayout = "2006-01-02"

// Day is what happened on one UTC day.
type Day struct {
	// Conversations started that day in which the customer said
	// something; Deflected of those never needed a person.
	Conversations int `json:"conversations"`
	Deflected     int `json:"deflected"`
	// Handoffs counts hand-offs to people by reason.
	Handoffs map[string]int `json:"handoffs,omitempty"`
	// Waits are the seconds from each hand-off to a person joining;
	// FirstResponses to a person's first reply.
	Waits          []int32 `json:"waits,omitempty"`
	FirstResponses []int32 `json:"first_responses,omitempty"`
	// Ratings and RatingSum: the survey answers (1-5).
	Ratings   int `json:"ratings"`
	RatingSum int `json:"rating_sum"`
	// Helpful counts the answers to "was this helpful?" by article:
	// [yes, no].
	Helpful map[string][2]int `json:"helpful,omitempty"`
	// Hours counts the customers' messages by UTC hour.
	Hours [24]int `json:"hours"`
	// Followups: "Did that solve it?" asked after a resolved hand-off,
	// and the answers.
	FollowupsSent     int `json:"followups_sent,omitempty"`
	FollowupsSolved   int `json:"followups_solved,omitempty"`
	FollowupsUnsolved int `json:"followups_unsolved,omitempty"`
}

// Days are days by key (DayLayout).
type Days map[string]*Day

func (ds Days) day(t time.Time) *Day {
	k := t.UTC().Format(DayLayout)
	d := ds[k]
	if d == nil {
		d = &Day{}
		ds[k] = d
	}
	return d
}

// joinedSuffixes end the system notices of bot.Act.SetOwner that say a
// person is now with the customer.
var joinedSuffixes = []string{"has joined the conversation.", "has taken over the conversation."}

// Contribution is what one conversation adds to each day, computed from
// its whole transcript. Computing it again after the conversation
// changed and replacing the old one (Sub, then Add) keeps the totals
// exact.
func Contribution(c bot.Conversation, ms []bot.Message) Days {
	ds := Days{}
	var (
		spoke      bool
		handedOff  bool
		handoffAt  time.Time
		waiting    bool // a hand-off waits for a person to join
		responding bool // … for a person's first reply
		lastAnswer string
		lastBot    *bot.Message
	)
	for i := range ms {
		m := ms[i]
		switch {
		case m.From == bot.FromCustomer:
			spoke = true
			ds.day(m.Time).Hours[m.Time.UTC().Hour()]++
			switch p := m.Payload; {
			case p == bot.PayloadFollowupSolved:
				ds.day(m.Time).FollowupsSolved++
			case p == bot.PayloadFollowupUnsolved:
				ds.day(m.Time).FollowupsUnsolved++
			case (p == bot.PayloadHelpfulYes || p == bot.PayloadHelpfulNo) && lastAnswer != "":
				d := ds.day(m.Time)
				if d.Helpful == nil {
					d.Helpful = map[string][2]int{}
				}
				h := d.Helpful[lastAnswer]
				if p == bot.PayloadHelpfulYes {
					h[0]++
				} else {
					h[1]++
				}
				d.Helpful[lastAnswer] = h
				lastAnswer = ""
			case strings.HasPrefix(p, "survey:") && lastBot != nil && lastBot.Decision != nil && lastBot.Decision.Kind == bot.DecisionSurvey && lastBot.Decision.Reason == "resolved":
				if n, err := strconv.Atoi(strings.TrimPrefix(p, "survey:")); err == nil && n >= 1 && n <= 5 {
					d := ds.day(m.Time)
					d.Ratings++
					d.RatingSum += n
				}
			}
		case m.From == bot.FromBot && m.Decision != nil:
			lastBot = &ms[i]
			switch m.Decision.Kind {
			case bot.DecisionHandoff:
				d := ds.day(m.Time)
				if d.Handoffs == nil {
					d.Handoffs = map[string]int{}
				}
				d.Handoffs[m.Decision.Reason]++
				handedOff, handoffAt, waiting, responding = true, m.Time, true, true
			case bot.DecisionFeedback:
				switch m.Decision.Reason {
				case "ask_helpful":
					lastAnswer = m.Decision.ArticleID
				case "followup":
					ds.day(m.Time).FollowupsSent++
				}
			}
		case m.From == bot.FromSystem && waiting && slices.ContainsFunc(joinedSuffixes, func(s string) bool { return strings.HasSuffix(m.Text, s) }):
			d := ds.day(handoffAt)
			d.Waits = append(d.Waits, seconds(m.Time.Sub(handoffAt)))
			waiting = false
		case m.From == bot.FromAgent && !m.Internal && responding:
			d := ds.day(handoffAt)
			if waiting {
				d.Waits = append(d.Waits, seconds(m.Time.Sub(handoffAt)))
				waiting = false
			}
			d.FirstResponses = append(d.FirstResponses, seconds(m.Time.Sub(handoffAt)))
			responding = false
		}
	}
	if spoke {
		d := ds.day(c.Created)
		d.Conversations++
		if !handedOff {
			d.Deflected++
		}
	}
	return ds
}

func seconds(d time.Duration) int32 {
	if d < 0 {
		return 0
	}
	return int32(d / time.Second)
}

// Add adds o to d.
func (d *Day) Add(o *Day) {
	d.Conversations += o.Conversations
	d.Deflected += o.Deflected
	for r, n := range o.Handoffs {
		if d.Handoffs == nil {
			d.Handoffs = map[string]int{}
		}
		d.Handoffs[r] += n
	}
	d.Waits = append(d.Waits, o.Waits...)
	d.FirstResponses = append(d.FirstResponses, o.FirstResponses...)
	d.Ratings += o.Ratings
	d.RatingSum += o.RatingSum
	for a, h := range o.Helpful {
		if d.Helpful == nil {
			d.Helpful = map[string][2]int{}
		}
		cur := d.Helpful[a]
		d.Helpful[a] = [2]int{cur[0] + h[0], cur[1] + h[1]}
	}
	for i := range d.Hours {
		d.Hours[i] += o.Hours[i]
	}
	d.FollowupsSent += o.FollowupsSent
	d.FollowupsSolved += o.FollowupsSolved
	d.FollowupsUnsolved += o.FollowupsUnsolved
}

// Sub takes o, which was added to d before, away from d.
func (d *Day) Sub(o *Day) {
	d.Conversations -= o.Conversations
	d.Deflected -= o.Deflected
	for r, n := range o.Handoffs {
		if d.Handoffs[r] -= n; d.Handoffs[r] <= 0 {
			delete(d.Handoffs, r)
		}
	}
	d.Waits = without(d.Waits, o.Waits)
	d.FirstResponses = without(d.FirstResponses, o.FirstResponses)
	d.Ratings -= o.Ratings
	d.RatingSum -= o.RatingSum
	for a, h := range o.Helpful {
		cur := d.Helpful[a]
		cur = [2]int{cur[0] - h[0], cur[1] - h[1]}
		if cur[0] <= 0 && cur[1] <= 0 {
			delete(d.Helpful, a)
		} else {
			d.Helpful[a] = cur
		}
	}
	for i := range d.Hours {
		d.Hours[i] -= o.Hours[i]
	}
	d.FollowupsSent -= o.FollowupsSent
	d.FollowupsSolved -= o.FollowupsSolved
	d.FollowupsUnsolved -= o.FollowupsUnsolved
}

// without removes one occurrence of each value of remove from list.
func without(list, remove []int32) []int32 {
	for _, v := range remove {
		if i := slices.Index(list, v); i >= 0 {
			list = slices.Delete(list, i, i+1)
		}
	}
	return list
}

// Empty reports whether the day holds nothing.
func (d *Day) Empty() bool {
	return d.Conversations == 0 && len(d.Handoffs) == 0 && len(d.Waits) == 0 && len(d.FirstResponses) == 0 &&
		d.Ratings == 0 && len(d.Helpful) == 0 && d.Hours == [24]int{} &&
		d.FollowupsSent == 0 && d.FollowupsSolved == 0 && d.FollowupsUnsolved == 0
}
