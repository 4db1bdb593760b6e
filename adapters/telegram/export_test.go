package telegram

import "time"

// Evict and ChatsInMemory expose the chat cache to the tests.
func (a *Adapter) Evict(now time.Time) { a.evict(now) }

func (a *Adapter) ChatsInMemory() int {
	a.chatsMu.Lock()
	defer a.chatsMu.Unlock()
	return len(a.chats)
}
