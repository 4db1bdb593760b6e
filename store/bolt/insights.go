package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// EachConversation calls fn with every conversation updated at or after
// since and its whole transcript (agents' private notes included), in one
// read transaction: a consistent snapshot. It serves the insights
// (insights.Source), which read what happened over a period; fn must not
// wait for an act.
func (db *DB) EachConversation(ctx context.Context, since time.Time, fn func(c bot.Conversation, ms []bot.Message) error) error {
	return db.view(ctx, func(btx *bbolt.Tx) error {
		tx := &Tx{btx: btx, m: db.memos}
		return btx.Bucket(bucketConversations).ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var c bot.Conversation
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode conversation %s: %w", k, err)
			}
			if c.Updated.Before(since) {
				return nil
			}
			ms, err := tx.Messages(c.ID, 0, 0)
			if err != nil {
				return err
			}
			return fn(c, ms)
		})
	})
}
