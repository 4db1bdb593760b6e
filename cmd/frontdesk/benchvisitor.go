package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// visitor is one customer of the bench: a websocket that says hello as a
// new visitor and then asks questions at the bench's pace, as
// docs/protocol.md describes.
//
// A turn is a message sent and the bot's answer to it: the first bot or
// system message whose seq is above the seq the message was acknowledged
// with. One turn at a time is in flight. live's goroutine owns the
// socket's data writes; the reader goroutine (started and waited for by
// live) owns the reads and ends turns. mu guards the turn state they share.
type visitor struct {
	b    *bench
	ws   *websocket.Conn
	idx  int // which conversation: its server is the bench's target(idx)
	next int // index of the next question

	mu        sync.Mutex
	pending   string // client id of the turn awaiting its answer; "" when none
	question  string // the last question sent
	sentAt    time.Time
	ackSeq    int64 // the pending message's seq, once acknowledged
	stopped   bool  // handed off or disconnected: no more turns
	handedOff bool
	closing   bool // the bench is closing the socket: a read error is expected

	answered chan struct{} // gets a value when a turn ends
	readDone chan struct{} // closed when the reader has returned
}

func newVisitor(b *bench, first int) *visitor {
	return &visitor{b: b, idx: first, next: first, answered: make(chan struct{}, 1), readDone: make(chan struct{})}
}

