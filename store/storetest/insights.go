package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/stats"
)

// InsightsStore is what the dashboards, the insights, the widget's first
// screen, the follow-ups and channel linking need of a store, beside
// Store.
type InsightsStore interface {
	Store
	bot.LinkStore
	bot.DueFollowups
	// insights.Source
	EachConversation(ctx context.Context, since time.Time, fn func(c bot.Conversation, ms []bot.Message) error) error
	// the daily rollups (the console's stats, serve's rollup loop)
	Rollup(ctx context.Context) error
	Stats(ctx context.Context, from, to time.Time) (map[string]stats.Day, error)
	// the widget's first screen
	TopicCounts(ctx context.Context) (map[string]int, error)
	FirstReplyTimes(ctx context.Context, n int) ([]time.Duration, error)
}

// RunInsights runs the suite of InsightsStore on stores open returns
// (empty, closed by open's cleanup). betweenRollup sets the store's hook
// run between a rollup's reading and its writing (nil: none).
func RunInsights(t *testing.T, open func(t *testing.T) InsightsStore, betweenRollup func(s InsightsStore, f func())) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s InsightsStore)
	}{
		{"StatsEqualHandCountedFigures", statsHandCounted},
		{"RollupsGoInBatches", rollupBatches},
		{"RollupsDuringActsAddUp", rollupsDuringActs},
		{"AChangeDuringARollupIsRolledUpNextTime", func(t *testing.T, s InsightsStore) { changeDuringRollup(t, s, betweenRollup) }},
		{"EachConversationSince", eachConversation},
		{"DueFollowups", dueFollowups},
		{"TopicCounts", topicCounts},
		{"FirstReplyTimesNewestFirst", firstReplyTimes},
		{"LinkCodesAreTakenOnce", linkCodes},
		{"ChannelLinks", channelLinks},
		{"AConversationKeepsItsLastMessageForPreviews", lastMessage},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// SeedConversation stores a conversation (new, or the stored one) and
// appends ms in one act, as the engine's acts would, the times given as
// "15:04:05" on day.
func SeedConversation(t *testing.T, s bot.Store, id, day string, ms []bot.Message, times ...string) {
	t.Helper()
	at := func(v string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04:05", day+" "+v)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	err := s.Update(ctx, func(tx bot.Tx) error {
		c, err := tx.Conversation(id)
		if errors.Is(err, bot.ErrNotFound) {
			c = &bot.Conversation{ID: id, CustomerID: "cus_" + id, Channel: bot.Web, State: bot.StateBot, Created: at(times[0])}
		} else if err != nil {
			return err
		}
		return PutMessages(tx, c, ms, func(i int) time.Time { return at(times[i]) })
	})
	if err != nil {
		t.Fatal(err)
	}
}

// PutMessages appends ms to c in tx, message i at at(i), as a turn does,
// and puts c with its new revision.
func PutMessages(tx bot.Tx, c *bot.Conversation, ms []bot.Message, at func(i int) time.Time) error {
	for i, m := range ms {
		m.ConversationID, m.Seq, m.Time = c.ID, c.LastSeq+1, at(i)
		if err := tx.PutMessage(m); err != nil {
			return err
		}
		c.LastSeq, c.Updated = m.Seq, m.Time
	}
	c.Rev++
	return tx.PutConversation(c)
}

// Cust is a customer's message; BotSays, the bot's reply with its decision.
func Cust(text, payload string) bot.Message {
	return bot.Message{From: bot.FromCustomer, Text: text, Payload: payload}
}

