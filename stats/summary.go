package stats

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Summary is the dashboard's figures over a period.
type Summary struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Conversations started in the period in which the customer said
	// something; Deflected of those the bot finished without a person.
	Conversations  int            `json:"conversations"`
	Deflected      int            `json:"deflected"`
	DeflectionRate float64        `json:"deflection_rate"`
	Handoffs       map[string]int `json:"handoffs"`
	Wait           Durations      `json:"wait_seconds"`
	FirstResponse  Durations      `json:"first_response_seconds"`
	Survey         Survey         `json:"survey"`
	Helpfulness    []Helpfulness  `json:"helpfulness"`
	// Hours counts the customers' messages by UTC hour of the day.
	Hours [24]int `json:"hours"`
	// Followups are the follow-ups after resolved hand-offs.
	Followups Followups `json:"followups"`
	// Days are the figures of each day of the period, oldest first.
	Days []DaySummary `json:"days"`
}

// Durations are the median and 90th percentile of a set of times, in
// seconds (nearest-rank), and how many there were.
type Durations struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
}

// Survey is the survey answers' count and average (0 without any).
type Survey struct {
	Count   int     `json:"count"`
	Average float64 `json:"average"`
}

// Helpfulness is how customers judged one article's answers.
type Helpfulness struct {
	ArticleID string  `json:"article_id"`
	Title     string  `json:"title,omitempty"`
	Yes       int     `json:"yes"`
	No        int     `json:"no"`
	Rate      float64 `json:"rate"` // yes / (yes + no)
}

// Followups counts "Did that solve it?" asked and answered.
type Followups struct {
	Sent     int `json:"sent"`
	Solved   int `json:"solved"`
	Unsolved int `json:"unsolved"`
}

// DaySummary is one day's figures.
type DaySummary struct {
	Day            string    `json:"day"`
	Conversations  int       `json:"conversations"`
	Deflected      int       `json:"deflected"`
	DeflectionRate float64   `json:"deflection_rate"`
	Handoffs       int       `json:"handoffs"`
	Wait           Durations `json:"wait_seconds"`
	FirstResponse  Durations `json:"first_response_seconds"`
	Survey         Survey    `json:"survey"`
}

// Summarize sums the days from from to to (UTC dates, both included).
func Summarize(days map[string]Day, from, to time.Time) Summary {
	s := Summary{From: from.UTC().Format(DayLayout), To: to.UTC().Format(DayLayout), Handoffs: map[string]int{}, Helpfulness: []Helpfulness{}, Days: []DaySummary{}}
	var total Day
	for d := day(from); !d.After(day(to)); d = d.AddDate(0, 0, 1) {
		k := d.Format(DayLayout)
		one := days[k]
		total.Add(&one)
		ds := DaySummary{Day: k, Conversations: one.Conversations, Deflected: one.Deflected,
			DeflectionRate: ratio(one.Deflected, one.Conversations), Wait: durations(one.Waits),
			FirstResponse: durations(one.FirstResponses), Survey: survey(one)}
		for _, n := range one.Handoffs {
			ds.Handoffs += n
		}
		s.Days = append(s.Days, ds)
	}
	s.Conversations, s.Deflected = total.Conversations, total.Deflected
	s.DeflectionRate = ratio(total.Deflected, total.Conversations)
	for r, n := range total.Handoffs {
		s.Handoffs[r] = n
	}
	s.Wait, s.FirstResponse = durations(total.Waits), durations(total.FirstResponses)
	s.Survey = survey(total)
	for a, h := range total.Helpful {
		s.Helpfulness = append(s.Helpfulness, Helpfulness{ArticleID: a, Yes: h[0], No: h[1], Rate: ratio(h[0], h[0]+h[1])})
	}
	sort.Slice(s.Helpfulness, func(i, j int) bool {
		a, b := s.Helpfulness[i], s.Helpfulness[j]
		if a.Yes+a.No != b.Yes+b.No {
			return a.Yes+a.No > b.Yes+b.No
		}
		return a.ArticleID < b.ArticleID
	})
	s.Hours = total.Hours
	s.Followups = Followups{Sent: total.FollowupsSent, Solved: total.FollowupsSolved, Unsolved: total.FollowupsUnsolved}
	return s
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(float64(a)/float64(b)*1000) / 1000
}

func survey(d Day) Survey {
	if d.Ratings == 0 {
		return Survey{}
	}
	return Survey{Count: d.Ratings, Average: math.Round(float64(d.RatingSum)/float64(d.Ratings)*100) / 100}
}

// durations computes nearest-rank percentiles: the p-th percentile is
// the smallest value with at least p% of the values at or below it.
func durations(v []int32) Durations {
	if len(v) == 0 {
		return Durations{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(s)))) - 1
		return float64(s[max(i, 0)])
	}
	return Durations{Count: len(s), P50: rank(50), P90: rank(90)}
}

// WriteCSV writes the summary's days as CSV, one row a day.
func WriteCSV(w io.Writer, s Summary) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"day", "conversations", "deflected", "deflection_rate", "handoffs",
		"wait_p50_s", "wait_p90_s", "first_response_p50_s", "first_response_p90_s", "survey_answers", "survey_average"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, d := range s.Days {
		cw.Write([]string{d.Day, strconv.Itoa(d.Conversations), strconv.Itoa(d.Deflected), f(d.DeflectionRate), strconv.Itoa(d.Handoffs),
			f(d.Wait.P50), f(d.Wait.P90), f(d.FirstResponse.P50), f(d.FirstResponse.P90), strconv.Itoa(d.Survey.Count), f(d.Survey.Average)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}
