package web_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
)

// fill appends n agent messages to a conversation, a thousand an act,
// and returns its last seq.
func (s *server) fill(conv string, n int, text string) int64 {
	s.t.Helper()
	var last int64
	for n > 0 {
		batch := min(n, 1000)
		err := s.db.Update(context.Background(), func(tx bot.Tx) error {
			c, err := tx.Conversation(conv)
			if err != nil {
				return err
			}
			for range batch {
				c.LastSeq++
				m := bot.Message{ConversationID: conv, Seq: c.LastSeq, From: bot.FromAgent, Text: fmt.Sprint(c.LastSeq, " ", text), Time: time.Now().UTC()}
				if err := tx.PutMessage(m); err != nil {
					return err
				}
			}
			c.Rev++
			last = c.LastSeq
			return tx.PutConversation(c)
		})
		if err != nil {
			s.t.Fatal(err)
		}
		n -= batch
	}
	return last
}

// wireFrame is as much of a server frame as the history tests read.
type wireFrame struct {
	Type             string `json:"type"`
	Seq              int64  `json:"seq"`
	Code             string `json:"code"`
	HistoryTruncated bool   `json:"history_truncated"`
	FirstSeq         int64  `json:"first_seq"`
}

// heapWatch samples the Go heap in use until stopped and keeps the
// highest figure.
type heapWatch struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func watchHeap() *heapWatch {
	h := &heapWatch{stop: make(chan struct{})}
	h.wg.Go(func() {
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > h.peak.Load() {
				h.peak.Store(m.HeapInuse)
			}
			select {
			case <-h.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	return h
}

func (h *heapWatch) done() uint64 {
	close(h.stop)
	h.wg.Wait()
	return h.peak.Load()
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// The server holds, per connection sending a history, one page of 200
// messages and at most SendQueue (256) frames, and sends at most 4
// histories to an address at once: for 100 clients that is at most 100 x
// 456 messages of about 0.5 KB decoded, some 25 MB, however long the
// conversation, plus the clients' side in this same process. 200 MB
// leaves room for the garbage collector's slack (GOGC=100 lets the heap
// grow to twice what is live) and for -race; before pages and the
// MaxBacklog cap, the same run peaked at 1154 MB, as every hello held
// the whole log.
const resumeHeapBound = 200 << 20

func TestAHundredResumesOfALongConversationHoldOnlyPages(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	w, _ := c.begin()
	token, conv := w["token"].(string), w["conversation_id"].(string)
	c.WS.Close()
	last := s.fill(conv, 10_000, strings.Repeat("a reply from our team about your order. ", 8))
	const clients, backlog = 100, 1000

	before := heapAfterGC()
	h := watchHeap()
	start := time.Now()
	var retries atomic.Int64
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for attempt := 0; ; attempt++ {
				err := resumeAll(s, token, last, backlog)
				if err == nil {
					return
				}
				if !errors.Is(err, errRefused) || attempt == 20 {
					t.Errorf("client %d: %v", i, err)
					return
				}
				retries.Add(1) // as the widget does, after a pause
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	peak := h.done()
	after := heapAfterGC()
	t.Logf("%d clients resumed a conversation of %d messages from last_seq 0 in %v (%d retries after rate_limited): heap in use %d MB before, peak %d MB, %d MB after a GC",
		clients, last, elapsed.Round(time.Millisecond), retries.Load(), before>>20, peak>>20, after>>20)
	if peak > resumeHeapBound {
		t.Errorf("heap in use peaked at %d MB, want under %d MB", peak>>20, resumeHeapBound>>20)
	}
}

var errRefused = errors.New("hello refused: rate_limited")

// resumeAll says hello with last_seq 0 and checks the history: the welcome
// says it was cut to the newest backlog messages, which then arrive each
// once, in order, up to last.
func resumeAll(s *server, token string, last int64, backlog int) error {
	c, _, err := s.dial(nil)
	if err != nil {
		return err
	}
	defer c.WS.Close()
	if err := c.WS.WriteJSON(map[string]any{"type": "hello", "token": token, "last_seq": 0}); err != nil {
		return err
	}
	want := last - int64(backlog) + 1
	welcomed := false
	for {
		c.WS.SetReadDeadline(time.Now().Add(60 * time.Second))
		var f wireFrame
		if err := c.WS.ReadJSON(&f); err != nil {
			return fmt.Errorf("after seq %d: %w", want-1, err)
		}
		switch {
		case f.Type == "error" && f.Code == "rate_limited" && !welcomed:
			return errRefused
		case f.Type == "welcome":
			if !f.HistoryTruncated || f.FirstSeq != want {
				return fmt.Errorf("welcome says history_truncated %v, first_seq %d; want true, %d", f.HistoryTruncated, f.FirstSeq, want)
			}
			welcomed = true
		case f.Type == "message":
			if !welcomed || f.Seq != want {
				return fmt.Errorf("got seq %d, want %d", f.Seq, want)
			}
			if f.Seq == last {
				return nil
			}
			want++
		}
	}
}

func TestHistoryPagesAndLiveMessagesArriveEachOnceInOrder(t *testing.T) {
	s := startServer(t, "", web.Options{SendQueue: 4, MaxBacklog: 5000})
	c := s.connect()
	w, _ := c.begin()
	token, conv := w["token"].(string), w["conversation_id"].(string)
	c.WS.Close()
	s.fill(conv, 1000, "history")

	// Live messages are stored while the history is being sent.
	const live = 60
	stored := make(chan int64, 1)
	go func() {
		var m bot.Message
		for i := range live {
			var err error
			if m, err = s.engine.Notice(context.Background(), conv, fmt.Sprint("live ", i)); err != nil {
				t.Error(err)
				break
			}
			time.Sleep(time.Millisecond)
		}
		stored <- m.Seq
	}()
	end := int64(-1)
	seen := int64(0)
	for reconnects := 0; seen != end; reconnects++ {
		if reconnects > 20 {
			t.Fatalf("still at seq %d of %d after %d reconnects", seen, end, reconnects)
		}
		// A connection whose events lag is closed; the client resumes from
		// what it has, as the widget does.
		cl := s.connect()
		cl.Send(map[string]any{"type": "hello", "token": token, "last_seq": seen})
		for seen != end {
			cl.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
			var f wireFrame
			if err := cl.WS.ReadJSON(&f); err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) {
					t.Fatalf("connection failed at seq %d: %v", seen, err)
				}
				t.Logf("connection closed at seq %d (%v); resuming", seen, err)
				break
			}
			if f.Type != "message" {
				continue
			}
			if f.Seq != seen+1 {
				t.Fatalf("got seq %d after %d: a message skipped or sent twice", f.Seq, seen)
			}
			seen = f.Seq
			if end < 0 && seen >= 1000+live {
				end = <-stored // the last live message is stored by now
			}
		}
		cl.WS.Close()
	}
}

func TestAnAddressIsSentFewHistoriesAtOnce(t *testing.T) {
	s := startServer(t, "", web.Options{TrustProxy: true, MaxResumes: 1, ResumeWait: 100 * time.Millisecond, MaxBacklog: 5000, SendQueue: 4})
	c := s.from("203.0.113.1")
	w, _ := c.begin()
	token, conv := w["token"].(string), w["conversation_id"].(string)
	c.WS.Close()
	// More than the sockets of both ends buffer, so a client that does not
	// read keeps its history waiting.
	last := s.fill(conv, 4000, strings.Repeat("x", 4000))

	stalled := s.from("203.0.113.1")
	stalled.Send(map[string]any{"type": "hello", "token": token, "last_seq": 0})
	time.Sleep(200 * time.Millisecond)

	other := s.from("203.0.113.1")
	other.Send(map[string]any{"type": "hello", "token": token, "last_seq": last - 1})
	if f := other.Frame(); f["type"] != "error" || f["code"] != "rate_limited" {
		t.Errorf("a second history for the address got %v, want rate_limited", f)
	}
	if code := other.closeCode(); code != websocket.CloseTryAgainLater {
		t.Errorf("closed with %d, want 1013", code)
	}
	elsewhere := s.from("203.0.113.2")
	elsewhere.hello(token, int(last-1))
	if f := elsewhere.Frame(); f["seq"] != float64(last) {
		t.Errorf("another address got %v, want seq %d", f, last)
	}
	// The stalled client still gets its whole history once it reads.
	for want := 1.0; want <= float64(last); {
		stalled.WS.SetReadDeadline(time.Now().Add(10 * time.Second))
		var f wireFrame
		if err := stalled.WS.ReadJSON(&f); err != nil {
			t.Fatalf("after seq %v: %v", want-1, err)
		}
		if f.Type == "message" {
			if float64(f.Seq) != want {
				t.Fatalf("got seq %d, want %v", f.Seq, want)
			}
			want++
		}
	}
}
