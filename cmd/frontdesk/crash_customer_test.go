package main

// The crash test's customers: web chat visitors that speak
// docs/protocol.md, resume after every crash and record every ack.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// registry is what the customers and the agent share while the load
// runs: which customer each conversation belongs to, and how many
// sessions have started.
type registry struct {
	mu      sync.Mutex
	patient map[string]bool // conversation id -> its customer is patient
	// welcomes counts welcome frames, so the test can tell when the
	// customers are back after a restart.
	welcomes atomic.Int64
}

func (r *registry) add(conv string, patient bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.patient[conv] = patient
}

// servable reports whether the agent may take the conversation: it is
// known and its customer is not one of the patient ones.
func (r *registry) servable(conv string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.patient[conv]
	return ok && !p
}

// frame is any frame the server sends a customer; Type says which fields
// matter.
type frame struct {
	Type           string `json:"type"`
	Token          string `json:"token"`
	ConversationID string `json:"conversation_id"`
	State          string `json:"state"`
	Seq            int64  `json:"seq"`
	From           string `json:"from"`
	Text           string `json:"text"`
	ID             string `json:"id"`
	Code           string `json:"code"`
	Message        string `json:"message"`
}

// What customers say: questions the demo knowledge base answers, small
// talk, requests for a person, and questions it cannot answer (twice in a
// row, the bot offers a person).
var (
	crashQuestions = []string{
		"how long does delivery take?", "i want a refund", "how do I return a lamp?",
		"where is my order", "what payment methods do you accept", "how do i reset my password",
		"is there a warranty on lamps", "can I get an invoice", "do you ship abroad",
	}
	crashSmallTalk = []string{"hello", "thanks", "thank you very much", "hi there", "ok great"}
	crashPerson    = []string{"I want to talk to a human", "can I speak to a real person please", "connect me to an agent"}
	crashUnknown   = []string{"what is the capital of france", "purple monkey dishwasher"}
)

// maxMessagesPerCustomer bounds what one customer sends in a run.
const maxMessagesPerCustomer = 400

// outMsg is a customer message not yet acknowledged.
type outMsg struct {
	id, text, payload string
	conn              int // the connection it was last sent on; 0: to be sent
	notBefore         time.Time
}

// ack is a message the server acknowledged, in the order acks arrived.
type ack struct {
	conv, id, text string
	seq            int64
	at             time.Time // when the ack arrived
}

// customer is one web chat visitor. It keeps sending messages, at most
// two unacknowledged at once; after a broken connection it resumes with
// its token and last_seq, sends most unacknowledged messages again with
// the same id and gives up on the others (which may or may not have been
// stored). It records every ack. Its fields belong to the goroutine
// running run until run returns.
type customer struct {
	idx     int
	patient bool // the agent never takes its conversation: a hand-off must stay queued
	url     string
	origin  string
	rnd     *rand.Rand
	reg     *registry

	token   string
	conv    string
	lastSeq int64
	nextID  int
	pending []*outMsg
	sent    map[string]string // client id -> text, of every message sent
	acked   map[string]int64  // client id -> acknowledged seq
	acks    []ack
	// ackTimes are when acks arrived, readable while the customer runs.
	ackMu    sync.Mutex
	ackTimes []time.Time
	convs    []string        // every conversation welcomed into, in order
	queued   map[string]bool // conversations seen queued (welcome or state frame)
	// problems are protocol violations seen while the load ran.
	problems    []string
	abandoned   int
	rateLimited int
	stateFrames map[string]int // state frames received, by state
}

func newCustomer(idx int, patient bool, base, origin string, seed uint64, reg *registry) *customer {
	return &customer{
		idx: idx, patient: patient, url: "ws" + strings.TrimPrefix(base, "http") + "/ws", origin: origin,
		rnd: rand.New(rand.NewPCG(seed, uint64(idx))), reg: reg,
		sent: map[string]string{}, acked: map[string]int64{}, queued: map[string]bool{}, stateFrames: map[string]int{},
	}
}

func (c *customer) problemf(format string, args ...any) {
	if len(c.problems) < 50 {
		c.problems = append(c.problems, fmt.Sprintf("customer %d (conversation %s): ", c.idx, c.conv)+fmt.Sprintf(format, args...))
	}
}

