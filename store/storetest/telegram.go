package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
)

func telegramState(t *testing.T, s Store) {
	if off, err := s.TelegramOffset(ctx); err != nil || off != 0 {
		t.Errorf("offset at first = %d, %v; want 0", off, err)
	}
	if err := s.TelegramDone(ctx, 41, [][]byte{[]byte("a"), []byte("b")}); err != nil {
		t.Fatal(err)
	}
	if err := s.TelegramDone(ctx, 7, nil); err != nil { // a late, older update
		t.Fatal(err)
	}
	if off, _ := s.TelegramOffset(ctx); off != 42 {
		t.Errorf("offset %d, want 42 (never moved back)", off)
	}
	if seen, _ := s.TelegramSeen(ctx, 41); !seen {
		t.Error("update 41 forgotten")
	}
	if seen, _ := s.TelegramSeen(ctx, 40); seen {
		t.Error("update 40 seen, never handled")
	}
	if cur, err := s.TelegramTrack(ctx, "con_1", -5); err != nil || cur != 0 {
		t.Fatalf("track a new conversation: %d, %v; want cursor 0", cur, err)
	}
	if _, _, err := s.TelegramChat(ctx, "con_2"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("untracked chat: %v, want ErrNotFound", err)
	}
	if err := s.TelegramQueue(ctx, "con_1", 3, [][]byte{[]byte("c")}); err != nil {
		t.Fatal(err)
	}
	if err := s.TelegramQueue(ctx, "con_1", 3, [][]byte{[]byte("again")}); err == nil {
		t.Error("the cursor stayed and the request was queued: want an error")
	}
	if err := s.TelegramQueue(ctx, "con_2", 1, nil); err == nil {
		t.Error("queued for an untracked conversation")
	}
	// Moving to another chat keeps the cursor.
	if cur, _ := s.TelegramTrack(ctx, "con_1", -6); cur != 3 {
		t.Errorf("cursor %d after a new chat, want 3", cur)
	}
	if chat, cur, err := s.TelegramChat(ctx, "con_1"); err != nil || chat != -6 || cur != 3 {
		t.Errorf("chat %d cursor %d (%v), want -6 and 3", chat, cur, err)
	}
	if _, err := s.TelegramTrack(ctx, "con_0", 9); err != nil {
		t.Fatal(err)
	}
	var chats []string
	s.TelegramChats(ctx, func(conv string, chat, cur int64) error {
		chats = append(chats, fmt.Sprint(conv, ":", chat, ":", cur))
		return nil
	})
	if fmt.Sprint(chats) != "[con_0:9:0 con_1:-6:3]" {
		t.Errorf("chats %v", chats)
	}
	var ids []uint64
	var got []string
	s.TelegramOutbox(ctx, func(id uint64, data []byte) error { ids, got = append(ids, id), append(got, string(data)); return nil })
	if fmt.Sprint(got) != "[a b c]" || len(ids) != 3 || ids[0] >= ids[1] || ids[1] >= ids[2] {
		t.Fatalf("outbox %v %q, want a, b, c in order", ids, got)
	}
	if err := s.TelegramSent(ctx, ids[0], ids[2]); err != nil {
		t.Fatal(err)
	}
	got = nil
	s.TelegramOutbox(ctx, func(id uint64, data []byte) error { got = append(got, string(data)); return nil })
	if fmt.Sprint(got) != "[b]" {
		t.Errorf("outbox after sending a and c: %q, want [b]", got)
	}
	if err := s.TelegramSetBlocked(ctx, -6, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.TelegramBlocked(ctx, -6); !b {
		t.Error("blocked chat not recorded")
	}
	if err := s.TelegramSetBlocked(ctx, -6, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.TelegramBlocked(ctx, -6); b {
		t.Error("unblocked chat still blocked")
	}
}
