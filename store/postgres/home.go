package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// nanosOrNull is t as nanos, or NULL for the zero time.
func nanosOrNull(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := nanos(t)
	return &n
}

// TopicCounts returns, for each article, how many customers have it
// among their recent topics (bot.Customer.Topics): what customers ask
// about, for the widget's first screen. It reads every customer's topics
// in one statement; callers cache it.
func (db *DB) TopicCounts(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	err := db.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, `SELECT coalesce(t->>'article_id', ''), count(*)
			FROM customers, jsonb_array_elements(CASE jsonb_typeof(data->'topics') WHEN 'array' THEN data->'topics' ELSE '[]' END) AS t
			GROUP BY 1`)
		if err != nil {
			return err
		}
		var id string
		var n int
		_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error { counts[id] += n; return nil })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("count topics: %w", err)
	}
	return counts, nil
}

// FirstReplyTimes returns how long customers waited for a person's first
// reply (from the hand-off to the reply) on the n tickets most recently
// answered, newest first, read from the index of first replies; callers
// cache it.
func (db *DB) FirstReplyTimes(ctx context.Context, n int) ([]time.Duration, error) {
	if n <= 0 {
		return []time.Duration{}, nil
	}
	out := []time.Duration{}
	err := db.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, `SELECT least(first_reply::numeric - created, 9223372036854775807)::bigint FROM tickets
			WHERE first_reply IS NOT NULL AND created IS NOT NULL AND first_reply > created
			ORDER BY first_reply DESC, id COLLATE "C" LIMIT $1`, n)
		if err != nil {
			return err
		}
		var took int64
		_, err = pgx.ForEachRow(rows, []any{&took}, func() error { out = append(out, time.Duration(took)); return nil })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read first replies: %w", err)
	}
	return out, nil
}