func BotSays(kind bot.DecisionKind, reason, article string) bot.Message {
	return bot.Message{From: bot.FromBot, Text: "…", Decision: &bot.Decision{Kind: kind, Reason: reason, ArticleID: article}}
}

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(stats.DayLayout, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func statsHandCounted(t *testing.T, s InsightsStore) {
	const d1, d2 = "2026-11-02", "2026-11-03"
	// A: answered, helpful: the bot finished it.
	SeedConversation(t, s, "A", d1, []bot.Message{
		Cust("how long is delivery", ""), BotSays(bot.DecisionAnswer, "confident", "delivery-times"),
		BotSays(bot.DecisionFeedback, "ask_helpful", "delivery-times"), Cust("Yes", bot.PayloadHelpfulYes),
	}, "09:00:00", "09:00:01", "09:00:01", "09:00:30")
	// B: not understood, a person asked for, joins after 120 s, replies
	// after 180 s, resolves; the customer rates 4.
	SeedConversation(t, s, "B", d1, []bot.Message{
		Cust("lamp rental?", ""), BotSays(bot.DecisionNoAnswer, "low_confidence", ""),
		Cust("Talk to a person", bot.PayloadHuman), BotSays(bot.DecisionHandoff, "requested", ""),
		{From: bot.FromSystem, Text: "Ana from our team has joined the conversation."},
		{From: bot.FromAgent, Text: "Hello, Ana here.", Agent: "agt_ana"},
		BotSays(bot.DecisionSurvey, "resolved", ""), Cust("4", "survey:4"),
		BotSays(bot.DecisionFeedback, "followup", ""), Cust("Yes, it did", bot.PayloadFollowupSolved),
	}, "10:00:00", "10:00:01", "10:01:00", "10:01:00", "10:03:00", "10:04:00", "10:10:00", "10:11:00", "12:10:00", "12:11:00")
	// C: answered, not helpful, frustrated: a person replies after 600 s
	// without a join notice first (a private note does not count).
	SeedConversation(t, s, "C", d1, []bot.Message{
		Cust("return a lamp", ""), BotSays(bot.DecisionAnswer, "confident", "returns"),
		BotSays(bot.DecisionFeedback, "ask_helpful", "returns"), Cust("No", bot.PayloadHelpfulNo),
		Cust("this is useless", ""), BotSays(bot.DecisionHandoff, "frustration", ""),
		{From: bot.FromAgent, Text: "note", Internal: true},
		{From: bot.FromAgent, Text: "Sorry! Let me help."},
	}, "14:00:00", "14:00:01", "14:00:01", "14:01:00", "14:02:00", "14:02:00", "14:05:00", "14:12:00")
	// D, the next day: answered, helpful.
	SeedConversation(t, s, "D", d2, []bot.Message{
		Cust("delivery time?", ""), BotSays(bot.DecisionAnswer, "confident", "delivery-times"),
		BotSays(bot.DecisionFeedback, "ask_helpful", "delivery-times"), Cust("Yes", bot.PayloadHelpfulYes),
	}, "08:00:00", "08:00:01", "08:00:01", "08:00:20")
	// A greeting nobody answered is no conversation.
	SeedConversation(t, s, "E", d2, []bot.Message{BotSays(bot.DecisionSmalltalk, "greeting", "")}, "11:00:00")

	from, to := day(t, d1), day(t, d2)
	summary := func() stats.Summary {
		t.Helper()
		days, err := s.Stats(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return stats.Summarize(days, from, to)
	}
	sum := summary()
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("conversations", sum.Conversations, 4)
	check("deflected", sum.Deflected, 2)
	check("deflection rate", sum.DeflectionRate, 0.5)
	check("hand-offs requested", sum.Handoffs["requested"], 1)
	check("hand-offs for frustration", sum.Handoffs["frustration"], 1)
	check("wait", sum.Wait, stats.Durations{Count: 2, P50: 120, P90: 600})
	check("first response", sum.FirstResponse, stats.Durations{Count: 2, P50: 180, P90: 600})
	check("survey", sum.Survey, stats.Survey{Count: 1, Average: 4})
	if len(sum.Helpfulness) != 2 {
		t.Fatalf("helpfulness %+v, want two articles", sum.Helpfulness)
	}
	check("delivery-times helpful", sum.Helpfulness[0], stats.Helpfulness{ArticleID: "delivery-times", Yes: 2, No: 0, Rate: 1})
	check("returns helpful", sum.Helpfulness[1], stats.Helpfulness{ArticleID: "returns", Yes: 0, No: 1, Rate: 0})
	check("hours", sum.Hours, [24]int{8: 2, 9: 2, 10: 3, 12: 1, 14: 3})
	check("follow-ups", sum.Followups, stats.Followups{Sent: 1, Solved: 1})
	if len(sum.Days) != 2 {
		t.Fatalf("days %+v, want two", sum.Days)
	}
	check("day 1", sum.Days[0].Conversations*10+sum.Days[0].Handoffs, 32)
	check("day 2 deflection", sum.Days[1].DeflectionRate, 1.0)

	// D is handed off later the same day: rolled up again, it replaces its
	// old contribution instead of adding to it.
	SeedConversation(t, s, "D", d2, []bot.Message{
		Cust("a person please", ""), BotSays(bot.DecisionHandoff, "requested", ""),
		{From: bot.FromSystem, Text: "Bo from our team has joined the conversation."},
	}, "09:00:00", "09:00:00", "09:01:00")
	sum = summary()
	check("conversations after D changed", sum.Conversations, 4)
	check("deflected after D changed", sum.Deflected, 1)
	check("hand-offs requested after D changed", sum.Handoffs["requested"], 2)
	check("wait after D changed", sum.Wait, stats.Durations{Count: 3, P50: 120, P90: 600})
	check("hours after D changed", sum.Hours[9], 3)

	// A period outside the data is empty; one day of it has that day only.
	empty, err := s.Stats(ctx, to.AddDate(0, 0, 1), to.AddDate(0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	check("days after the data", len(empty), 0)
	one, err := s.Stats(ctx, to, to)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := one[d2]; len(one) != 1 || !ok {
		t.Errorf("days of %s: %v", d2, one)
	}
}

// wantTotals is the sum of the contributions of the conversations as
// they are stored.
func wantTotals(t *testing.T, s InsightsStore, ids []string) map[string]stats.Day {
	t.Helper()
	want := map[string]stats.Day{}
	for _, id := range ids {
		c, err := s.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.Messages(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		for k, d := range stats.Contribution(*c, ms) {
			w := want[k]
			w.Add(d)
			want[k] = w
		}
	}
	return want
}

// More conversations than one rollup transaction takes (500) are all
// counted, once.
func rollupBatches(t *testing.T, s InsightsStore) {
	const n = 1234
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	ids := make([]string, n)
	err := s.Update(ctx, func(tx bot.Tx) error {
		for i := range n {
			ids[i] = fmt.Sprintf("con_%04d", i)
			at := start.Add(time.Duration(i) * 7 * time.Minute) // over six days
			c := &bot.Conversation{ID: ids[i], CustomerID: "cus_1", Channel: bot.Web, State: bot.StateBot, Created: at, Updated: at, LastSeq: 2}
			for j, m := range []bot.Message{Cust("how long is delivery", ""), BotSays(bot.DecisionAnswer, "confident", "delivery-times")} {
				m.ConversationID, m.Seq, m.Time = c.ID, int64(j+1), at
				if err := tx.PutMessage(m); err != nil {
					return err
				}
			}
			if err := tx.PutConversation(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Stats(ctx, start, start.AddDate(0, 0, 10))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, d := range got {
		total += d.Conversations
	}
	if total != n {
		t.Errorf("%d conversations counted over %d days, want %d", total, len(got), n)
	}
	if want := wantTotals(t, s, ids); !reflect.DeepEqual(got, want) {
		t.Errorf("totals differ from the sum of the contributions:\n got %+v\nwant %+v", got, want)
	}
	// Nothing changed: another rollup moves nothing.
	again, err := s.Stats(ctx, start, start.AddDate(0, 0, 10))
	if err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("a second rollup with nothing changed moved the totals (%v)", err)
	}
}

// Rollups running while acts change the conversations leave totals equal
// to the contributions of the conversations as they end up: a
// conversation changed between a rollup's reading and its writing is
// rolled up again, never lost or counted twice.
func rollupsDuringActs(t *testing.T, s InsightsStore) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	const convs, turns = 12, 15
	stop := make(chan struct{})
	rolled := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				rolled <- n
				return
			default:
			}
			if err := s.Rollup(ctx); err != nil {
				t.Error(err)
			}
			n++
		}
	}()
	var wg sync.WaitGroup
	ids := make([]string, convs)
	for i := range convs {
		id := fmt.Sprint("con_", i)
		ids[i] = id
		wg.Go(func() {
			for turn := range turns {
				err := s.Update(ctx, func(tx bot.Tx) error {
					c, err := tx.Conversation(id)
					if errors.Is(err, bot.ErrNotFound) {
						c = &bot.Conversation{ID: id, CustomerID: "cus_" + id, Channel: bot.Web, State: bot.StateBot, Created: start}
					} else if err != nil {
						return err
					}
					at := start.Add(time.Duration(turn) * time.Hour)
					return PutMessages(tx, c, []bot.Message{Cust("how long is delivery", ""), BotSays(bot.DecisionAnswer, "confident", "delivery-times"),
						BotSays(bot.DecisionFeedback, "ask_helpful", "delivery-times"), Cust("Yes", bot.PayloadHelpfulYes)},
						func(int) time.Time { return at })
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if n := <-rolled; n < 2 {
		t.Logf("only %d rollups ran beside the acts", n)
	}
	got, err := s.Stats(ctx, start, start.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if want := wantTotals(t, s, ids); !reflect.DeepEqual(got, want) {
		t.Errorf("totals after rollups beside the acts:\n got %+v\nwant %+v", got, want)
	}
}

// A conversation changed between a rollup's reading and its writing keeps
// its mark: the next rollup counts the change.
func changeDuringRollup(t *testing.T, s InsightsStore, between func(InsightsStore, func())) {
	if between == nil {
		t.Skip("the store has no hook between a rollup's reading and writing")
	}
	const d = "2026-11-02"
	SeedConversation(t, s, "A", d, []bot.Message{
		Cust("how long is delivery", ""), BotSays(bot.DecisionAnswer, "confident", "delivery-times"),
	}, "09:00:00", "09:00:01")
	once := sync.Once{}
	ran := false
	between(s, func() {
		once.Do(func() {
			ran = true
			SeedConversation(t, s, "A", d, []bot.Message{
				Cust("a person please", ""), BotSays(bot.DecisionHandoff, "requested", ""),
			}, "09:01:00", "09:01:00")
		})
	})
	if err := s.Rollup(ctx); err != nil {
		t.Fatal(err)
	}
	between(s, nil)
	if !ran {
		t.Fatal("the hook did not run")
	}
	from := day(t, d)
	days, err := s.Stats(ctx, from, from)
	if err != nil {
		t.Fatal(err)
	}
	if sum := stats.Summarize(days, from, from); sum.Conversations != 1 || sum.Handoffs["requested"] != 1 {
		t.Errorf("%d conversations, %d requested hand-offs; want 1 and the hand-off made during the rollup", sum.Conversations, sum.Handoffs["requested"])
	}
}

func eachConversation(t *testing.T, s InsightsStore) {
	SeedConversation(t, s, "old", "2026-11-01", []bot.Message{Cust("hello", "")}, "09:00:00")
	SeedConversation(t, s, "b", "2026-11-03", []bot.Message{Cust("where is my parcel", ""), {From: bot.FromAgent, Text: "note", Internal: true}}, "09:00:00", "09:00:05")
	SeedConversation(t, s, "a", "2026-11-03", []bot.Message{Cust("hi", "")}, "08:00:00")
	// Updated exactly at since, to the nanosecond, is in; a nanosecond
	// before is out.
	since := time.Date(2026, 11, 2, 12, 0, 0, 123456789, time.UTC)
	for id, at := range map[string]time.Time{"edge": since, "before": since.Add(-time.Nanosecond)} {
		c := &bot.Conversation{ID: id, CustomerID: "cus_e", Channel: bot.Web, State: bot.StateBot, Created: at, Updated: at}
		if err := s.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	notes := 0
	err := s.EachConversation(ctx, since, func(c bot.Conversation, ms []bot.Message) error {
		ids = append(ids, c.ID)
		if len(ms) != int(c.LastSeq) {
			t.Errorf("%s: %d messages, last seq %d", c.ID, len(ms), c.LastSeq)
		}
		for i, m := range ms {
			if m.Seq != int64(i+1) || m.ConversationID != c.ID {
				t.Errorf("%s: message %d is %+v", c.ID, i, m)
			}
			if m.Internal {
				notes++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids) != "[a b edge]" {
		t.Errorf("conversations since %v: %v, want [a b edge] in id order", since, ids)
	}
	if notes != 1 {
		t.Errorf("%d private notes, want the one (transcripts are whole)", notes)
	}
	stop := errors.New("enough")
	n := 0
	err = s.EachConversation(ctx, time.Time{}, func(bot.Conversation, []bot.Message) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn's error: %v after %d calls, want it returned after 1", err, n)
	}
}

func dueFollowups(t *testing.T, s InsightsStore) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 500, time.UTC)
	set := func(id, state string, at time.Time) {
		t.Helper()
		err := s.Update(ctx, func(tx bot.Tx) error {
			c, err := tx.Conversation(id)
			if errors.Is(err, bot.ErrNotFound) {
				c = &bot.Conversation{ID: id, CustomerID: "cus_1", Channel: bot.Telegram, State: bot.StateBot, Created: now}
			} else if err != nil {
				return err
			}
			c.Followup, c.FollowupAt = state, at
			c.Rev++
			return tx.PutConversation(c)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	due := func() string {
		t.Helper()
		ids, err := s.DueFollowups(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(ids)
	}
	if got := due(); got != "[]" {
		t.Errorf("due at first: %s", got)
	}
	set("c_late", bot.FollowupScheduled, now.Add(-time.Hour))
	set("c_now", bot.FollowupScheduled, now)
	set("c_soon", bot.FollowupScheduled, now.Add(time.Nanosecond))
	set("c_sent", bot.FollowupScheduled, now.Add(-time.Hour))
	set("c_sent", bot.FollowupSent, now.Add(-time.Hour))
	set("c_none", "", time.Time{})
	if got := due(); got != "[c_late c_now]" {
		t.Errorf("due: %s, want [c_late c_now] (due at or before now, in id order)", got)
	}
	set("c_late", bot.FollowupCancelled, now.Add(-time.Hour))
	set("c_soon", bot.FollowupScheduled, now.Add(-time.Minute)) // moved earlier
	if got := due(); got != "[c_now c_soon]" {
		t.Errorf("due after a cancel and a reschedule: %s, want [c_now c_soon]", got)
	}
}

func topicCounts(t *testing.T, s InsightsStore) {
	if got, err := s.TopicCounts(ctx); err != nil || len(got) != 0 {
		t.Errorf("topic counts of an empty store: %v, %v", got, err)
	}
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for id, topics := range map[string][]string{
		"cus_1": {"returns", "delivery-times"},
		"cus_2": {"returns"},
		"cus_3": {},
		"cus_4": {"returns", "opening-hours"},
	} {
		c := &bot.Customer{ID: id, LastSeen: at}
		for _, a := range topics {
			c.Topics = append(c.Topics, bot.Topic{ArticleID: a, Title: a, At: at})
		}
		if err := s.SaveCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.TopicCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"returns": 3, "delivery-times": 1, "opening-hours": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("topic counts %v, want %v", got, want)
	}
}

func firstReplyTimes(t *testing.T, s InsightsStore) {
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i, tc := range []struct {
		wait  time.Duration // 0: no reply yet
		reply time.Duration // when the reply came, after base
	}{
		{2 * time.Minute, 10 * time.Minute},
		{30 * time.Second, 30 * time.Minute},
		{0, 0},
		{5*time.Minute + time.Nanosecond, 20 * time.Minute},
		{time.Hour, 5 * time.Minute}, // the oldest reply
	} {
		conv := fmt.Sprint("con_", i)
		_, err := s.UpdateTicket(ctx, conv, func(tk *handoff.Ticket) error {
			tk.ID, tk.Status = fmt.Sprint("tkt_", i), handoff.StatusQueued
			if tc.wait > 0 {
				tk.FirstReplyAt = base.Add(tc.reply)
				tk.Created = tk.FirstReplyAt.Add(-tc.wait)
			} else {
				tk.Created = base
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FirstReplyTimes(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{30 * time.Second, 5*time.Minute + time.Nanosecond, 2 * time.Minute}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the 3 latest first-reply times %v, want %v (newest reply first)", got, want)
	}
	if all, err := s.FirstReplyTimes(ctx, 50); err != nil || len(all) != 4 || all[3] != time.Hour {
		t.Errorf("all first-reply times %v, %v; want 4, the hour last", all, err)
	}
}

func linkCodes(t *testing.T, s InsightsStore) {
	if err := s.SaveCustomer(ctx, &bot.Customer{ID: "cus_1"}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	old := bot.LinkCode{CustomerID: "cus_1", Expires: now.Add(-time.Hour)}
	if err := s.PutLinkCode(ctx, "h_old", old); err != nil {
		t.Fatal(err)
	}
	code := bot.LinkCode{CustomerID: "cus_1", Expires: now.Add(bot.LinkCodeTTL)}
	if err := s.PutLinkCode(ctx, "h_new", code); err != nil {
		t.Fatal(err)
	}
	// Long expired, h_old was dropped when h_new was stored.
	if _, err := s.TakeLinkCode(ctx, "h_old"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a long expired code: %v, want ErrNotFound", err)
	}
	// Of concurrent takes of one code, one gets it.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []bot.LinkCode
	for range 8 {
		wg.Go(func() {
			c, err := s.TakeLinkCode(ctx, "h_new")
			switch {
			case err == nil:
				mu.Lock()
				got = append(got, c)
				mu.Unlock()
			case !errors.Is(err, bot.ErrNotFound):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(got) != 1 || got[0].CustomerID != "cus_1" || !got[0].Expires.Equal(code.Expires) {
		t.Errorf("concurrent takes got %+v, want the code once", got)
	}
	if _, err := s.TakeLinkCode(ctx, "h_unknown"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("unknown code: %v", err)
	}
}

func channelLinks(t *testing.T, s InsightsStore) {
	if got, err := s.ChannelLinks(ctx); err != nil || len(got) != 0 {
		t.Errorf("links at first: %v, %v", got, err)
	}
	for ch, p := range map[bot.Channel]string{bot.Telegram: "https://t.me/shop_bot?start=", bot.Web: "https://shop.example/link?c="} {
		if err := s.SetChannelLink(ctx, ch, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetChannelLink(ctx, bot.Telegram, "https://t.me/other_bot?start="); err != nil {
		t.Fatal(err)
	}
	if err := s.SetChannelLink(ctx, bot.Web, ""); err != nil {
		t.Fatal(err)
	}
	got, err := s.ChannelLinks(ctx)
	want := map[bot.Channel]string{bot.Telegram: "https://t.me/other_bot?start="}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("links %v (%v), want %v", got, err, want)
	}
}

// Appending keeps the conversation's preview for the inbox: the newest
// message between the customer and the bot or a person.
func lastMessage(t *testing.T, s InsightsStore) {
	if err := s.SaveConversation(ctx, &bot.Conversation{ID: "con_1", CustomerID: "cus_1", Channel: bot.Web}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, m := range []bot.Message{
		{From: bot.FromCustomer, Text: "Where is\n my   parcel?", Time: at},
		{From: bot.FromSystem, Text: "You're number 1 in the queue.", Time: at.Add(time.Second)},
		{From: bot.FromAgent, Text: "private note", Internal: true, Time: at.Add(2 * time.Second)},
	} {
		m.ConversationID = "con_1"
		if _, _, err := s.Append(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.Conversation(ctx, "con_1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Last == nil || c.Last.From != bot.FromCustomer || c.Last.Text != "Where is my parcel?" || !c.Last.Time.Equal(at) {
		t.Errorf("last message %+v, want the customer's question (notes and notices do not count)", c.Last)
	}
}
