package telegram

import (
	"context"
	"time"
)

// Evict and ChatsInMemory expose the chat cache to the tests.
func (a *Adapter) Evict(now time.Time) { a.evict(now) }

func (a *Adapter) ChatsInMemory() int {
	a.chatsMu.Lock()
	defer a.chatsMu.Unlock()
	return len(a.chats)
}

// FollowerSyncsWhileTracking makes the bus follower's sync land where a
// busy machine can put it: after a new chat is in the store, before it is
// in memory.
func (a *Adapter) FollowerSyncsWhileTracking() {
	a.afterTrack = func(conversationID string) { a.sync(context.Background(), conversationID) }
}
