package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

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
		after := ""
		for {
			page, err := listJSON[bot.Conversation](tx, "conversations",
				`SELECT data FROM conversations WHERE updated >= $1 AND id COLLATE "C" > $2
				ORDER BY id COLLATE "C" LIMIT $3`, lo, after, eachPage)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				return nil
			}
			after = page[len(page)-1].ID
			ids := make([]string, 0, len(page))
			for _, c := range page {
				if !c.Updated.Before(since) {
					ids = append(ids, c.ID)
				}
			}
			msgs, err := tx.messagesOf(ids)
			if err != nil {
				return fmt.Errorf("read transcripts: %w", err)
			}
			for _, c := range page {
				if err := ctx.Err(); err != nil {
					return err
				}
				if c.Updated.Before(since) {
					continue
				}
				if err := fn(c, msgs[c.ID]); err != nil {
					return err
				}
			}
			if len(page) < eachPage {
				return nil
			}
		}
	})
}
