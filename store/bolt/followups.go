package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// bucketFollowups indexes the conversations whose follow-up is scheduled
// (bot.FollowupScheduled): conversation id -> due time (RFC 3339). It is
// kept by PutConversation, in the act that schedules, sends or cancels.
var bucketFollowups = []byte("followups") // conversation id -> due time

// indexFollowup keeps bucketFollowups in step with the conversation.
func indexFollowup(btx *bbolt.Tx, c *bot.Conversation) error {
	b := btx.Bucket(bucketFollowups)
	if b == nil {
		return nil // a file being migrated
	}
	if c.Followup == bot.FollowupScheduled {
		return b.Put([]byte(c.ID), []byte(c.FollowupAt.UTC().Format(time.RFC3339Nano)))
	}
	if b.Get([]byte(c.ID)) == nil {
		return nil
	}
	return b.Delete([]byte(c.ID))
}

// DueFollowups lists the conversations whose follow-up is scheduled at or
// before now (bot.DueFollowups).
func (db *DB) DueFollowups(ctx context.Context, now time.Time) ([]string, error) {
	var out []string
	err := db.view(ctx, func(btx *bbolt.Tx) error {
		return btx.Bucket(bucketFollowups).ForEach(func(k, v []byte) error {
			due, err := time.Parse(time.RFC3339Nano, string(v))
			if err == nil && !due.After(now) {
				out = append(out, string(k))
			}
			return nil
		})
	})
	return out, err
}
