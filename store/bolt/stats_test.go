package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/stats"
)

// seedConversation stores a conversation and its messages in one act, as
// the engine's acts would, the times given as "15:04:05" on day.
func seedConversation(t *testing.T, db *DB, id, day string, ms []bot.Message, times ...string) {
	t.Helper()
	at := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04:05", day+" "+s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	err := db.Update(context.Background(), func(tx bot.Tx) error {
		c, err := tx.Conversation(id)
		if err == bot.ErrNotFound {
			c = &bot.Conversation{ID: id, CustomerID: "cus_" + id, Channel: bot.Web, State: bot.StateBot, Created: at(times[0])}
		} else if err != nil {
			return err
		}
		for i, m := range ms {
			m.ConversationID, m.Seq, m.Time = id, c.LastSeq+1, at(times[i])
			if err := tx.PutMessage(m); err != nil {
				return err
			}
			c.LastSeq, c.Updated = m.Seq, m.Time
		}
		c.Rev++
		return tx.PutConversation(c)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func cust(text, payload string) bot.Message {
	return bot.Message{From: bot.FromCustomer, Text: text, Payload: payload}
}

func botSays(kind bot.DecisionKind, reason, article string) bot.Message {
	return bot.Message{From: bot.FromBot, Text: "…", Decision: &bot.Decision{Kind: kind, Reason: reason, ArticleID: article}}
}

func TestStatsEqualHandCountedFigures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "frontdesk.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const d1, d2 = "2026-11-02", "2026-11-03"
	// A: answered, helpful: the bot finished it.
	seedConversation(t, db, "A", d1, []bot.Message{
		cust("how long is delivery", ""), botSays(bot.DecisionAnswer, "confident", "delivery-times"),
		botSays(bot.DecisionFeedback, "ask_helpful", "delivery-times"), cust("Yes", bot.PayloadHelpfulYes),
	}, "09:00:00", "09:00:01", "09:00:01", "09:00:30")
	// B: not understood, a person asked for, joins after 120 s, replies
	// after 180 s, resolves; the customer rates 4.
	seedConversation(t, db, "B", d1, []bot.Message{
		cust("lamp rental?", ""), botSays(bot.DecisionNoAnswer, "low_confidence", ""),
		cust("Talk to a person", bot.PayloadHuman), botSays(bot.DecisionHandoff, "requested", ""),
		{From: bot.FromSystem, Text: "Ana from our team has joined the conversation."},
		{From: bot.FromAgent, Text: "Hello, Ana here.", Agent: "agt_ana"},
		botSays(bot.DecisionSurvey, "resolved", ""), cust("4", "survey:4"),
		botSays(bot.DecisionFeedback, "followup", ""), cust("Yes, it did", bot.PayloadFollowupSolved),
	}, "10:00:00", "10:00:01", "10:01:00", "10:01:00", "10:03:00", "10:04:00", "10:10:00", "10:11:00", "12:10:00", "12:11:00")
	// C: answered, not helpful, frustrated: a person replies after 600 s
	// without a join notice first (a private note does not count).
	seedConversation(t, db, "C", d1, []bot.Message{
		cust("return a lamp", ""), botSays(bot.DecisionAnswer, "confident", "returns"),
		botSays(bot.DecisionFeedback, "ask_helpful", "returns"), cust("No", bot.PayloadHelpfulNo),
		cust("this is useless", ""), botSays(bot.DecisionHandoff, "frustration", ""),
		{From: bot.FromAgent, Text: "note", Internal: true},
		{From: bot.FromAgent, Text: "Sorry! Let me help."},
	}, "14:00:00", "14:00:01", "14:00:01", "14:01:00", "14:02:00", "14:02:00", "14:05:00", "14:12:00")
	// D, the next day: answered, helpful.
	seedConversation(t, db, "D", d2, []bot.Message{
		cust("delivery time?", ""), botSays(bot.DecisionAnswer, "confident", "delivery-times"),
		botSays(bot.DecisionFeedback, "ask_helpful", "delivery-times"), cust("Yes", bot.PayloadHelpfulYes),
	}, "08:00:00", "08:00:01", "08:00:01", "08:00:20")
	// A greeting nobody answered is no conversation.
	seedConversation(t, db, "E", d2, []bot.Message{botSays(bot.DecisionSmalltalk, "greeting", "")}, "11:00:00")

	ctx := context.Background()
	from, _ := time.Parse(stats.DayLayout, d1)
	to, _ := time.Parse(stats.DayLayout, d2)
	summary := func() stats.Summary {
		t.Helper()
		days, err := db.Stats(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return stats.Summarize(days, from, to)
	}
	s := summary()
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("conversations", s.Conversations, 4)
	check("deflected", s.Deflected, 2)
	check("deflection rate", s.DeflectionRate, 0.5)
	check("hand-offs requested", s.Handoffs["requested"], 1)
	check("hand-offs for frustration", s.Handoffs["frustration"], 1)
	check("wait", s.Wait, stats.Durations{Count: 2, P50: 120, P90: 600})
	check("first response", s.FirstResponse, stats.Durations{Count: 2, P50: 180, P90: 600})
	check("survey", s.Survey, stats.Survey{Count: 1, Average: 4})
	check("helpfulness", len(s.Helpfulness), 2)
	check("delivery-times helpful", s.Helpfulness[0], stats.Helpfulness{ArticleID: "delivery-times", Yes: 2, No: 0, Rate: 1})
	check("returns helpful", s.Helpfulness[1], stats.Helpfulness{ArticleID: "returns", Yes: 0, No: 1, Rate: 0})
	check("hours", s.Hours, [24]int{8: 2, 9: 2, 10: 3, 12: 1, 14: 3})
	check("follow-ups", s.Followups, stats.Followups{Sent: 1, Solved: 1})
	check("days", len(s.Days), 2)
	check("day 1", s.Days[0].Conversations*10+s.Days[0].Handoffs, 32)
	check("day 2 deflection", s.Days[1].DeflectionRate, 1.0)

	// D is handed off later the same day: rolled up again, it replaces its
	// old contribution instead of adding to it.
	seedConversation(t, db, "D", d2, []bot.Message{
		cust("a person please", ""), botSays(bot.DecisionHandoff, "requested", ""),
		{From: bot.FromSystem, Text: "Bo from our team has joined the conversation."},
	}, "09:00:00", "09:00:00", "09:01:00")
	s = summary()
	check("conversations after D changed", s.Conversations, 4)
	check("deflected after D changed", s.Deflected, 1)
	check("hand-offs requested after D changed", s.Handoffs["requested"], 2)
	check("wait after D changed", s.Wait, stats.Durations{Count: 3, P50: 120, P90: 600})
	check("hours after D changed", s.Hours[9], 3)

	// The rollups survive a restart, and a period outside them is empty.
	db.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check("conversations after a restart", summary().Conversations, 4)
	empty, err := db.Stats(ctx, to.AddDate(0, 0, 1), to.AddDate(0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	check("days after the data", len(empty), 0)
}

// TestForgetLeavesOnlyTheDayTotals: erasing a customer removes their
// conversations' records of the dashboard, and the days keep the counts.
func TestForgetLeavesOnlyTheDayTotals(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Update(ctx, func(tx bot.Tx) error { return tx.PutCustomer(&bot.Customer{ID: "cus_F"}) }); err != nil {
		t.Fatal(err)
	}
	seedConversation(t, db, "F", "2026-11-02", []bot.Message{cust("hello there", "")}, "09:00:00")
	day, _ := time.Parse(stats.DayLayout, "2026-11-02")
	if _, err := db.Stats(ctx, day, day); err != nil {
		t.Fatal(err)
	}
	// A follow-up scheduled, then the customer is forgotten.
	err = db.Update(ctx, func(tx bot.Tx) error {
		c, err := tx.Conversation("F")
		if err != nil {
			return err
		}
		c.Followup, c.FollowupAt = bot.FollowupScheduled, day
		return tx.PutConversation(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ForgetCustomer(ctx, "cus_F"); err != nil {
		t.Fatal(err)
	}
	err = db.view(ctx, func(btx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketStatsConvs, bucketStatsDirty, bucketFollowups} {
			if v := btx.Bucket(name).Get([]byte("F")); v != nil {
				t.Errorf("%s still holds the erased conversation", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	days, err := db.Stats(ctx, day, day)
	if err != nil {
		t.Fatal(err)
	}
	if days["2026-11-02"].Conversations != 1 {
		t.Errorf("day totals %+v, want the erased conversation still counted", days)
	}
}

// Rollups running while acts change the conversations leave totals equal
// to the contributions of the conversations as they end up: a
// conversation changed between a rollup's reading and its writing is
// rolled up again, never lost or counted twice.
func TestRollupsDuringActsAddUp(t *testing.T) {
	db := open(t, tempPath(t))
	ctx := context.Background()
	day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
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
			if err := db.Rollup(ctx); err != nil {
				t.Error(err)
			}
			n++
		}
	}()
	var wg sync.WaitGroup
	for i := range convs {
		id := fmt.Sprint("con_", i)
		wg.Go(func() {
			for turn := range turns {
				err := db.Update(ctx, func(tx bot.Tx) error {
					c, err := tx.Conversation(id)
					if errors.Is(err, bot.ErrNotFound) {
						c = &bot.Conversation{ID: id, CustomerID: "cus_" + id, Channel: bot.Web, State: bot.StateBot, Created: day}
					} else if err != nil {
						return err
					}
					at := day.Add(time.Duration(turn) * time.Hour)
					for _, m := range []bot.Message{cust("how long is delivery", ""), botSays(bot.DecisionAnswer, "confident", "delivery-times"),
						botSays(bot.DecisionFeedback, "ask_helpful", "delivery-times"), cust("Yes", bot.PayloadHelpfulYes)} {
						m.ConversationID, m.Seq, m.Time = id, c.LastSeq+1, at
						if err := tx.PutMessage(m); err != nil {
							return err
						}
						c.LastSeq, c.Updated = m.Seq, at
					}
					c.Rev++
					return tx.PutConversation(c)
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
	got, err := db.Stats(ctx, day, day.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]stats.Day{}
	for i := range convs {
		id := fmt.Sprint("con_", i)
		c, err := db.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := db.Messages(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		for k, d := range stats.Contribution(*c, ms) {
			w := want[k]
			w.Add(d)
			want[k] = w
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("totals after rollups beside the acts:\n got %+v\nwant %+v", got, want)
	}
}

// A conversation changed between a rollup's reading and its writing keeps
// its mark: the next rollup counts the change.
func TestAChangeDuringARollupIsRolledUpNextTime(t *testing.T) {
	db := open(t, tempPath(t))
	ctx := context.Background()
	const day = "2026-11-02"
	seedConversation(t, db, "A", day, []bot.Message{
		cust("how long is delivery", ""), botSays(bot.DecisionAnswer, "confident", "delivery-times"),
	}, "09:00:00", "09:00:01")
	once := sync.Once{}
	db.betweenRollup = func() {
		once.Do(func() {
			seedConversation(t, db, "A", day, []bot.Message{
				cust("a person please", ""), botSays(bot.DecisionHandoff, "requested", ""),
			}, "09:01:00", "09:01:00")
		})
	}
	if err := db.Rollup(ctx); err != nil {
		t.Fatal(err)
	}
	db.betweenRollup = nil
	from, _ := time.Parse(stats.DayLayout, day)
	days, err := db.Stats(ctx, from, from)
	if err != nil {
		t.Fatal(err)
	}
	if s := stats.Summarize(days, from, from); s.Conversations != 1 || s.Handoffs["requested"] != 1 {
		t.Errorf("%d conversations, %d requested hand-offs; want 1 and the hand-off made during the rollup", s.Conversations, s.Handoffs["requested"])
	}
}
