package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/stats"
)

// The daily rollups of the dashboard over time (package stats), as
// store/bolt keeps them.
//
// Every act that stores a conversation marks it in stats_dirty, in the
// act's own transaction; Rollup later computes each marked conversation's
// contribution to each day from its transcript, replaces its previous
// contribution (stats_convs) in the day totals (stats_days) and clears
// the mark, all in one transaction. So the totals always equal the sum of
// the contributions, and a request for figures reads a few day rows,
// never messages. Erasing a conversation deletes its contribution and its
// mark (ON DELETE CASCADE); what it added to the day totals stays:
// anonymous counts.

// maxRollup bounds how many conversations one rollup transaction reads.
const maxRollup = 500

// indexConversation keeps, in the act that stores c, the rows that follow
// a conversation: its rollup mark and its scheduled follow-up.
func (tx *Tx) indexConversation(c *bot.Conversation) error {
	b := &pgx.Batch{}
	b.Queue("INSERT INTO stats_dirty (conversation_id) VALUES ($1) ON CONFLICT DO NOTHING", c.ID)
	queueFollowup(b, c)
	if err := tx.q.(batcher).SendBatch(tx.ctx, b).Close(); err != nil {
		return fmt.Errorf("save conversation %s: index: %w", c.ID, err)
	}
	return nil
}

// Rollup brings the daily totals up to date with every conversation
// changed since the last rollup, a bounded batch at a time. When it
// returns nil, the totals include every act committed before it was
// called (on any node).
//
// The transcripts are read and the contributions computed on a snapshot
// (a read-only transaction), beside the acts; only the short write of the
// totals is an act. A conversation changed between the two (its revision
// or last seq moved) keeps its mark and is rolled up again next time; the
// totals stay the sum of the contributions written. Rollups on several
// nodes at once are serialized by the database (the loser's write runs
// again on fresh totals).
func (db *DB) Rollup(ctx context.Context) error {
	read := func(after string) ([]stats.Rolled, bool, error) { return db.readRollup(ctx, after) }
	write := func(batch []stats.Rolled) error {
		return db.update(ctx, func(tx *Tx) error { return tx.writeRollup(batch) })
	}
	return stats.RollUp(read, write, db.betweenRollup)
}

