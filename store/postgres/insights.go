package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/bot"
)

// eachPage is how many conversations EachConversation reads at a time.
const eachPage = 200

// EachConversation calls fn with every conversation updated at or after
// since and its whole transcript (agents' private notes included), in id
// order, in one read transaction: a consistent snapshot. It serves the
// insights (insights.Source), which read what happened over a period; fn
// must not wait for an act.
func (db *DB) EachConversation(ctx context.Context, since time.Time, fn func(c bot.Conversation, ms []bot.Message) error) error {
	// The column is exact for what this build stored and to the
	// microsecond for what the migration filled in: read a microsecond
	// more, then compare the times themselves.
	lo := nanos(since)
	if lo > math.MinInt64+1000 {
		lo -= 1000
	}
	return db.view(ctx, func(tx *Tx) error {
		// One scan finds them (updated is not indexed: an index on it
		// would cost every act a non-HOT update and other acts false
		// serialization conflicts); then pages of them are read whole.
		rows, err := tx.q.Query(ctx, `SELECT id FROM conversations WHERE updated >= $1 ORDER BY id COLLATE "C"`, lo)
		if err != nil {
			return fmt.Errorf("read conversations: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("read conversations: %w", err)
		}
		for len(ids) > 0 {
			page := ids[:min(eachPage, len(ids))]
			ids = ids[len(page):]
			convs, err := listJSON[bot.Conversation](tx, "conversations",
				`SELECT data FROM conversations WHERE id = ANY($1) ORDER BY id COLLATE "C"`, page)
			if err != nil {
				return err
			}
			keep := convs[:0]
			for _, c := range convs {
				if !c.Updated.Before(since) {
					keep = append(keep, c)
				}
			}
			wanted := make([]string, len(keep))
			for i, c := range keep {
				wanted[i] = c.ID
			}
			msgs, err := tx.messagesOf(wanted)
			if err != nil {
				return fmt.Errorf("read transcripts: %w", err)
			}
			for _, c := range keep {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := fn(c, msgs[c.ID]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
