package bolt

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/wait"
)

// commits counts the commit loop's commits and the acts they held.
type commits struct {
	n, acts atomic.Int64
}

func (c *commits) observe(acts int, _ time.Duration) {
	c.n.Add(1)
	c.acts.Add(int64(acts))
}

func openCounting(t testing.TB) (*DB, *commits) {
	t.Helper()
	var c commits
	db, err := OpenWith(tempPathTB(t), Options{OnCommit: c.observe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, &c
}

func tempPathTB(t testing.TB) string { return t.TempDir() + "/frontdesk.db" }

// say is one small act: a message appended to a conversation.
func say(db *DB, convID, text string) error {
	return db.Update(ctx, func(tx bot.Tx) error {
		c, err := tx.Conversation(convID)
		if err != nil {
			return err
		}
		c.LastSeq++
		c.Rev++
		if err := tx.PutMessage(bot.Message{ConversationID: convID, Seq: c.LastSeq, From: bot.FromCustomer, Text: text}); err != nil {
			return err
		}
		return tx.PutConversation(c)
	})
}

// holdLoop makes the commit loop busy until release is closed: its act
// waits inside its transaction, so acts sent meanwhile gather for the
// next commit.
func holdLoop(t *testing.T, db *DB) (release func()) {
	t.Helper()
	inside, done := make(chan struct{}), make(chan struct{})
	gate := make(chan struct{})
	go func() {
		defer close(done)
		db.Update(ctx, func(tx bot.Tx) error {
			close(inside)
			<-gate
			return errors.New("held")
		})
	}()
	<-inside
	return func() { close(gate); <-done }
}

func TestActsWaitingDuringACommitShareTheNext(t *testing.T) {
	db, c := openCounting(t)
	convs := make([]*bot.Conversation, 50)
	for i := range convs {
		convs[i] = newConversation(t, db, fmt.Sprint("cus_", i))
	}
	before := c.n.Load()
	release := holdLoop(t, db)
	var wg sync.WaitGroup
	var sent atomic.Int32
	for _, conv := range convs {
		wg.Go(func() {
			sent.Add(1)
			if err := say(db, conv.ID, "hello"); err != nil {
				t.Error(err)
			}
		})
	}
	for sent.Load() < int32(len(convs)) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the senders reach the loop
	release()
	wg.Wait()
	commits := c.n.Load() - before
	if commits < 1 || commits > 3 {
		t.Errorf("%d acts took %d commits; want them to share one or two", len(convs), commits)
	}
	for _, conv := range convs {
		got, err := db.Conversation(ctx, conv.ID)
		if err != nil || got.LastSeq != 1 {
			t.Errorf("conversation %s: last seq %d, %v; want 1", conv.ID, got.LastSeq, err)
		}
	}
}

func TestAnActThatFailsAfterWritingSpoilsNothingOfOthers(t *testing.T) {
	db, _ := openCounting(t)
	good := newConversation(t, db, "cus_good")
	bad := newConversation(t, db, "cus_bad")
	release := holdLoop(t, db)
	var wg sync.WaitGroup
	var goodErr, badErr error
	wg.Go(func() { goodErr = say(db, good.ID, "kept") })
	wg.Go(func() {
		badErr = db.Update(ctx, func(tx bot.Tx) error {
			if err := tx.PutMessage(bot.Message{ConversationID: bad.ID, Seq: 1, From: bot.FromCustomer, Text: "half"}); err != nil {
				return err
			}
			return errors.New("disk says no")
		})
	})
	time.Sleep(20 * time.Millisecond)
	release()
	wg.Wait()
	if goodErr != nil || badErr == nil || badErr.Error() != "disk says no" {
		t.Fatalf("good act: %v; failing act: %v", goodErr, badErr)
	}
	if ms, _ := db.Messages(ctx, good.ID, 0); len(ms) != 1 {
		t.Errorf("the good act's message: %d stored, want 1", len(ms))
	}
	if ms, _ := db.Messages(ctx, bad.ID, 0); len(ms) != 0 {
		t.Errorf("the failed act left %d messages behind", len(ms))
	}
}

func TestAnActThatChangesNothingCostsNoCommit(t *testing.T) {
	db, c := openCounting(t)
	conv := newConversation(t, db, "cus_1")
	before := c.n.Load()
	err := db.Update(ctx, func(tx bot.Tx) error {
		if _, err := tx.Conversation(conv.ID); err != nil {
			return err
		}
		return errors.New("nothing to do")
	})
	if err == nil || c.n.Load() != before {
		t.Errorf("a refused act: %v, %d commits; want its error and no commit", err, c.n.Load()-before)
	}
}

func TestUpdateAfterCloseFailsClosed(t *testing.T) {
	db, err := Open(tempPathTB(t))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := db.Update(ctx, func(bot.Tx) error { return nil }); !errors.Is(err, bot.ErrClosed) {
		t.Errorf("update after close: %v, want bot.ErrClosed", err)
	}
}

// BenchmarkCommit measures the commit path: one act (a message and its
// conversation) made durable, alone and with many conversations at once
// sharing commits. acts/commit is the group-commit batch size.
func BenchmarkCommit(b *testing.B) {
	for _, par := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("writers=%d", par), func(b *testing.B) {
			db, c := openCounting(b)
			convs := make([]string, par)
			for i := range convs {
				conv := &bot.Conversation{ID: fmt.Sprint("con_", i), CustomerID: "cus", State: bot.StateBot}
				if err := db.SaveConversation(ctx, conv); err != nil {
					b.Fatal(err)
				}
				convs[i] = conv.ID
			}
			n0, a0 := c.n.Load(), c.acts.Load()
			b.ReportAllocs()
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for w := range par {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := say(db, convs[w], "a customer's question of ordinary length, asked once"); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if n := c.n.Load() - n0; n > 0 {
				b.ReportMetric(float64(c.acts.Load()-a0)/float64(n), "acts/commit")
			}
		})
	}
}

// BenchmarkCommitAfterIdle measures one act committed after the file has
// been idle for a while, as a lone customer's turn is (people write about
// once a second), against BenchmarkCommit/writers=1, where each commit
// follows the last at once. The pause is not timed. On a virtual disk
// the first flush after a pause waits longer for the device than the
// same flush made back to back; the difference is the machine's, not the
// commit path's, and sets a floor under a lone turn's latency. The
// pauses make a default run long: use -benchtime 200x.
func BenchmarkCommitAfterIdle(b *testing.B) {
	cases := []struct {
		idle time.Duration
		warm bool
	}{{0, false}, {time.Millisecond, false}, {50 * time.Millisecond, false}, {50 * time.Millisecond, true}}
	for _, c := range cases {
		name := fmt.Sprintf("idle=%v", c.idle)
		if c.warm {
			name += "/warmed"
		}
		b.Run(name, func(b *testing.B) {
			db, _ := openCounting(b)
			conv := &bot.Conversation{ID: "con_idle", CustomerID: "cus", State: bot.StateBot}
			if err := db.SaveConversation(ctx, conv); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				time.Sleep(c.idle)
				if c.warm {
					// As a turn does: warm, then about 0.4 ms of
					// reading and deciding before the act.
					db.WarmCommit()
					for start := time.Now(); time.Since(start) < 400*time.Microsecond; {
					}
				}
				b.StartTimer()
				if err := say(db, conv.ID, "a customer's question of ordinary length, asked once"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWarmCommitFlushesOnlyAfterAQuietSpell: a turn that arrives while
// acts are being committed does not add a flush; one that arrives after
// WarmAfter of quiet starts one, and only one at a time.
func TestWarmCommitFlushesOnlyAfterAQuietSpell(t *testing.T) {
	const quiet = 500 * time.Millisecond
	db, err := OpenWith(tempPathTB(t), Options{WarmAfter: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conv := newConversation(t, db, "cus_1")
	if err := say(db, conv.ID, "hello"); err != nil {
		t.Fatal(err)
	}
	db.WarmCommit() // right after a commit
	if db.warming.Load() {
		t.Fatal("WarmCommit flushed right after a commit")
	}
	time.Sleep(quiet + 10*time.Millisecond)
	for range 20 {
		db.WarmCommit() // a burst of messages after the quiet spell
	}
	wait.For(t, 5*time.Second, "the warming flush", func() bool { return !db.warming.Load() && db.WarmFlushes() > 0 })
	if n := db.WarmFlushes(); n != 1 {
		t.Errorf("%d warming flushes for one burst, want 1", n)
	}
	if err := say(db, conv.ID, "after the flush"); err != nil {
		t.Fatal(err)
	}
	db.WarmCommit()
	if db.warming.Load() {
		t.Error("WarmCommit flushed right after the next commit")
	}

	never, err := OpenWith(tempPathTB(t), Options{WarmAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer never.Close()
	time.Sleep(10 * time.Millisecond)
	never.WarmCommit()
	if never.warming.Load() {
		t.Error("WarmCommit flushed with WarmAfter < 0")
	}
}

// TestWarmCommitRacingClose: a warming flush started as the database
// closes neither fails nor touches the closed file (run with -race).
func TestWarmCommitRacingClose(t *testing.T) {
	for range 20 {
		db, err := OpenWith(tempPathTB(t), Options{WarmAfter: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 50 {
					db.WarmCommit()
				}
			})
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		wait.For(t, 5*time.Second, "warming to end", func() bool { return !db.warming.Load() })
	}
}
