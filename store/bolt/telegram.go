package bolt

import (
	"context"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// TelegramStore serves the Telegram channel's delivery state.
type TelegramStore struct{ db *DB }

// bucketTelegram holds the Telegram channel's delivery state, in nested
// buckets:
//
//	state    "offset" -> next getUpdates offset (8 bytes BE)
//	updates  update id (8 bytes BE) -> "" for handled updates (recent ones)
//	chats    conversation id -> chat id (8 bytes BE) + cursor (8 bytes BE):
//	         the last message seq already queued for the chat
//	outbox   sequence (8 bytes BE) -> opaque outbound request, in order
//	blocked  chat id (8 bytes BE) -> "" for chats that blocked the bot
var bucketTelegram = []byte("telegram")

var (
	tgState   = []byte("state")
	tgUpdates = []byte("updates")
	tgChats   = []byte("chats")
	tgOutbox  = []byte("outbox")
	tgBlocked = []byte("blocked")
)

// updatesKept is how many handled update ids are remembered for dedupe.
const updatesKept = 10000

func tgBucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	if tx.Writable() {
		return tx.Bucket(bucketTelegram).CreateBucketIfNotExists(name)
	}
	return tx.Bucket(bucketTelegram).Bucket(name), nil
}

// TelegramOffset returns the next getUpdates offset, 0 at first.
func (s TelegramStore) TelegramOffset(ctx context.Context) (int64, error) {
	var off int64
	err := s.db.view(ctx, func(tx *bbolt.Tx) error {
		if b, _ := tgBucket(tx, tgState); b != nil {
			if v := b.Get([]byte("offset")); len(v) == 8 {
				off = int64(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	})
	return off, err
}

// TelegramSeen reports whether the update was handled already.
func (s TelegramStore) TelegramSeen(ctx context.Context, updateID int64) (bool, error) {
	seen := false
	err := s.db.view(ctx, func(tx *bbolt.Tx) error {
		if b, _ := tgBucket(tx, tgUpdates); b != nil {
			seen = b.Get(u64(uint64(updateID))) != nil
		}
		return nil
	})
	return seen, err
}

// TelegramDone records the update as handled, moves the offset past it
// and queues the outbound requests, in one transaction: when it returns
// nil, a restart neither handles the update again nor loses its replies.
func (s TelegramStore) TelegramDone(ctx context.Context, updateID int64, out [][]byte) error {
	return s.db.update(ctx, func(tx *bbolt.Tx) error {
		ups, err := tgBucket(tx, tgUpdates)
		if err != nil {
			return err
		}
		if err := ups.Put(u64(uint64(updateID)), nil); err != nil {
			return err
		}
		cur := ups.Cursor()
		for k, _ := cur.First(); k != nil && int64(binary.BigEndian.Uint64(k)) < updateID-updatesKept; k, _ = cur.Next() {
			if err := cur.Delete(); err != nil {
				return err
			}
		}
		st, err := tgBucket(tx, tgState)
		if err != nil {
			return err
		}
		if v := st.Get([]byte("offset")); len(v) != 8 || int64(binary.BigEndian.Uint64(v)) <= updateID {
			if err := st.Put([]byte("offset"), u64(uint64(updateID+1))); err != nil {
				return err
			}
		}
		return queue(tx, out)
	})
}

func queue(tx *bbolt.Tx, out [][]byte) error {
	if len(out) == 0 {
		return nil
	}
	ob, err := tgBucket(tx, tgOutbox)
	if err != nil {
		return err
	}
	for _, data := range out {
		seq, err := ob.NextSequence()
		if err != nil {
			return err
		}
		if err := ob.Put(u64(seq), data); err != nil {
			return err
		}
	}
	return nil
}

// TelegramTrack records that the conversation is delivered to the chat
// and returns its cursor (0 for a new one).
func (s TelegramStore) TelegramTrack(ctx context.Context, conversationID string, chatID int64) (int64, error) {
	var cursor int64
	err := s.db.update(ctx, func(tx *bbolt.Tx) error {
		b, err := tgBucket(tx, tgChats)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(conversationID)); len(v) == 16 {
			cursor = int64(binary.BigEndian.Uint64(v[8:]))
			if int64(binary.BigEndian.Uint64(v[:8])) == chatID {
				return nil
			}
		}
		return b.Put([]byte(conversationID), chatValue(chatID, cursor))
	})
	return cursor, err
}

func chatValue(chatID, cursor int64) []byte {
	return append(u64(uint64(chatID)), u64(uint64(cursor))...)
}

// TelegramChat returns the chat a conversation is delivered to and its
// cursor, or bot.ErrNotFound when the conversation is not tracked.
func (s TelegramStore) TelegramChat(ctx context.Context, conversationID string) (chatID, cursor int64, err error) {
	err = s.db.view(ctx, func(tx *bbolt.Tx) error {
		b, _ := tgBucket(tx, tgChats)
		var v []byte
		if b != nil {
			v = b.Get([]byte(conversationID))
		}
		switch {
		case v == nil:
			return bot.ErrNotFound
		case len(v) != 16:
			return fmt.Errorf("corrupt telegram chat %q", conversationID)
		}
		chatID, cursor = int64(binary.BigEndian.Uint64(v[:8])), int64(binary.BigEndian.Uint64(v[8:]))
		return nil
	})
	return chatID, cursor, err
}

// TelegramChats calls fn for every tracked conversation.
func (s TelegramStore) TelegramChats(ctx context.Context, fn func(conversationID string, chatID, cursor int64) error) error {
	return s.db.view(ctx, func(tx *bbolt.Tx) error {
		b, _ := tgBucket(tx, tgChats)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) != 16 {
				return fmt.Errorf("corrupt telegram chat %q", k)
			}
			return fn(string(k), int64(binary.BigEndian.Uint64(v[:8])), int64(binary.BigEndian.Uint64(v[8:])))
		})
	})
}