// run connects, and reconnects after every broken connection, until stop
// is closed (then it waits up to 3 s for the acks of what it sent, and
// returns) or ctx is done.
func (c *customer) run(ctx context.Context, stop <-chan struct{}) {
	for conn := 1; ctx.Err() == nil && conn < 10000; conn++ {
		select {
		case <-stop:
			return
		default:
		}
		if c.session(ctx, stop, conn) {
			return
		}
		sleep(ctx, time.Duration(20+c.rnd.IntN(40))*time.Millisecond)
	}
}

// session is one connection. It reports whether the customer is done.
func (c *customer) session(ctx context.Context, stop <-chan struct{}, conn int) (done bool) {
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	ws, _, err := (&websocket.Dialer{}).DialContext(dctx, c.url, http.Header{"Origin": {c.origin}})
	cancel()
	if err != nil {
		return false
	}
	frames := make(chan frame, 64)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(frames)
		for {
			var f frame
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			select {
			case frames <- f:
			case <-quit:
				return
			}
		}
	})
	defer func() {
		close(quit)
		ws.Close()
		wg.Wait()
	}()

	helloSeq := c.lastSeq
	if err := c.write(ws, map[string]any{"type": "hello", "token": c.token, "last_seq": helloSeq}); err != nil {
		return false
	}
	s := &connState{n: conn, helloSeq: helloSeq, connSeq: -1, welcomeBy: time.Now().Add(5 * time.Second)}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var drainUntil time.Time
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				c.lost(conn)
				return !drainUntil.IsZero()
			}
			c.handle(f, s)
		case <-tick.C:
		case <-stop:
			stop = nil
			drainUntil = time.Now().Add(3 * time.Second)
		case <-ctx.Done():
			return true
		}
		now := time.Now()
		draining := !drainUntil.IsZero()
		switch {
		case draining && (now.After(drainUntil) || s.welcomed && c.inflight(conn) == 0):
			return true
		case !s.welcomed && now.After(s.welcomeBy):
			c.problemf("no welcome within 5 s of hello")
			c.lost(conn)
			return false
		case !s.welcomed, draining:
			continue
		}
		if err := c.send(ws, s, now); err != nil {
			c.lost(conn)
			return false
		}
	}
}

// connState is what one connection has seen.
type connState struct {
	n         int
	helloSeq  int64 // last_seq sent in hello
	connSeq   int64 // highest seq of a message frame on this connection
	welcomed  bool
	welcomeBy time.Time
	restarted bool // welcome named another conversation: its seqs start at 1
	nextNew   time.Time
}

func (c *customer) write(ws *websocket.Conn, v any) error {
	ws.SetWriteDeadline(time.Now().Add(2 * time.Second))
	return ws.WriteJSON(v)
}

// inflight counts messages sent on the connection and not acknowledged.
func (c *customer) inflight(conn int) int {
	n := 0
	for _, m := range c.pending {
		if m.conn == conn {
			n++
		}
	}
	return n
}

// send sends again what waits to be sent, then a new message when fewer
// than two are unacknowledged and the customer's pause is over.
func (c *customer) send(ws *websocket.Conn, s *connState, now time.Time) error {
	for _, m := range c.pending {
		if m.conn == s.n || now.Before(m.notBefore) {
			continue
		}
		m.conn = s.n
		if err := c.write(ws, map[string]any{"type": "message", "id": m.id, "text": m.text, "payload": m.payload}); err != nil {
			return err
		}
	}
	if c.inflight(s.n) >= 2 || now.Before(s.nextNew) || c.nextID >= maxMessagesPerCustomer {
		return nil
	}
	m := c.newMessage()
	m.conn = s.n
	c.pending = append(c.pending, m)
	c.sent[m.id] = m.text
	s.nextNew = now.Add(time.Duration(150+c.rnd.IntN(300)) * time.Millisecond)
	return c.write(ws, map[string]any{"type": "message", "id": m.id, "text": m.text, "payload": m.payload})
}

func (c *customer) newMessage() *outMsg {
	c.nextID++
	m := &outMsg{id: fmt.Sprintf("crash-c%02d-m%04d", c.idx, c.nextID)}
	pick := func(list []string) string { return list[c.rnd.IntN(len(list))] }
	switch r := c.rnd.Float64(); {
	case r < 0.35:
		m.text = pick(crashQuestions)
	case r < 0.50:
		m.text = pick(crashSmallTalk)
	case r < 0.70:
		m.text = pick(crashPerson)
	case r < 0.77:
		m.text, m.payload = "Talk to a person", "human"
	case r < 0.87:
		m.text = pick(crashUnknown)
	default:
		m.text, m.payload = "Yes", "helpful:yes"
	}
	return m
}

