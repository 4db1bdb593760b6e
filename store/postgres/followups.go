package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/bot"
)

// The table followups indexes the conversations whose follow-up is
// scheduled (bot.FollowupScheduled) by when it is due. PutConversation
// keeps it, in the act that schedules, sends or cancels.

var _ bot.DueFollowups = (*DB)(nil)

// queueFollowup queues, in the act that stores c, the statement that
// keeps c's row of followups in step with it.
func queueFollowup(b *pgx.Batch, c *bot.Conversation) {
	if c.Followup == bot.FollowupScheduled {
		b.Queue(`INSERT INTO followups (conversation_id, due) VALUES ($1, $2)
			ON CONFLICT (conversation_id) DO UPDATE SET due = EXCLUDED.due`, c.ID, nanos(c.FollowupAt))
		return
	}
	b.Queue("DELETE FROM followups WHERE conversation_id = $1", c.ID)
}

// DueFollowups lists the conversations whose follow-up is scheduled at or
// before now (bot.DueFollowups), in id order.
func (db *DB) DueFollowups(ctx context.Context, now time.Time) (out []string, err error) {
	err = db.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, "SELECT conversation_id FROM followups WHERE due <= $1 ORDER BY conversation_id", nanos(now))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, err
}
