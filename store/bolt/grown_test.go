package bolt

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// turn is one customer turn as the bot commits it: the customer's
// message with its client id, the bot's answer, the conversation and
// the customer, whose recent topics the answer changes.
func turn(db *DB, convID, custID string, n int) error {
	return db.Update(ctx, func(tx bot.Tx) error {
		c, err := tx.Conversation(convID)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		for _, m := range []bot.Message{
			{From: bot.FromCustomer, Text: "where is my parcel, it should have come yesterday", ClientID: fmt.Sprintf("web-%s-%d", convID, n)},
			{From: bot.FromBot, Text: answerText},
		} {
			c.LastSeq++
			m.ConversationID, m.Seq, m.Time = convID, c.LastSeq, now
			if err := tx.PutMessage(m); err != nil {
				return err
			}
			bot.NoteMessage(c, m)
		}
		c.Rev++
		c.Updated = now
		if err := tx.PutConversation(c); err != nil {
			return err
		}
		cust, err := tx.Customer(custID)
		if err != nil {
			return err
		}
		cust.Topics = append([]bot.Topic{{ArticleID: fmt.Sprint("article-", n%40), Title: "Where is my order?", At: now}}, cust.Topics[:min(len(cust.Topics), 4)]...)
		return tx.PutCustomer(cust)
	})
}

// answerText is about as long as a demo article's answer.
var answerText = strings.Repeat("Your order ships within two working days; the tracking link is in your email. ", 11)

// BenchmarkTurnOnAGrownFile commits customer turns to random
// conversations of a file that already holds 3,000 conversations of 20
// turns, from 8 writers at once (the commit loop gathers their acts), and
// reports the pages each act writes: on a virtual disk a commit's flush
// costs by the number of scattered pages it writes.
func BenchmarkTurnOnAGrownFile(b *testing.B) {
	const convs, turns, writers = 3000, 20, 8
	db, c := openCounting(b)
	ids := make([]string, convs)
	for i := range ids {
		ids[i] = fmt.Sprint("con_", i)
		cust := &bot.Customer{ID: fmt.Sprint("cus_", i), Identities: []bot.Identity{{Channel: bot.Web, ID: fmt.Sprint("visitor-", i)}}}
		if err := db.SaveCustomer(ctx, cust); err != nil {
			b.Fatal(err)
		}
		if err := db.SaveConversation(ctx, &bot.Conversation{ID: ids[i], CustomerID: cust.ID, Channel: bot.Web, State: bot.StateBot}); err != nil {
			b.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for n := range turns {
				for i := w; i < convs; i += writers {
					if err := turn(db, ids[i], fmt.Sprint("cus_", i), n); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	pages0, acts0 := pagesWritten(db), c.acts.Load()
	n0 := c.n.Load()
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for k := next.Add(1); k <= int64(b.N); k = next.Add(1) {
				i := r.IntN(convs)
				if err := turn(db, ids[i], fmt.Sprint("cus_", i), turns+int(k)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	commits := c.n.Load() - n0
	acts := c.acts.Load() - acts0
	if acts > 0 {
		// One meta page a commit is not the act's.
		b.ReportMetric(float64(pagesWritten(db)-pages0-commits)/float64(acts), "pages/act")
		b.ReportMetric(float64(acts)/float64(commits), "acts/commit")
	}
}

// pagesWritten is how many pages the file's commits have written.
func pagesWritten(db *DB) int64 {
	st := db.bolt.Stats()
	return st.TxStats.GetWrite()
}
