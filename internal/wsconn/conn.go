// Package wsconn is the connection plumbing of the two websocket servers,
// the customer's (adapters/web) and the agent's (adapters/console): a
// bounded outbox drained by the one goroutine that writes to the socket,
// pings and read deadlines, the close frame, and a Registry of the open
// connections for shutdown. What travels over a connection (its frames,
// its protocol) belongs to each adapter.
//
// Who does I/O: only the writer (Write or Relay, on a goroutine the
// adapter starts and waits for) writes to the socket: frames, pings and
// the close frame, each within WriteWait. Send, Close and End never touch
// the network, so any goroutine may call them, holding any lock. Read is
// for the one reader goroutine.
//
// Close codes, the same on both servers (docs/protocol.md and
// docs/agent-api.md list them for clients):
//
//	1000  the server ended the connection (the reader stopped, a failed start)
//	1001  the server is shutting down (GoAway, TurnAway)
//	1008  the adapter's: an agent's session ended
//	1009  a frame over Options.MaxFrame (written by the websocket library)
//	1013  try again later: the client is too slow (its outbox filled, or
//	      its event stream lagged: ReasonTooSlow, ReasonBehind), or over
//	      an adapter's limit; the client reconnects with backoff and resumes
package wsconn

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WriteWait bounds each write to the socket: a frame, a ping, the close
// frame.
const WriteWait = 10 * time.Second

// Reasons sent in close frames.
const (
	ReasonShutdown = "server shutting down"
	ReasonTooSlow  = "too slow; reconnect"
	ReasonBehind   = "fell behind; reconnect"
)

// Errors of Send.
var (
	// ErrTooSlow: the outbox was full; the connection is closing with
	// 1013.
	ErrTooSlow = errors.New("websocket client too slow")
	// ErrClosed: the connection has ended; the frame was dropped.
	ErrClosed = errors.New("websocket connection closed")
)

// Options configure a connection. All are required.
type Options struct {
	// MaxFrame is the largest frame the client may send, in bytes; a
	// larger one closes the connection with 1009.
	MaxFrame int64
	// SendQueue is how many frames may wait for the writer; a client that
	// lets more pile up is too slow and is closed with 1013.
	SendQueue int
	// PingInterval is how often the writer pings the client.
	PingInterval time.Duration
	// ReadTimeout is how long the client may stay silent (no frame, no
	// pong) before Read fails.
	ReadTimeout time.Duration
}

// Conn is the plumbing of one websocket: an outbox for the writer, the
// reader's deadlines, and how the connection ends.
type Conn struct {
	ws   *websocket.Conn
	opts Options
	out  outbox
	done chan struct{}
	once sync.Once
	// Set by the first Close or End, read by the writer once done is
	// closed.
	code   int
	reason string
	flush  bool
}

// New wraps an upgraded websocket. The client's silence is counted from
// now; a pong counts as hearing from it.
func New(ws *websocket.Conn, o Options) *Conn {
	c := &Conn{ws: ws, opts: o, done: make(chan struct{})}
	c.out.init(o.SendQueue)
	ws.SetReadLimit(o.MaxFrame)
	c.Touch()
	ws.SetPongHandler(func(string) error { c.Touch(); return nil })
	return c
}

// Done is closed when the connection ends (Close, End, or a failed write).
func (c *Conn) Done() <-chan struct{} { return c.done }

// Read returns the data of the client's next frame and gives the client
// another ReadTimeout. It fails once the connection has ended, so that
// frames still arriving are not acted on. One goroutine reads.
func (c *Conn) Read() ([]byte, error) {
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	select {
	case <-c.done:
		return nil, ErrClosed
	default:
	}
	c.Touch()
	return data, nil
}

// Touch gives the client another ReadTimeout from now (after work that
// took a while, such as sending a long history). Only the reader calls it.
func (c *Conn) Touch() { c.ws.SetReadDeadline(time.Now().Add(c.opts.ReadTimeout)) }

// Send queues f (encoded as JSON) for the writer and returns how many
// frames were waiting before it. A full outbox means the client is not
// keeping up: rather than slow anyone else, Send closes the connection
// with 1013 and returns ErrTooSlow; the client reconnects and catches up.
// After the end it drops f and returns ErrClosed.
func (c *Conn) Send(f any) (depth int, err error) {
	select {
	case <-c.done:
		return 0, ErrClosed
	default:
	}
	depth, ok := c.out.push(f)
	if !ok {
		c.Close(websocket.CloseTryAgainLater, ReasonTooSlow)
		return depth, ErrTooSlow
	}
	return depth, nil
}

// SendWait queues f, waiting while the outbox is full rather than
// counting the client as slow (for a history longer than the outbox). It
// reports false if the connection ended first.
func (c *Conn) SendWait(f any) bool { return c.out.pushWait(f, c.done) }

