package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// TopicCounts returns, for each article, how many customers have it
// among their recent topics (bot.Customer.Topics): what customers ask
// about, for the widget's first screen. It reads every customer in one
// read transaction; callers cache it.
func (db *DB) TopicCounts(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCustomers).ForEach(func(k, v []byte) error {
			var c struct {
				Topics []bot.Topic `json:"topics"`
			}
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode customer %q: %w", k, err)
			}
			for _, t := range c.Topics {
				counts[t.ArticleID]++
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("count topics: %w", err)
	}
	return counts, nil
}

// FirstReplyTimes returns how long customers waited for a person's first
// reply (from the hand-off to the reply) on the n tickets most recently
// answered, newest first. It reads every ticket in one read transaction;
// callers cache it.
func (db *DB) FirstReplyTimes(ctx context.Context, n int) ([]time.Duration, error) {
	type sample struct {
		at   time.Time
		took time.Duration
	}
	var all []sample
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketTickets).ForEach(func(k, v []byte) error {
			var t handoff.Ticket
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("decode ticket %q: %w", k, err)
			}
			if !t.FirstReplyAt.IsZero() && !t.Created.IsZero() && t.FirstReplyAt.After(t.Created) {
				all = append(all, sample{t.FirstReplyAt, t.FirstReplyAt.Sub(t.Created)})
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read first replies: %w", err)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].at.After(all[j].at) })
	if len(all) > n {
		all = all[:n]
	}
	out := make([]time.Duration, len(all))
	for i, s := range all {
		out[i] = s.took
	}
	return out, nil
}
