package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/stats"
)

// The daily rollups of the dashboard over time (package stats).
//
// Every act that stores a conversation marks it in bucketStatsDirty, in
// the act's own transaction; Rollup later computes each marked
// conversation's contribution to each day from its transcript, replaces
// its previous contribution (bucketStatsConvs) in the day totals
// (bucketStatsDays) and clears the mark, all in one transaction. So the
// totals always equal the sum of the contributions, and a request for
// figures reads a few day records, never messages.
var (
	bucketStatsDays  = []byte("stats_days")  // day (stats.DayLayout) -> JSON stats.Day
	bucketStatsConvs = []byte("stats_convs") // conversation id -> JSON stats.Days, its contribution
	bucketStatsDirty = []byte("stats_dirty") // conversation id -> "" (changed since its last rollup)
)

func createStats(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketStatsDays, bucketStatsConvs, bucketStatsDirty, bucketFollowups} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	// Every existing conversation is rolled up once.
	dirty := tx.Bucket(bucketStatsDirty)
	return tx.Bucket(bucketConversations).ForEach(func(k, _ []byte) error { return dirty.Put(k, nil) })
}

// markStatsDirty records, in the act's transaction, that the
// conversation's figures must be rolled up again.
func markStatsDirty(btx *bbolt.Tx, conversationID string) error {
	b := btx.Bucket(bucketStatsDirty)
	if b == nil {
		return nil // a file being migrated
	}
	// A conversation already marked stays marked: putting the mark again
	// would rewrite its page in every act for nothing (the rollup tells a
	// changed conversation by its revision, not by the mark).
	key := []byte(conversationID)
	if k, _ := b.Cursor().Seek(key); bytes.Equal(k, key) {
		return nil
	}
	return b.Put(key, nil)
}

// Rollup brings the daily totals up to date with every conversation
// changed since the last rollup, a bounded batch at a time. When it
// returns nil, the totals include every act committed before it was
// called.
//
// The transcripts are read and the contributions computed in a read
// transaction, beside the acts; only the short write of the totals goes
// through the commit loop, where reading every changed conversation's
// messages held up every act (12% of the server's CPU at a peak, all of
// it in the loop). A conversation changed between the two keeps its mark
// and is rolled up again next time; the totals stay the sum of the
// contributions written.
func (db *DB) Rollup(ctx context.Context) error {
	read := func(after string) ([]stats.Rolled, bool, error) { return db.readRollup(ctx, after) }
	write := func(batch []stats.Rolled) error {
		return db.update(ctx, func(btx *bbolt.Tx) error { return writeRollup(btx, db.memos, batch) })
	}
	return stats.RollUp(read, write, db.betweenRollup)
}

// writeRollup replaces the batch's contributions in the day totals and
// clears the marks of the conversations unchanged since they were read.
func writeRollup(btx *bbolt.Tx, m *memos, batch []stats.Rolled) error {
	dirty := btx.Bucket(bucketStatsDirty)
	tx := &Tx{btx: btx, m: m}
	for _, r := range batch {
		c, err := tx.Conversation(r.ID)
		if err != nil && !errors.Is(err, bot.ErrNotFound) {
			return err
		}
		if r.Gone {
			if err := btx.Bucket(bucketStatsConvs).Delete([]byte(r.ID)); err != nil {
				return err
			}
		} else if err := replaceContribution(btx, r.ID, r.Next); err != nil {
			return fmt.Errorf("%s: %w", r.ID, err)
		}
		if unchanged := (c == nil) == r.Gone && (c == nil || c.Rev == r.Rev && c.LastSeq == r.Seq); unchanged {
			if err := dirty.Delete([]byte(r.ID)); err != nil {
				return err
			}
		}
	}
	return nil
}

// readRollup computes the contributions of up to stats.MaxRollup marked
// conversations after the id after; more says whether others follow.
func (db *DB) readRollup(ctx context.Context, after string) (batch []stats.Rolled, more bool, err error) {
	err = db.view(ctx, func(btx *bbolt.Tx) error {
		batch, more = nil, false
		tx := &Tx{btx: btx, m: db.memos}
		cur := btx.Bucket(bucketStatsDirty).Cursor()
		k, _ := cur.Seek([]byte(after))
		if k != nil && after != "" && string(k) == after {
			k, _ = cur.Next()
		}
		for ; k != nil; k, _ = cur.Next() {
			if len(batch) == stats.MaxRollup {
				more = true
				break
			}
			r := stats.Rolled{ID: string(k)}
			c, err := tx.Conversation(r.ID)
			switch {
			case errors.Is(err, bot.ErrNotFound):
				r.Gone = true
			case err != nil:
				return err
			default:
				ms, err := tx.Messages(r.ID, 0, 0)
				if err != nil {
					return err
				}
				r.Rev, r.Seq, r.Next = c.Rev, c.LastSeq, stats.Contribution(*c, ms)
			}
			batch = append(batch, r)
		}
		return nil
	})
	return batch, more, err
}

// replaceContribution replaces the conversation's contribution to the day
// totals with next. A conversation that no longer exists (erased) leaves
// its contribution in the totals, which are anonymous counts, and only
// its record goes (see Rollup).
func replaceContribution(btx *bbolt.Tx, id string, next stats.Days) error {
	convs := btx.Bucket(bucketStatsConvs)
	days := btx.Bucket(bucketStatsDays)
	var prev stats.Days
	if v := convs.Get([]byte(id)); v != nil {
		if err := json.Unmarshal(v, &prev); err != nil {
			return fmt.Errorf("decode contribution: %w", err)
		}
	}
	touched := map[string]bool{}
	for k := range prev {
		touched[k] = true
	}
	for k := range next {
		touched[k] = true
	}
	for k := range touched {
		var d stats.Day
		if v := days.Get([]byte(k)); v != nil {
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode day %s: %w", k, err)
			}
		}
		if p := prev[k]; p != nil {
			d.Sub(p)
		}
		if n := next[k]; n != nil {
			d.Add(n)
		}
		if d.Empty() {
			if err := days.Delete([]byte(k)); err != nil {
				return err
			}
			continue
		}
		if err := putJSON(days, k, d); err != nil {
			return err
		}
	}
	if len(next) == 0 {
		return convs.Delete([]byte(id))
	}
	return putJSON(convs, id, next)
}

// forgetInsights deletes an erased conversation's records of the
// dashboard and its scheduled follow-up. What it added to the day totals
// stays: anonymous counts, like the tallies.
func forgetInsights(btx *bbolt.Tx, id []byte) error {
	for _, name := range [][]byte{bucketStatsConvs, bucketStatsDirty, bucketFollowups} {
		if b := btx.Bucket(name); b != nil {
			if err := b.Delete(id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stats rolls up what changed and returns the daily totals from from to
// to (UTC days, both included).
func (db *DB) Stats(ctx context.Context, from, to time.Time) (map[string]stats.Day, error) {
	if err := db.Rollup(ctx); err != nil {
		return nil, err
	}
	out := map[string]stats.Day{}
	lo, hi := []byte(from.UTC().Format(stats.DayLayout)), []byte(to.UTC().Format(stats.DayLayout))
	err := db.view(ctx, func(btx *bbolt.Tx) error {
		cur := btx.Bucket(bucketStatsDays).Cursor()
		for k, v := cur.Seek(lo); k != nil && string(k) <= string(hi); k, v = cur.Next() {
			var d stats.Day
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode day %s: %w", k, err)
			}
			out[string(k)] = d
		}
		return nil
	})
	return out, err
}