// Close ends the connection at once: frames still queued are dropped and
// the writer sends a close frame with the code and reason, then closes
// the socket. The first Close or End decides the code; later calls do
// nothing. It does no I/O.
func (c *Conn) Close(code int, reason string) { c.end(code, reason, false) }

// End is Close after the frames queued so far are written, such as an
// error frame saying why.
func (c *Conn) End(code int, reason string) { c.end(code, reason, true) }

// GoAway closes the connection with 1001: the server is shutting down.
func (c *Conn) GoAway() { c.Close(websocket.CloseGoingAway, ReasonShutdown) }

func (c *Conn) end(code int, reason string, flush bool) {
	c.once.Do(func() {
		c.code, c.reason, c.flush = code, reason, flush
		close(c.done)
		// Stop a Read waiting for the client: the connection is over.
		// This sets a timer; it writes nothing.
		c.ws.NetConn().SetReadDeadline(time.Now())
	})
}

// fail ends the connection after a failed write; the writer returns
// without a close frame.
func (c *Conn) fail() { c.once.Do(func() { close(c.done) }) }

// Write is the connection's writer. It writes queued frames and pings
// until the connection ends, then the close frame, and closes the socket,
// which also ends a Read on the reader's goroutine. Run it on its own
// goroutine and wait for it before forgetting the connection.
func (c *Conn) Write() { relay[struct{}](c, nil, nil) }

// Stream is a subscription to events that a writer relays: bot and
// handoff subscriptions are streams.
type Stream[E any] interface {
	// C delivers the events; it is closed when the subscription ends.
	C() <-chan E
	// Lagged reports whether the subscription ended because the
	// subscriber fell behind.
	Lagged() bool
}

// Relay is Write for a connection fed by a stream of events, relayed on
// the writer's goroutine so that an idle connection needs no third one.
// Once a stream arrives on attach, Relay calls handle with each of its
// events, in order; handle turns them into frames with Send and must not
// block. A stream that lagged closes the connection with 1013.
func Relay[E any](c *Conn, attach <-chan Stream[E], handle func(E)) { relay(c, attach, handle) }

func relay[E any](c *Conn, attach <-chan Stream[E], handle func(E)) {
	defer c.ws.Close() // ends the reader's Read, whatever its deadline
	ping := time.NewTicker(c.opts.PingInterval)
	defer ping.Stop()
	var stream Stream[E]
	var events <-chan E
	for {
		select {
		case stream = <-attach:
			events = stream.C()
		case e, ok := <-events:
			if !ok {
				events = nil
				if stream.Lagged() {
					c.Close(websocket.CloseTryAgainLater, ReasonBehind)
				}
				continue
			}
			handle(e)
		case <-c.out.ready:
			if err := c.writeFrames(c.out.take(), true); err != nil {
				c.fail()
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(WriteWait)); err != nil {
				c.fail()
				return
			}
		case <-c.done:
			c.goodbye()
			return
		}
	}
}

// frameBuffers holds the buffers frames are encoded in, shared by all
// connections: a connection holds one only while it writes, so an idle
// one holds none.
var frameBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeFrames writes each of fs as a JSON text frame, each within
// WriteWait when each is set (else within the deadline already set). A
// frame is what the websocket library's WriteJSON writes (the
// JSON and a newline), encoded in a pooled buffer and written in one piece
// rather than through a new message writer and encoder per frame.
func (c *Conn) writeFrames(fs []any, each bool) error {
	if len(fs) == 0 {
		return nil
	}
	b := frameBuffers.Get().(*bytes.Buffer)
	defer frameBuffers.Put(b)
	enc := json.NewEncoder(b)
	for _, f := range fs {
		b.Reset()
		if err := enc.Encode(f); err != nil {
			return err
		}
		if each {
			c.ws.SetWriteDeadline(time.Now().Add(WriteWait))
		}
		if err := c.ws.WriteMessage(websocket.TextMessage, b.Bytes()); err != nil {
			return err
		}
	}
	if b.Cap() > maxPooledFrame {
		// A rare large frame (a long history page) is not kept for all.
		*b = bytes.Buffer{}
	}
	return nil
}

// maxPooledFrame is the largest buffer frameBuffers keeps.
const maxPooledFrame = 64 << 10

// goodbye writes what End left to flush, then the close frame.
func (c *Conn) goodbye() {
	c.ws.SetWriteDeadline(time.Now().Add(WriteWait))
	if c.flush && c.writeFrames(c.out.take(), false) != nil {
		return
	}
	c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(c.code, c.reason))
}

// TurnAway closes a websocket that arrives while the server is shutting
// down (Registry.Add refused it) with 1001. The handler's goroutine calls
// it, holding no lock.
func TurnAway(ws *websocket.Conn) {
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ReasonShutdown), time.Now().Add(WriteWait))
	ws.Close()
}
