package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/adapters/telegram"
	"github.com/frontdesk/frontdesk/bot"
)

// TelegramStore serves the Telegram channel's delivery state (the
// adapters/telegram Store), with store/bolt's semantics: the offset, the
// recently handled updates, each conversation's chat and cursor, the
// outbox of requests to send, and the chats that blocked the bot.
type TelegramStore struct{ db *DB }

var _ telegram.Store = TelegramStore{}

// updatesKept is how many handled update ids are remembered for dedupe.
const updatesKept = 10000

// TelegramOffset returns the next getUpdates offset, 0 at first.
func (s TelegramStore) TelegramOffset(ctx context.Context) (int64, error) {
	var off int64
	err := s.db.read(ctx, func(tx *Tx) error {
		err := tx.q.QueryRow(ctx, "SELECT value FROM telegram_state WHERE name = 'offset'").Scan(&off)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	return off, err
}

// TelegramSeen reports whether the update was handled already.
func (s TelegramStore) TelegramSeen(ctx context.Context, updateID int64) (bool, error) {
	var seen bool
	err := s.db.read(ctx, func(tx *Tx) error {
		return tx.q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM telegram_updates WHERE update_id = $1)", updateID).Scan(&seen)
	})
	return seen, err
}

// TelegramDone records the update as handled, moves the offset past it
// and queues the outbound requests, in one transaction.
func (s TelegramStore) TelegramDone(ctx context.Context, updateID int64, out [][]byte) error {
	return s.db.update(ctx, func(tx *Tx) error {
		b := &pgx.Batch{}
		b.Queue("INSERT INTO telegram_updates (update_id) VALUES ($1) ON CONFLICT DO NOTHING", updateID)
		b.Queue("DELETE FROM telegram_updates WHERE update_id < $1", updateID-updatesKept)
		b.Queue(`INSERT INTO telegram_state (name, value) VALUES ('offset', $1)
			ON CONFLICT (name) DO UPDATE SET value = greatest(telegram_state.value, EXCLUDED.value)`, updateID+1)
		queueOut(b, out)
		return tx.q.(batcher).SendBatch(ctx, b).Close()
	})
}

func queueOut(b *pgx.Batch, out [][]byte) {
	for _, data := range out {
		b.Queue("INSERT INTO telegram_outbox (data) VALUES ($1)", data)
	}
}

// TelegramTrack records that the conversation is delivered to the chat
// and returns its cursor (0 for a new one).
func (s TelegramStore) TelegramTrack(ctx context.Context, conversationID string, chatID int64) (int64, error) {
	var cursor int64
	err := s.db.update(ctx, func(tx *Tx) error {
		return tx.q.QueryRow(ctx, `INSERT INTO telegram_chats (conversation_id, chat_id, cursor) VALUES ($1, $2, 0)
			ON CONFLICT (conversation_id) DO UPDATE SET chat_id = EXCLUDED.chat_id
			RETURNING cursor`, conversationID, chatID).Scan(&cursor)
	})
	return cursor, err
}

// TelegramChat returns the chat a conversation is delivered to and its
// cursor, or bot.ErrNotFound when the conversation is not tracked.
func (s TelegramStore) TelegramChat(ctx context.Context, conversationID string) (chatID, cursor int64, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		err := tx.q.QueryRow(ctx, "SELECT chat_id, cursor FROM telegram_chats WHERE conversation_id = $1", conversationID).Scan(&chatID, &cursor)
		if errors.Is(err, pgx.ErrNoRows) {
			return bot.ErrNotFound
		}
		return err
	})
	return chatID, cursor, err
}

// TelegramChats calls fn for every tracked conversation, in conversation
// id order. It reads them all first, so fn may use the store.
func (s TelegramStore) TelegramChats(ctx context.Context, fn func(conversationID string, chatID, cursor int64) error) error {
	type chat struct {
		conv           string
		chatID, cursor int64
	}
	var chats []chat
	err := s.db.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, `SELECT conversation_id, chat_id, cursor FROM telegram_chats ORDER BY conversation_id COLLATE "C"`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c chat
			if err := rows.Scan(&c.conv, &c.chatID, &c.cursor); err != nil {
				return err
			}
			chats = append(chats, c)
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	for _, c := range chats {
		if err := fn(c.conv, c.chatID, c.cursor); err != nil {
			return err
		}
	}
	return nil
}

// TelegramQueue moves a tracked conversation's cursor forward to cursor
// and queues the outbound requests, in one transaction: every message is
// queued once, whichever node queues it.
func (s TelegramStore) TelegramQueue(ctx context.Context, conversationID string, cursor int64, out [][]byte) error {
	return s.db.update(ctx, func(tx *Tx) error {
		var cur int64
		err := tx.q.QueryRow(ctx, "SELECT cursor FROM telegram_chats WHERE conversation_id = $1 FOR UPDATE", conversationID).Scan(&cur)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("telegram conversation %s is not tracked", conversationID)
		case err != nil:
			return err
		case cur >= cursor:
			return fmt.Errorf("telegram conversation %s: cursor %d would not move forward", conversationID, cursor)
		}
		b := &pgx.Batch{}
		b.Queue("UPDATE telegram_chats SET cursor = $2 WHERE conversation_id = $1", conversationID, cursor)
		queueOut(b, out)
		return tx.q.(batcher).SendBatch(ctx, b).Close()
	})
}

// TelegramOutbox calls fn for every queued outbound request, oldest
// first. It reads the outbox first, so fn may use the store.
func (s TelegramStore) TelegramOutbox(ctx context.Context, fn func(id uint64, data []byte) error) error {
	type entry struct {
		id   int64
		data []byte
	}
	var queued []entry
	err := s.db.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, "SELECT id, data FROM telegram_outbox ORDER BY id")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e entry
			if err := rows.Scan(&e.id, &e.data); err != nil {
				return err
			}
			queued = append(queued, e)
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	for _, e := range queued {
		if err := fn(uint64(e.id), e.data); err != nil {
			return err
		}
	}
	return nil
}

// TelegramSent removes delivered (or abandoned) requests from the outbox.
func (s TelegramStore) TelegramSent(ctx context.Context, ids ...uint64) error {
	list := make([]int64, len(ids))
	for i, id := range ids {
		list[i] = int64(id)
	}
	return s.db.update(ctx, func(tx *Tx) error {
		_, err := tx.q.Exec(ctx, "DELETE FROM telegram_outbox WHERE id = ANY($1)", list)
		return err
	})
}

// TelegramSetBlocked records whether a chat blocked the bot.
func (s TelegramStore) TelegramSetBlocked(ctx context.Context, chatID int64, blocked bool) error {
	return s.db.update(ctx, func(tx *Tx) error {
		var err error
		if blocked {
			_, err = tx.q.Exec(ctx, "INSERT INTO telegram_blocked (chat_id) VALUES ($1) ON CONFLICT DO NOTHING", chatID)
		} else {
			_, err = tx.q.Exec(ctx, "DELETE FROM telegram_blocked WHERE chat_id = $1", chatID)
		}
		return err
	})
}

// TelegramBlocked reports whether a chat blocked the bot.
func (s TelegramStore) TelegramBlocked(ctx context.Context, chatID int64) (bool, error) {
	var blocked bool
	err := s.db.read(ctx, func(tx *Tx) error {
		return tx.q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM telegram_blocked WHERE chat_id = $1)", chatID).Scan(&blocked)
	})
	return blocked, err
}