// handle takes one frame from the server.
func (c *customer) handle(f frame, s *connState) {
	switch f.Type {
	case "welcome":
		if s.welcomed {
			c.problemf("a second welcome on one connection")
		}
		s.welcomed = true
		c.reg.welcomes.Add(1)
		c.token = f.Token
		if c.conv != "" && f.ConversationID != c.conv {
			// No conversation is ever closed here, so a new one means the
			// old one was lost.
			c.problemf("resumed into another conversation %s", f.ConversationID)
			s.restarted = true
			c.lastSeq = 0
		}
		if c.conv != f.ConversationID {
			c.conv = f.ConversationID
			c.convs = append(c.convs, c.conv)
			c.reg.add(c.conv, c.patient)
		}
		if f.State == "queued" {
			c.queued[c.conv] = true
		}
	case "message":
		if f.Seq <= s.connSeq {
			c.problemf("message seq %d after seq %d on one connection", f.Seq, s.connSeq)
		}
		if f.Seq <= s.helloSeq && !s.restarted {
			c.problemf("resumed with last_seq %d but was sent seq %d: the conversation now ends before what was already shown", s.helloSeq, f.Seq)
			s.restarted = true // report it once per connection
		}
		s.connSeq = max(s.connSeq, f.Seq)
		c.lastSeq = max(c.lastSeq, f.Seq)
		if f.From == "customer" && f.ID != "" {
			if text, ok := c.sent[f.ID]; !ok {
				c.problemf("message seq %d carries id %q that this customer never sent", f.Seq, f.ID)
			} else if text != f.Text {
				c.problemf("message %q at seq %d reads %q, sent %q", f.ID, f.Seq, f.Text, text)
			}
		}
	case "ack":
		c.onAck(f.ID, f.Seq)
		c.lastSeq = max(c.lastSeq, f.Seq)
	case "state":
		c.stateFrames[f.State]++
		if f.State == "queued" {
			c.queued[c.conv] = true
		}
	case "error":
		i := c.pendingIndex(f.ID)
		switch {
		case i >= 0 && f.Code == "rate_limited":
			// Send it again later, and nothing new until then.
			c.rateLimited++
			later := time.Now().Add(1200 * time.Millisecond)
			c.pending[i].conn, c.pending[i].notBefore = 0, later
			s.nextNew = later
		case i >= 0 && f.Code == "internal":
			c.pending[i].conn, c.pending[i].notBefore = 0, time.Now().Add(200*time.Millisecond)
		default:
			c.problemf("error frame %s %q (id %q)", f.Code, f.Message, f.ID)
		}
	case "typing":
	default:
		c.problemf("unknown frame type %q", f.Type)
	}
}

func (c *customer) pendingIndex(id string) int {
	for i, m := range c.pending {
		if id != "" && m.id == id {
			return i
		}
	}
	return -1
}

// onAck records that the server stored the message as seq.
func (c *customer) onAck(id string, seq int64) {
	if prev, ok := c.acked[id]; ok {
		if prev != seq {
			c.problemf("message %q acknowledged as seq %d, then as seq %d", id, prev, seq)
		}
		return
	}
	text, ok := c.sent[id]
	if !ok {
		c.problemf("ack for id %q that this customer never sent", id)
		return
	}
	if i := c.pendingIndex(id); i >= 0 {
		c.pending = append(c.pending[:i], c.pending[i+1:]...)
	}
	c.acked[id] = seq
	now := time.Now()
	c.acks = append(c.acks, ack{conv: c.conv, id: id, text: text, seq: seq, at: now})
	c.ackMu.Lock()
	c.ackTimes = append(c.ackTimes, now)
	c.ackMu.Unlock()
}

// ackedBetween counts the acks that arrived in [from, to); safe while the
// customer runs.
func (c *customer) ackedBetween(from, to time.Time) int {
	c.ackMu.Lock()
	defer c.ackMu.Unlock()
	n := 0
	for _, at := range c.ackTimes {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// lost handles a broken connection: of the messages sent on it and not
// acknowledged, about a quarter are given up (they may or may not be
// stored) and the rest are sent again, with the same id, on the next.
func (c *customer) lost(conn int) {
	kept := c.pending[:0]
	for _, m := range c.pending {
		if m.conn == conn && c.rnd.IntN(4) == 0 {
			c.abandoned++
			continue
		}
		if m.conn == conn {
			m.conn = 0
		}
		kept = append(kept, m)
	}
	c.pending = kept
}