// readRollup computes the contributions of up to stats.MaxRollup marked
// conversations after the id after; more says whether others follow.
func (db *DB) readRollup(ctx context.Context, after string) (batch []stats.Rolled, more bool, err error) {
	err = db.view(ctx, func(tx *Tx) error {
		batch, more = nil, false
		rows, err := tx.q.Query(ctx, `SELECT d.conversation_id, c.data FROM stats_dirty d LEFT JOIN conversations c ON c.id = d.conversation_id
			WHERE d.conversation_id > $1 ORDER BY d.conversation_id LIMIT $2`, after, stats.MaxRollup+1)
		if err != nil {
			return err
		}
		var convs []*bot.Conversation // nil for an erased one
		for rows.Next() {
			var id string
			var raw []byte
			if err := rows.Scan(&id, &raw); err != nil {
				rows.Close()
				return err
			}
			if len(batch) == stats.MaxRollup {
				more = true
				break
			}
			batch = append(batch, stats.Rolled{ID: id, Gone: raw == nil})
			var c *bot.Conversation
			if raw != nil {
				c = new(bot.Conversation)
				if err := json.Unmarshal(raw, c); err != nil {
					rows.Close()
					return fmt.Errorf("decode conversation %s: %w", id, err)
				}
			}
			convs = append(convs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids := make([]string, 0, len(batch))
		for i, r := range batch {
			if !r.Gone {
				ids = append(ids, convs[i].ID)
			}
		}
		msgs, err := tx.messagesOf(ids)
		if err != nil {
			return err
		}
		for i := range batch {
			if c := convs[i]; c != nil {
				batch[i].Rev, batch[i].Seq = c.Rev, c.LastSeq
				batch[i].Next = stats.Contribution(*c, msgs[c.ID])
			}
		}
		return nil
	})
	return batch, more, err
}

// messagesOf returns the whole logs of the conversations, by id.
func (tx *Tx) messagesOf(ids []string) (map[string][]bot.Message, error) {
	out := make(map[string][]bot.Message, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ms, err := listJSON[bot.Message](tx, "messages",
		"SELECT data FROM messages WHERE conversation_id = ANY($1) ORDER BY conversation_id, seq", ids)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		out[m.ConversationID] = append(out[m.ConversationID], m)
	}
	return out, nil
}

// writeRollup replaces the batch's contributions in the day totals and
// clears the marks of the conversations unchanged since they were read.
// A conversation erased since it was read is skipped: its records went
// with it.
func (tx *Tx) writeRollup(batch []stats.Rolled) error {
	ids := make([]string, len(batch))
	for i, r := range batch {
		ids[i] = r.ID
	}
	// The conversations are held until the commit: an act on one waits
	// rather than changing it between this check and the commit.
	type state struct{ rev, seq int64 }
	now := map[string]state{}
	rows, err := tx.q.Query(tx.ctx, `SELECT id, coalesce((data->>'rev')::bigint, 0), coalesce((data->>'last_seq')::bigint, 0)
		FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		var s state
		if err := rows.Scan(&id, &s.rev, &s.seq); err != nil {
			rows.Close()
			return err
		}
		now[id] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	prev, err := keyedJSON[stats.Days](tx, "contribution of",
		"SELECT conversation_id, days FROM stats_convs WHERE conversation_id = ANY($1) FOR UPDATE", ids)
	if err != nil {
		return err
	}
	// The days the batch touches, as they stand.
	touched := map[string]bool{}
	for _, r := range batch {
		if _, ok := now[r.ID]; !ok || r.Gone {
			continue
		}
		for k := range prev[r.ID] {
			touched[k] = true
		}
		for k := range r.Next {
			touched[k] = true
		}
	}
	keys := make([]string, 0, len(touched))
	for k := range touched {
		keys = append(keys, k)
	}
	days, err := keyedJSON[*stats.Day](tx, "day",
		"SELECT day, data FROM stats_days WHERE day = ANY($1) ORDER BY day FOR UPDATE", keys)
	if err != nil {
		return err
	}

	b := &pgx.Batch{}
	for _, r := range batch {
		s, ok := now[r.ID]
		if r.Gone || !ok {
			// Erased (when read, or since): its records went with it.
			continue
		}
		for k := range touched {
			p, n := prev[r.ID][k], r.Next[k]
			if p == nil && n == nil {
				continue
			}
			d := days[k]
			if d == nil {
				d = new(stats.Day)
				days[k] = d
			}
			if p != nil {
				d.Sub(p)
			}
			if n != nil {
				d.Add(n)
			}
		}
		if len(r.Next) == 0 {
			b.Queue("DELETE FROM stats_convs WHERE conversation_id = $1", r.ID)
		} else {
			data, err := json.Marshal(r.Next)
			if err != nil {
				return fmt.Errorf("encode contribution of %s: %w", r.ID, err)
			}
			b.Queue(`INSERT INTO stats_convs (conversation_id, days) VALUES ($1, $2)
				ON CONFLICT (conversation_id) DO UPDATE SET days = EXCLUDED.days`, r.ID, data)
		}
		if s.rev == r.Rev && s.seq == r.Seq {
			b.Queue("DELETE FROM stats_dirty WHERE conversation_id = $1", r.ID)
		}
	}
	for k := range touched {
		d := days[k]
		if d == nil || d.Empty() {
			b.Queue("DELETE FROM stats_days WHERE day = $1", k)
			continue
		}
		data, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode day %s: %w", k, err)
		}
		b.Queue(`INSERT INTO stats_days (day, data) VALUES ($1, $2)
			ON CONFLICT (day) DO UPDATE SET data = EXCLUDED.data`, k, data)
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.q.(batcher).SendBatch(tx.ctx, b).Close()
}

// Stats rolls up what changed and returns the daily totals from from to
// to (UTC days, both included).
func (db *DB) Stats(ctx context.Context, from, to time.Time) (map[string]stats.Day, error) {
	if err := db.Rollup(ctx); err != nil {
		return nil, err
	}
	out := map[string]stats.Day{}
	lo, hi := from.UTC().Format(stats.DayLayout), to.UTC().Format(stats.DayLayout)
	err := db.read(ctx, func(tx *Tx) error {
		days, err := keyedJSON[stats.Day](tx, "day", "SELECT day, data FROM stats_days WHERE day >= $1 AND day <= $2", lo, hi)
		if err == nil {
			out = days
		}
		return err
	})
	if err != nil && !errors.Is(err, bot.ErrClosed) {
		err = fmt.Errorf("read stats: %w", err)
	}
	return out, err
}
