package telegram

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// chat is a tracked conversation and where its delivery stands. Its
// mutex serialises queueing for that conversation alone, so no chat waits
// for another's disk writes.
type chat struct {
	mu       sync.Mutex
	id       int64
	cursor   int64     // seq of the last message queued
	lastUsed time.Time // guarded by Adapter.chatsMu
}

// chatIdle is how long a chat stays in memory without a message.
const chatIdle = 30 * time.Minute

// follow watches the bus for messages in Telegram conversations and
// queues them for delivery, until ctx ends. If it lags, it catches up
// from the store. Now and then it forgets chats that have been idle
// (evict).
func (a *Adapter) follow(ctx context.Context, sub bot.Subscription) {
	sweep := time.NewTicker(chatIdle / 2)
	defer sweep.Stop()
	for {
		select {
		case e, ok := <-sub.C():
			if !ok {
				a.opts.Log.Warn("telegram: event bus lagged; catching up from the store")
				sub = a.engine.Subscribe("", 1024)
				a.syncAll(ctx)
				continue
			}
			if e.Kind == bot.EventMessage && e.Message != nil && e.Message.From != bot.FromCustomer && !e.Message.Internal &&
				(e.Channel == "" || e.Channel == bot.Telegram) {
				a.sync(ctx, e.ConversationID)
			}
		case now := <-sweep.C:
			a.evict(now)
		case <-ctx.Done():
			sub.Close()
			return
		}
	}
}

// evict forgets chats idle since before now - chatIdle; they stay on disk
// and are read again on their next message.
func (a *Adapter) evict(now time.Time) {
	a.chatsMu.Lock()
	defer a.chatsMu.Unlock()
	for id, c := range a.chats {
		if now.Sub(c.lastUsed) > chatIdle {
			delete(a.chats, id)
		}
	}
}

// forgetChats empties the chat cache: a new leader reads the chats
// afresh, as the node that led before moved their cursors.
func (a *Adapter) forgetChats() {
	a.chatsMu.Lock()
	defer a.chatsMu.Unlock()
	clear(a.chats)
}

// chatFor returns the tracked chat of the conversation, from memory or
// the store, or nil when the conversation is not delivered to Telegram.
func (a *Adapter) chatFor(ctx context.Context, conversationID string) (*chat, error) {
	a.chatsMu.Lock()
	c, ok := a.chats[conversationID]
	if ok {
		c.lastUsed = time.Now()
	}
	a.chatsMu.Unlock()
	if ok {
		return c, nil
	}
	chatID, cursor, err := a.store.TelegramChat(ctx, conversationID)
	if errors.Is(err, bot.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a.chatsMu.Lock()
	defer a.chatsMu.Unlock()
	if c, ok := a.chats[conversationID]; ok {
		return c, nil // loaded meanwhile
	}
	c = &chat{id: chatID, cursor: cursor, lastUsed: time.Now()}
	a.chats[conversationID] = c
	return c, nil
}

// syncAll queues what every tracked conversation has not yet sent, after
// a lag: the events it missed may have been for any of them.
func (a *Adapter) syncAll(ctx context.Context) {
	var convs []string
	err := a.store.TelegramChats(ctx, func(conv string, _, _ int64) error {
		convs = append(convs, conv)
		return nil
	})
	if err != nil && ctx.Err() == nil {
		a.opts.Log.Error("telegram: list chats", "err", err)
	}
	for _, id := range convs {
		a.sync(ctx, id)
	}
}

// sync queues, in order and once each, the customer-visible messages of
// a tracked conversation that are not from the customer and not queued
// yet. A failure is logged; the next sync catches up. On a node among
// several, only the leader queues (its follow sees every node's
// messages on the bus), so that no two nodes queue a message from
// cursors they each remember.
func (a *Adapter) sync(ctx context.Context, conversationID string) {
	if a.opts.Lease != nil && !a.leading() {
		return
	}
	c, err := a.chatFor(ctx, conversationID)
	if err != nil {
		if ctx.Err() == nil {
			a.opts.Log.Error("telegram: read chat", "conversation", conversationID, "err", err)
		}
		return
	}
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ms, err := a.engine.Messages(ctx, conversationID, c.cursor)
	if err != nil || len(ms) == 0 {
		if err != nil && ctx.Err() == nil {
			a.opts.Log.Error("telegram: read messages", "conversation", conversationID, "err", err)
		}
		return
	}
	blocked, err := a.store.TelegramBlocked(ctx, c.id)
	if err != nil {
		a.opts.Log.Error("telegram: read blocked flag", "conversation", conversationID, "err", err)
		return
	}
	var out [][]byte
	for _, m := range ms {
		if m.From == bot.FromCustomer || blocked {
			continue
		}
		for _, o := range outgoingMessages(c.id, m) {
			out = append(out, o.encode())
		}
	}
	last := ms[len(ms)-1].Seq
	if err := a.store.TelegramQueue(ctx, conversationID, last, out); err != nil {
		if ctx.Err() == nil {
			a.opts.Log.Error("telegram: queue messages", "conversation", conversationID, "err", err)
		}
		return
	}
	c.cursor = last
	if len(out) > 0 {
		a.kick()
	}
}

// track records that the conversation is delivered to the chat and
// returns its cursor as the store had it.
//
// Between TelegramTrack and the chat's entry in memory, the bus follower
// may already have read the new chat from the store and queued what
// Start said (sync), moving the cursor: its entry is kept then. Replacing
// it with one at the cursor read before would queue those messages again.
func (a *Adapter) track(ctx context.Context, conversationID string, chatID int64) (int64, error) {
	c, err := a.chatFor(ctx, conversationID)
	if err != nil {
		return 0, err
	}
	if c != nil && c.id == chatID {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.cursor, nil
	}
	cursor, err := a.store.TelegramTrack(ctx, conversationID, chatID)
	if err != nil {
		return 0, err
	}
	if a.afterTrack != nil {
		a.afterTrack(conversationID)
	}
	a.chatsMu.Lock()
	defer a.chatsMu.Unlock()
	if c, ok := a.chats[conversationID]; ok && c.id == chatID {
		c.lastUsed = time.Now()
		return cursor, nil
	}
	a.chats[conversationID] = &chat{id: chatID, cursor: cursor, lastUsed: time.Now()}
	return cursor, nil
}
