package wsconn_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/internal/wsconn"
)

// pair returns the two ends of a real websocket over loopback: the
// server's, wrapped with opts, and the client's.
func pair(t *testing.T, opts wsconn.Options) (*wsconn.Conn, *websocket.Conn) {
	t.Helper()
	server, client := rawPair(t)
	return wsconn.New(server, opts), client
}

func rawPair(t *testing.T) (*websocket.Conn, *websocket.Conn) {
	t.Helper()
	got := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		got <- ws
	}))
	t.Cleanup(srv.Close)
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server := <-got
	t.Cleanup(func() { server.Close() })
	return server, client
}

var quick = wsconn.Options{MaxFrame: 1024, SendQueue: 4, PingInterval: time.Minute, ReadTimeout: time.Minute}

// frames reads the client's end until it closes and returns the text
// frames and the close error.
func frames(t *testing.T, client *websocket.Conn) ([]string, *websocket.CloseError) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []string
	for {
		_, data, err := client.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("connection ended without a close frame: %v", err)
			}
			return got, ce
		}
		got = append(got, strings.TrimSpace(string(data)))
	}
}

func TestAClientThatLetsTheOutboxFillIsClosedWith1013(t *testing.T) {
	c, client := pair(t, quick)
	// The writer is not running yet, so nothing drains the outbox.
	for i := range 4 {
		if _, err := c.Send(i); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if depth, err := c.Send(4); !errors.Is(err, wsconn.ErrTooSlow) || depth != 4 {
		t.Fatalf("fifth frame: depth %d, err %v; want 4, ErrTooSlow", depth, err)
	}
	if _, err := c.Send(5); !errors.Is(err, wsconn.ErrClosed) {
		t.Fatalf("a frame after the end: %v, want ErrClosed", err)
	}
	go c.Write()
	_, ce := frames(t, client)
	if ce.Code != websocket.CloseTryAgainLater || ce.Text != wsconn.ReasonTooSlow {
		t.Errorf("closed with %d %q, want 1013 %q", ce.Code, ce.Text, wsconn.ReasonTooSlow)
	}
}

func TestEndWritesTheQueuedFramesBeforeTheCloseFrame(t *testing.T) {
	c, client := pair(t, quick)
	c.Send(map[string]string{"type": "error", "code": "rate_limited"})
	c.End(websocket.CloseTryAgainLater, "rate limited")
	c.Close(websocket.CloseNormalClosure, "") // the first end decides
	go c.Write()
	got, ce := frames(t, client)
	if len(got) != 1 || got[0] != `{"code":"rate_limited","type":"error"}` {
		t.Errorf("frames before the close: %q", got)
	}
	if ce.Code != websocket.CloseTryAgainLater || ce.Text != "rate limited" {
		t.Errorf("closed with %d %q, want 1013 \"rate limited\"", ce.Code, ce.Text)
	}
}

func TestFramesArriveInOrderAndCloseEndsTheReader(t *testing.T) {
	c, client := pair(t, quick)
	writer := make(chan struct{})
	go func() { defer close(writer); c.Write() }()
	for i := range 3 {
		c.Send(i)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range 3 {
		_, data, err := client.ReadMessage()
		if err != nil || strings.TrimSpace(string(data)) != string(rune('0'+i)) {
			t.Fatalf("frame %d: %q, %v", i, data, err)
		}
	}
	if err := client.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if data, err := c.Read(); err != nil || string(data) != "hi" {
		t.Fatalf("read %q, %v", data, err)
	}
	// The reader waits for a frame that never comes; Close ends it, and
	// the writer says goodbye with the code given.
	read := make(chan error, 1)
	go func() { _, err := c.Read(); read <- err }()
	c.GoAway()
	select {
	case err := <-read:
		if err == nil {
			t.Error("Read returned a frame after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still waiting 5 s after Close")
	}
	<-writer
	if _, ce := frames(t, client); ce.Code != websocket.CloseGoingAway || ce.Text != wsconn.ReasonShutdown {
		t.Errorf("closed with %d %q, want 1001", ce.Code, ce.Text)
	}
}

// stream is a subscription of ints, as the bot's and the queue's are of
// events.
type stream struct {
	c      chan int
	lagged bool
}

func (s *stream) C() <-chan int   { return s.c }
func (s *stream) Lagged() bool    { return s.lagged }
func (s *stream) end(lagged bool) { s.lagged = lagged; close(s.c) }

func TestRelayTurnsEventsIntoFramesAndALaggedStreamCloses1013(t *testing.T) {
	c, client := pair(t, quick)
	attach := make(chan wsconn.Stream[int], 1)
	go wsconn.Relay(c, attach, func(n int) { c.Send(n * 10) })
	s := &stream{c: make(chan int, 2)}
	s.c <- 1
	s.c <- 2
	attach <- s
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, want := range []string{"10", "20"} {
		if _, data, err := client.ReadMessage(); err != nil || strings.TrimSpace(string(data)) != want {
			t.Fatalf("frame %q, %v; want %s", data, err, want)
		}
	}
	s.end(true)
	got, ce := frames(t, client)
	if len(got) != 0 {
		t.Errorf("frames after the stream ended: %q", got)
	}
	if ce.Code != websocket.CloseTryAgainLater || ce.Text != wsconn.ReasonBehind {
		t.Errorf("closed with %d %q, want 1013 %q", ce.Code, ce.Text, wsconn.ReasonBehind)
	}
}

func TestASilentClientIsDroppedAndOneAnsweringPingsIsKept(t *testing.T) {
	opts := quick
	opts.PingInterval, opts.ReadTimeout = 20*time.Millisecond, 200*time.Millisecond

	// The client reads (so answers pings) but sends nothing for 3
	// ReadTimeouts: the pongs keep it.
	c, client := pair(t, opts)
	go c.Write()
	go func() {
		for {
			if _, _, err := client.ReadMessage(); err != nil {
				return
			}
		}
	}()
	read := make(chan error, 1)
	go func() { _, err := c.Read(); read <- err }()
	select {
	case err := <-read:
		t.Fatalf("a client answering pings was dropped: %v", err)
	case <-time.After(3 * opts.ReadTimeout):
	}
	c.Close(websocket.CloseNormalClosure, "")
	<-read

	// This one never reads, so never answers: dropped after ReadTimeout.
	c, _ = pair(t, opts)
	go c.Write()
	start := time.Now()
	if _, err := c.Read(); err == nil {
		t.Fatal("read a frame from a silent client")
	}
	if d := time.Since(start); d < opts.ReadTimeout/2 || d > 5*time.Second {
		t.Errorf("silent client dropped after %v, want about %v", d, opts.ReadTimeout)
	}
	c.Close(websocket.CloseNormalClosure, "")
}

func TestAFrameOverMaxFrameClosesWith1009(t *testing.T) {
	c, client := pair(t, quick)
	go c.Write()
	client.WriteMessage(websocket.TextMessage, make([]byte, 2000))
	if _, err := c.Read(); !errors.Is(err, websocket.ErrReadLimit) {
		t.Fatalf("read: %v, want ErrReadLimit", err)
	}
	if _, ce := frames(t, client); ce.Code != websocket.CloseMessageTooBig {
		t.Errorf("closed with %d, want 1009", ce.Code)
	}
}

func TestTurnAwayClosesWith1001(t *testing.T) {
	server, client := rawPair(t)
	wsconn.TurnAway(server)
	if _, ce := frames(t, client); ce.Code != websocket.CloseGoingAway {
		t.Errorf("closed with %d, want 1001", ce.Code)
	}
}

func TestRegistry(t *testing.T) {
	t.Run("Remove tells whether any alike connection is left", func(t *testing.T) {
		var r wsconn.Registry[string]
		for _, c := range []string{"ana/1", "ana/2", "ben/1"} {
			if !r.Add(c) {
				t.Fatal("Add refused before shutdown")
			}
		}
		ana := func(c string) bool { return strings.HasPrefix(c, "ana/") }
		if r.Remove("ana/1", ana) {
			t.Error("ana/2 is still open, but Remove said none is left")
		}
		if !r.Remove("ana/2", ana) {
			t.Error("no console of ana is left, but Remove said one is")
		}
		if got := r.Matching(func(string) bool { return true }); len(got) != 1 || got[0] != "ben/1" {
			t.Errorf("open: %q, want ben/1", got)
		}
		if !r.Remove("ben/1", nil) {
			t.Error("Remove(nil) with nothing left said something is")
		}
		r.Done()
		r.Done()
		r.Done()
	})
	t.Run("Shutdown says goodbye to each, refuses new ones and waits for Done", func(t *testing.T) {
		var r wsconn.Registry[int]
		r.Add(1)
		r.Add(2)
		bye := make(chan int, 2)
		shut := make(chan error, 1)
		go func() { shut <- r.Shutdown(context.Background(), func(c int) { bye <- c }) }()
		got := <-bye + <-bye
		if got != 3 {
			t.Errorf("goodbyes to %d, want 1 and 2", got)
		}
		if r.Add(3) {
			t.Error("Add accepted a connection during shutdown")
		}
		r.Remove(1, nil)
		r.Done()
		select {
		case <-shut:
			t.Fatal("Shutdown returned while a connection was not done")
		default:
		}
		r.Remove(2, nil)
		r.Done()
		if err := <-shut; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Shutdown gives up when its context ends", func(t *testing.T) {
		var r wsconn.Registry[int]
		r.Add(1)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := r.Shutdown(ctx, func(int) {}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown: %v, want the context's deadline", err)
		}
		r.Done()
	})
}

// TestFramesAreWhatWriteJSONWrites: the writer encodes frames itself; the
// bytes on the wire are the websocket library's WriteJSON's, newline and
// HTML escaping included.
func TestFramesAreWhatWriteJSONWrites(t *testing.T) {
	type frame struct {
		Type string `json:"type"`
		Text string `json:"text,omitempty"`
		N    int    `json:"n"`
	}
	fs := []any{
		frame{Type: "message", Text: "<b>Tom & Jerry</b> \u2028 ünïcode", N: 1},
		map[string]any{"type": "state", "state": "bot"},
		frame{Type: "big", Text: strings.Repeat("x", 70<<10)},
	}
	want := make([][]byte, len(fs))
	server, client := rawPair(t)
	go func() {
		for _, f := range fs {
			server.WriteJSON(f)
		}
	}()
	for i := range fs {
		_, data, err := client.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		want[i] = data
	}
	c, client2 := pair(t, wsconn.Options{MaxFrame: 1024, SendQueue: 8, PingInterval: time.Minute, ReadTimeout: time.Minute})
	go c.Write()
	defer c.Close(websocket.CloseNormalClosure, "")
	for _, f := range fs {
		if _, err := c.Send(f); err != nil {
			t.Fatal(err)
		}
	}
	client2.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range want {
		_, got, err := client2.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want[i]) {
			t.Errorf("frame %d (%d bytes): %.80q, WriteJSON wrote (%d bytes) %.80q", i, len(got), got, len(want[i]), want[i])
		}
	}
}
