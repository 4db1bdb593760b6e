package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// appender is an act's transaction with the outbox (webhook.Recorder
// needs it).
type appender interface {
	AppendOutbox(data []byte) error
}

type outboxRecord struct {
	seq  uint64
	data string
}

func readOutbox(t *testing.T, s Records, after uint64, limit int) []outboxRecord {
	t.Helper()
	var out []outboxRecord
	if err := s.Outbox(ctx, after, limit, func(seq uint64, data []byte) { out = append(out, outboxRecord{seq, string(data)}) }); err != nil {
		t.Fatal(err)
	}
	return out
}

func outboxInAct(t *testing.T, s Records, _ func() []byte) {
	conv := NewConversation(t, s, "cus_1")
	// Records appended in an act exist exactly when the act does.
	err := s.Update(ctx, func(tx bot.Tx) error {
		a, ok := tx.(appender)
		if !ok {
			return fmt.Errorf("the act's transaction %T has no outbox", tx)
		}
		c, err := tx.Conversation(conv.ID)
		if err != nil {
			return err
		}
		c.Updated = c.Updated.Add(time.Second)
		if err := tx.PutConversation(c); err != nil {
			return err
		}
		for _, d := range []string{"a", "b"} {
			if err := a.AppendOutbox([]byte(d)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = s.Update(ctx, func(tx bot.Tx) error {
		if err := tx.(appender).AppendOutbox([]byte("never")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("a failed act: %v", err)
	}
	got := readOutbox(t, s, 0, 0)
	if len(got) != 2 || got[0].data != "a" || got[1].data != "b" || got[0].seq >= got[1].seq {
		t.Errorf("outbox %+v, want a then b (the failed act's record absent)", got)
	}
	if n, err := s.OutboxLen(ctx); err != nil || n != 2 {
		t.Errorf("outbox length %d, %v; want 2", n, err)
	}
	err = s.View(ctx, func(tx bot.Tx) error {
		a, ok := tx.(appender)
		if !ok {
			return nil
		}
		if a.AppendOutbox([]byte("read-only")) == nil {
			return errors.New("a read-only transaction appended to the outbox")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if n, _ := s.OutboxLen(ctx); n != 2 {
		t.Errorf("outbox length %d after a view, want 2", n)
	}
}

func outboxPages(t *testing.T, s Records, _ func() []byte) {
	for i := range 7 {
		if err := s.Update(ctx, func(tx bot.Tx) error { return tx.(appender).AppendOutbox(fmt.Appendf(nil, "r%d", i)) }); err != nil {
			t.Fatal(err)
		}
	}
	all := readOutbox(t, s, 0, 0)
	if len(all) != 7 {
		t.Fatalf("%d records, want 7", len(all))
	}
	for i, r := range all {
		if r.data != fmt.Sprint("r", i) || (i > 0 && r.seq <= all[i-1].seq) {
			t.Fatalf("outbox %+v, want r0..r6 in rising seq order", all)
		}
	}
	page := readOutbox(t, s, all[2].seq, 3)
	if fmt.Sprint(page) != fmt.Sprint(all[3:6]) {
		t.Errorf("page after %d of 3: %+v, want %+v", all[2].seq, page, all[3:6])
	}
	if rest := readOutbox(t, s, all[6].seq, 3); len(rest) != 0 {
		t.Errorf("after the last: %+v", rest)
	}
	// The delivery state is replaced in place, keeping the record's turn.
	if err := s.PutOutbox(ctx, all[1].seq, []byte("r1 failed once")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOutbox(ctx, all[0].seq, all[4].seq); err != nil {
		t.Fatal(err)
	}
	// A record deleted (delivered) meanwhile stays deleted.
	if err := s.PutOutbox(ctx, all[4].seq, []byte("r4 back?")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOutbox(ctx); err != nil {
		t.Errorf("deleting nothing: %v", err)
	}
	var got []string
	for _, r := range readOutbox(t, s, 0, 0) {
		got = append(got, r.data)
	}
	if fmt.Sprint(got) != "[r1 failed once r2 r3 r5 r6]" {
		t.Errorf("outbox %q", got)
	}
	if n, _ := s.OutboxLen(ctx); n != 5 {
		t.Errorf("outbox length %d, want 5", n)
	}
	// A new record comes after every record ever appended.
	if err := s.Update(ctx, func(tx bot.Tx) error { return tx.(appender).AppendOutbox([]byte("r7")) }); err != nil {
		t.Fatal(err)
	}
	if last := readOutbox(t, s, all[6].seq, 0); len(last) != 1 || last[0].data != "r7" {
		t.Errorf("after r6: %+v, want r7", last)
	}
}