// TelegramQueue moves a tracked conversation's cursor forward to cursor
// and queues the outbound requests, in one transaction: every message is
// queued once.
func (s TelegramStore) TelegramQueue(ctx context.Context, conversationID string, cursor int64, out [][]byte) error {
	return s.db.update(ctx, func(tx *bbolt.Tx) error {
		b, err := tgBucket(tx, tgChats)
		if err != nil {
			return err
		}
		v := b.Get([]byte(conversationID))
		if len(v) != 16 {
			return fmt.Errorf("telegram conversation %s is not tracked", conversationID)
		}
		if int64(binary.BigEndian.Uint64(v[8:])) >= cursor {
			return fmt.Errorf("telegram conversation %s: cursor %d would not move forward", conversationID, cursor)
		}
		if err := b.Put([]byte(conversationID), chatValue(int64(binary.BigEndian.Uint64(v[:8])), cursor)); err != nil {
			return err
		}
		return queue(tx, out)
	})
}

// TelegramOutbox calls fn for every queued outbound request, oldest first.
// It reads the outbox in one transaction and calls fn after it ended, so
// fn may write to the store (drop an entry it cannot decode).
func (s TelegramStore) TelegramOutbox(ctx context.Context, fn func(id uint64, data []byte) error) error {
	type entry struct {
		id   uint64
		data []byte
	}
	var queued []entry
	err := s.db.view(ctx, func(tx *bbolt.Tx) error {
		b, _ := tgBucket(tx, tgOutbox)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			queued = append(queued, entry{binary.BigEndian.Uint64(k), append([]byte(nil), v...)})
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, e := range queued {
		if err := fn(e.id, e.data); err != nil {
			return err
		}
	}
	return nil
}

// TelegramSent removes delivered (or abandoned) requests from the outbox.
func (s TelegramStore) TelegramSent(ctx context.Context, ids ...uint64) error {
	return s.db.update(ctx, func(tx *bbolt.Tx) error {
		b, err := tgBucket(tx, tgOutbox)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := b.Delete(u64(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// TelegramSetBlocked records whether a chat blocked the bot.
func (s TelegramStore) TelegramSetBlocked(ctx context.Context, chatID int64, blocked bool) error {
	return s.db.update(ctx, func(tx *bbolt.Tx) error {
		b, err := tgBucket(tx, tgBlocked)
		if err != nil {
			return err
		}
		if blocked {
			return b.Put(u64(uint64(chatID)), nil)
		}
		return b.Delete(u64(uint64(chatID)))
	})
}

// TelegramBlocked reports whether a chat blocked the bot.
func (s TelegramStore) TelegramBlocked(ctx context.Context, chatID int64) (bool, error) {
	blocked := false
	err := s.db.view(ctx, func(tx *bbolt.Tx) error {
		if b, _ := tgBucket(tx, tgBlocked); b != nil {
			blocked = b.Get(u64(uint64(chatID))) != nil
		}
		return nil
	})
	return blocked, err
}