// Frames of docs/protocol.md, as much of them as the bench needs.
type (
	benchHello struct {
		Type    string `json:"type"` // "hello"
		Token   string `json:"token"`
		LastSeq int64  `json:"last_seq"`
	}
	benchMessage struct {
		Type string `json:"type"` // "message"
		ID   string `json:"id"`
		Text string `json:"text"`
	}
	benchFrame struct {
		Type    string `json:"type"`
		Seq     int64  `json:"seq"`
		From    string `json:"from"`
		Text    string `json:"text"`
		ID      string `json:"id"`
		State   string `json:"state"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

// connect opens the websocket, says hello as a new visitor (no token) and
// waits for the welcome and the greeting, the whole backlog of a new
// visitor's conversation.
func (v *visitor) connect(ctx context.Context) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, benchHelloTimeout)
	defer cancel()
	target, header := v.b.target(v.idx)
	ws, resp, err := v.b.dialer.DialContext(ctx, target, header)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("websocket upgrade refused with HTTP %s: %w", resp.Status, err)
		}
		return err
	}
	// A read blocked on a slow server ends when ctx does.
	unblock := context.AfterFunc(ctx, func() { ws.SetReadDeadline(time.Now()) })
	if err := ws.WriteJSON(benchHello{Type: "hello"}); err != nil {
		unblock()
		ws.Close()
		return fmt.Errorf("send hello: %w", err)
	}
	welcomed := false
	for {
		var f benchFrame
		err := ws.ReadJSON(&f)
		switch {
		case err != nil:
			ws.Close()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("no welcome within %s", benchHelloTimeout)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("wait for welcome: %w", err)
		case f.Type == "error" && f.Code == "rate_limited":
			ws.Close()
			return fmt.Errorf("hello refused: %s: %s (the server limits new visitors per address: start it with --limit-exempt and this machine's address)", f.Code, f.Message)
		case f.Type == "error":
			ws.Close()
			return fmt.Errorf("hello refused: %s: %s", f.Code, f.Message)
		case f.Type == "welcome":
			welcomed = true
		case f.Type == "message" && welcomed:
			if !unblock() {
				ws.Close() // ctx ended just now and may have set the deadline
				return fmt.Errorf("no welcome within %s", benchHelloTimeout)
			}
			ws.SetReadDeadline(time.Time{})
			v.ws = ws
			v.b.hellos.add(time.Since(start))
			return nil
		}
	}
}

// live runs a connected visitor: it reads frames from now on, waits for the
// load to start, asks questions until load ends, waits up to benchDrain
// (or until ctx ends) for the last answer and closes the connection with a
// normal close frame.
func (v *visitor) live(ctx, load context.Context, start <-chan struct{}) {
	go v.read()
	select {
	case <-start:
		if !v.b.opts.idle {
			v.pace(load)
		}
		<-load.Done()
		dctx, cancel := context.WithTimeout(ctx, benchDrain)
		v.waitTurn(dctx)
		cancel()
	case <-load.Done():
	}
	v.close()
}

// pace makes turns fall due until ctx ends or the visitor stops: every
// 1/rate seconds, starting at a random point of the first interval so that
// the visitors' turns are spread out rather than sent in bursts. At rate 0
// the next turn is due as soon as the previous one is answered, within a
// token bucket below the server's limit (benchBurst at once, then one a
// second).
func (v *visitor) pace(ctx context.Context) {
	rate := v.b.opts.rate
	if rate == 0 {
		tokens, last := float64(benchBurst), time.Now()
		for {
			now := time.Now()
			tokens = min(benchBurst, tokens+now.Sub(last).Seconds())
			last = now
			if tokens < 1 {
				if !sleep(ctx, time.Duration((1-tokens)*float64(time.Second))) {
					return
				}
				continue
			}
			tokens--
			if !v.due() || !v.waitTurn(ctx) {
				return
			}
		}
	}
	// Turns fall due on a fixed schedule. When this goroutine wakes late (a
	// busy client), every turn due meanwhile is still offered, so offered
	// counts the schedule, not the wake-ups; all but one are skipped.
	every := max(time.Duration(float64(time.Second)/rate), time.Millisecond)
	next := time.Now().Add(rand.N(every))
	for {
		if !sleep(ctx, time.Until(next)) {
			return
		}
		for now := time.Now(); !next.After(now); next = next.Add(every) {
			if !v.due() {
				return
			}
		}
	}
}

// due is a turn falling due. It is offered, and its question sent unless
// the previous turn is still unanswered: then it is skipped, not queued,
// since a queue would only grow while the server falls behind. due
// reports false once the visitor has stopped.
func (v *visitor) due() bool {
	v.mu.Lock()
	if v.stopped {
		v.mu.Unlock()
		return false
	}
	v.b.offered.Add(1)
	if v.pending != "" {
		v.mu.Unlock()
		v.b.skipped.Add(1)
		return true
	}
	qs := v.b.opts.questions
	q := qs[v.next%len(qs)]
	v.next++
	id := fmt.Sprintf("c_%016x%08x", rand.Uint64(), rand.Uint32())
	v.pending, v.question, v.ackSeq, v.sentAt = id, q, 0, time.Now()
	v.mu.Unlock()
	v.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := v.ws.WriteJSON(benchMessage{Type: "message", ID: id, Text: q}); err != nil {
		v.mu.Lock()
		v.stopped, v.closing = true, true // the reader need not count it again
		v.mu.Unlock()
		v.b.fail("dropped", "send: "+err.Error())
		v.ws.Close()
		return false
	}
	return true
}

// waitTurn waits until no turn is pending; false if ctx ended first.
func (v *visitor) waitTurn(ctx context.Context) bool {
	for {
		v.mu.Lock()
		pending := v.pending != ""
		v.mu.Unlock()
		if !pending {
			return true
		}
		select {
		case <-v.answered:
		case <-ctx.Done():
			return false
		}
	}
}

// endTurn ends the pending turn, answered or not. v.mu must be held.
func (v *visitor) endTurn() {
	v.pending, v.ackSeq = "", 0
	select {
	case v.answered <- struct{}{}:
	default:
	}
}

// read handles the server's frames until the connection ends.
func (v *visitor) read() {
	defer close(v.readDone)
	for {
		_, data, err := v.ws.ReadMessage()
		if err != nil {
			v.mu.Lock()
			expected := v.closing
			v.stopped = true
			v.endTurn()
			v.mu.Unlock()
			if !expected {
				v.b.fail("dropped", describeClose(err))
			}
			return
		}
		var f benchFrame
		if err := json.Unmarshal(data, &f); err != nil {
			v.b.fail("bad_frame", "the server sent a frame that is not JSON")
			continue
		}
		v.frame(f)
	}
}

func (v *visitor) frame(f benchFrame) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch f.Type {
	case "ack":
		if f.ID != "" && f.ID == v.pending {
			v.ackSeq = f.Seq
		}
	case "message":
		if f.From != "bot" && f.From != "system" {
			return
		}
		if v.pending != "" && v.ackSeq > 0 && f.Seq > v.ackSeq {
			v.b.turns.add(time.Since(v.sentAt))
			v.b.served.Add(1)
			v.endTurn()
		}
		if isHandoffText(f.Text) {
			v.handoff()
		}
	case "state":
		if f.State == "queued" || f.State == "agent" {
			v.handoff()
		}
	case "error":
		v.b.fail(f.Code, f.Message)
		if f.ID != "" && f.ID == v.pending {
			v.b.refused.Add(1)
			v.endTurn()
		}
	}
}

// handoff stops a visitor the bot handed to a person: the bot is silent
// from now on, so further turns would only wait. v.mu must be held.
func (v *visitor) handoff() {
	if v.handedOff {
		return
	}
	v.handedOff, v.stopped = true, true
	v.b.handedOff(v.question)
}

// isHandoffText reports whether a bot message hands the conversation to a
// person (bot/turn.go's hand-off texts), rather than only offering one.
func isHandoffText(text string) bool {
	t := strings.ToLower(text)
	return strings.Contains(t, "connecting you with a person") || strings.Contains(t, "bringing in a person")
}

// close ends the connection with a normal close frame and waits for the
// server's close frame (briefly) and for the reader.
func (v *visitor) close() {
	v.mu.Lock()
	v.closing = true
	v.mu.Unlock()
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := v.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err == nil {
		select {
		case <-v.readDone:
		case <-time.After(2 * time.Second):
		}
	}
	v.ws.Close()
	<-v.readDone
}

// describeClose says how a connection ended, for an error line.
func describeClose(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Sprintf("the server closed the connection (%d %s)", ce.Code, ce.Text)
	}
	return "connection lost: " + err.Error()
}

// echoProbes measures the bare websocket round trip until ctx ends:
// benchEchoConns more connections, without hello (so without a
// conversation), each send a ping and time the pong that the server's
// websocket library answers from its read loop. A probe pings again only
// once the previous pong is back (or lost for 5 s), so slow pongs are
// measured rather than dropped.
func (b *bench) echoProbes(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range benchEchoConns {
		wg.Go(func() { b.echoProbe(ctx, i) })
	}
	wg.Wait()
}

func (b *bench) echoProbe(ctx context.Context, i int) {
	dctx, cancel := context.WithTimeout(ctx, benchHelloTimeout)
	target, header := b.target(i)
	ws, _, err := b.dialer.DialContext(dctx, target, header)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			b.fail("echo", "connect: "+err.Error())
		}
		return
	}
	var (
		mu   sync.Mutex
		want string // payload of the ping awaiting its pong
		sent time.Time
	)
	ws.SetPongHandler(func(p string) error {
		mu.Lock()
		defer mu.Unlock()
		if p == want {
			b.echo.add(time.Since(sent))
			want = ""
		}
		return nil
	})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	t := time.NewTicker(benchEchoEvery)
	defer t.Stop()
loop:
	for n := 0; ; n++ {
		select {
		case <-t.C:
		case <-readDone:
			if ctx.Err() == nil {
				b.fail("echo", "the probe's connection ended")
			}
			break loop
		case <-ctx.Done():
			break loop
		}
		mu.Lock()
		if want != "" && time.Since(sent) < 5*time.Second {
			mu.Unlock()
			continue
		}
		want, sent = strconv.Itoa(n), time.Now()
		mu.Unlock()
		if err := ws.WriteControl(websocket.PingMessage, []byte(want), time.Now().Add(time.Second)); err != nil {
			b.fail("echo", "ping: "+err.Error())
			break
		}
	}
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)) == nil {
		select {
		case <-readDone:
		case <-time.After(2 * time.Second):
		}
	}
	ws.Close()
	<-readDone
}

// sleep waits for d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
