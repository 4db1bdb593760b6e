package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// How bench opens and paces its connections.
const (
	// benchBatch connections are opened every benchRampTick, and at most
	// benchInFlight of them may be waiting for their welcome, so that
	// thousands of connections do not reach the server in one burst.
	benchBatch    = 200
	benchRampTick = 100 * time.Millisecond
	benchInFlight = 500
	// benchHelloTimeout bounds the dial, the upgrade and the welcome with
	// the greeting.
	benchHelloTimeout = 30 * time.Second
	// benchDrain is how long turns still waiting at the end of the run
	// may take to be answered before they count as unanswered.
	benchDrain = 10 * time.Second
	// benchBurst is the client's own token bucket at --rate 0: this many
	// turns at once, then one a second. The server allows 10 at once, then
	// one a second; keeping 5 in hand absorbs the network's jitter, so the
	// bench never trips the server's limit.
	benchBurst = 5
	// benchEchoConns connections, besides the conversations, measure the
	// websocket ping/pong round trip every benchEchoEvery.
	benchEchoConns = 4
	benchEchoEvery = 100 * time.Millisecond
	// benchSettle is how long idle connections settle before the server's
	// memory is read.
	benchSettle = 2 * time.Second
	// benchShownErrors errors are printed; the rest are only counted.
	benchShownErrors = 5
)

// benchOptions are the settings of one bench run.
type benchOptions struct {
	// url is the first of urls: the server whose process bench looks
	// for. Conversations and echo probes go to urls in turn (several
	// nodes of one cluster, customers spread over them).
	url           *url.URL
	urls          []*url.URL
	conversations int
	// rate is turns a second per conversation; 0 means the next turn as
	// soon as the previous one is answered (within the server's limit).
	rate      float64
	duration  time.Duration
	questions []string
	idle      bool
}

func benchSettings(fs *flag.FlagSet) *settings {
	s := newSettings(fs)
	s.addRepeated("url", "customer websocket `URL` of the server to load (default ws://127.0.0.1:8080/ws); given more than once, conversations go to each in turn, e.g. to the nodes of a cluster")
	s.defaults["url"] = "ws://127.0.0.1:8080/ws"
	s.add("conversations", "10", "simultaneous conversations (one websocket each)")
	s.add("rate", "1", "customer messages a second per conversation, e.g. 0.5; 0: the next as soon as the previous is answered, within the server's limit (5 at once, then 1/s)")
	s.add("duration", "30s", "how long to send, once every conversation is connected")
	s.add("questions", "", "JSON Lines `file` of {\"text\": ...} to ask instead of the built-in questions, which the demo content answers")
	s.addBool("idle", "hold the connections without sending and report the server's memory per connection (server on this machine)")
	s.addBool("json", "print exactly one JSON object on stdout")
	return s
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "Usage:\n  frontdesk bench [--url ws://HOST:PORT/ws]... [--conversations N] [--rate R] [--duration 30s]\n"+
		"                  [--questions FILE.jsonl] [--idle] [--json]\n\n"+
		"Loads a running server over the customer websocket, as N customers asking questions,\n"+
		"and reports turns a second and the time from a message to the bot's answer. Every\n"+
		"flag has a default (below): without flags it loads ws://127.0.0.1:8080/ws.\n\nFlags:\n", stderr)
	cfg := benchSettings(fs)
	pos, err := cfg.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("bench takes no arguments, got %q", pos)}
	}
	o, err := benchOptionsFrom(cfg)
	if err != nil {
		return err
	}
	asJSON, err := cfg.boolean("json")
	if err != nil {
		return err
	}
	b := newBench(o, &lockedWriter{w: stderr})
	res, err := b.run(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	res.print(stdout)
	return nil
}

// benchOptionsFrom reads and checks the settings.
func benchOptionsFrom(cfg *settings) (benchOptions, error) {
	var o benchOptions
	var err error
	for _, raw := range cfg.list("url") {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return o, usageError{fmt.Sprintf("url: %q is not a websocket URL such as ws://127.0.0.1:8080/ws", raw)}
		}
		o.urls = append(o.urls, u)
	}
	if len(o.urls) == 0 {
		return o, usageError{"url: want a websocket URL such as ws://127.0.0.1:8080/ws"}
	}
	o.url = o.urls[0]
	if o.conversations, err = cfg.integer("conversations"); err != nil {
		return o, err
	}
	if o.conversations < 1 {
		return o, usageError{"conversations: at least 1"}
	}
	if o.rate, err = cfg.float("rate"); err != nil {
		return o, err
	}
	if o.rate < 0 {
		return o, usageError{"rate: 0 or more messages a second"}
	}
	if o.duration, err = cfg.duration("duration"); err != nil {
		return o, err
	}
	if o.duration <= 0 {
		return o, usageError{"duration: must be positive, such as 30s"}
	}
	if o.idle, err = cfg.boolean("idle"); err != nil {
		return o, err
	}
	o.questions = benchQuestions
	if file := cfg.get("questions"); file != "" {
		if o.questions, err = readQuestions(file); err != nil {
			return o, err
		}
	}
	return o, nil
}

// bench is one run: its conversations, echo probes and what they measured.
// Counters are atomic and sample lists locked, so the conversations' many
// goroutines record without a common lock on the hot path.
type bench struct {
	opts   benchOptions
	log    io.Writer // progress, errors and warnings (stderr)
	dialer *websocket.Dialer
	// headers are the handshake headers of each of opts.urls.
	headers []http.Header

	connected atomic.Int64
	offered   atomic.Int64 // turns that were due
	skipped   atomic.Int64 // due while the previous turn was unanswered: not sent
	served    atomic.Int64 // answered
	refused   atomic.Int64 // answered with an error frame
	handoffs  atomic.Int64 // conversations handed to a person
	errors    atomic.Int64

	turns  samples // message sent to the bot's first answer
	hellos samples // dial to greeting
	echo   samples // ping to pong

	mu       sync.Mutex
	errCodes map[string]int64
	notes    int // hand-offs reported on log
}

func newBench(o benchOptions, log io.Writer) *bench {
	if len(o.urls) == 0 {
		o.urls = []*url.URL{o.url}
	}
	var headers []http.Header
	for _, u := range o.urls {
		// The server accepts a websocket whose Origin is its own host.
		origin := "http://" + u.Host
		if u.Scheme == "wss" {
			origin = "https://" + u.Host
		}
		headers = append(headers, http.Header{"Origin": {origin}})
	}
	return &bench{
		opts: o,
		log:  log,
		dialer: &websocket.Dialer{
			HandshakeTimeout: benchHelloTimeout,
			ReadBufferSize:   1024,
			WriteBufferSize:  1024,
		},
		headers:  headers,
		errCodes: map[string]int64{},
	}
}

// run connects the conversations, loads the server for the duration (or
// holds the connections, with --idle), closes every connection with a
// normal close frame and returns the figures. Cancelling ctx ends the run
// early; what was measured until then is returned.
//
// run owns every goroutine it starts: one per conversation (which owns
// that conversation's reader), the echo probes and the progress line; all
// have ended when it returns.
func (b *bench) run(ctx context.Context) (*benchResult, error) {
	o := b.opts
	res := &benchResult{URL: o.url.String(), Conversations: o.conversations, Rate: o.rate, Idle: o.idle}
	b.checkFileLimit()
	if o.rate > 1 && !o.idle {
		fmt.Fprintf(b.log, "bench: warning: --rate %g is above the server's limit per connection (10 at once, then 1/s); expect rate_limited errors\n", o.rate)
	}
	var srv localServer
	if len(o.urls) == 1 {
		srv = b.findServer(res)
	} else {
		for _, u := range o.urls[1:] {
			res.URL += "," + u.String()
		}
		if o.idle {
			fmt.Fprintf(b.log, "bench: %d servers: counting connections, not measuring memory\n", len(o.urls))
		}
	}

	start := time.Now()
	progressCtx, stopProgress := context.WithCancel(ctx)
	var progress sync.WaitGroup
	progress.Go(func() { b.progress(progressCtx, start) })
	defer func() { stopProgress(); progress.Wait() }()

	// The first conversation alone, so that a wrong URL or a server that
	// is not running gives one clear error at once.
	first := newVisitor(b, 0)
	if err := first.connect(ctx); err != nil {
		return nil, fmt.Errorf("connect to %s: %w%s", o.urls[0], err, connectHint(err))
	}
	b.connected.Add(1)

	// Every conversation waits for loadStart, so the load begins once all
	// are connected, and sends until loadCtx ends.
	loadCtx, endLoad := context.WithCancel(ctx)
	defer endLoad()
	loadStart := make(chan struct{})
	var conns, ready sync.WaitGroup
	inFlight := make(chan struct{}, benchInFlight)
	ready.Add(1)
	conns.Go(func() { ready.Done(); first.live(ctx, loadCtx, loadStart) })
	b.ramp(ctx, inFlight, func(c *visitor) {
		ready.Add(1)
		conns.Go(func() {
			err := c.connect(ctx)
			<-inFlight
			if err != nil {
				ready.Done()
				if ctx.Err() == nil {
					b.fail("connect", err.Error()+connectHint(err))
				}
				return
			}
			b.connected.Add(1)
			ready.Done()
			c.live(ctx, loadCtx, loadStart)
		})
	})
	ready.Wait()
	res.Connected = b.connected.Load()

	echoCtx, stopEcho := context.WithCancel(ctx)
	var echo sync.WaitGroup
	defer func() { stopEcho(); echo.Wait() }()
	if !o.idle {
		echo.Go(func() { b.echoProbes(echoCtx) })
	}
	t0 := time.Now()
	close(loadStart)
	if o.idle {
		if srv.pid != 0 {
			b.measureIdle(ctx, srv, res)
		}
		// After the memory, so that the probes' connections are not in it.
		echo.Go(func() { b.echoProbes(echoCtx) })
	}
	select {
	case <-time.After(time.Until(t0.Add(o.duration))):
	case <-ctx.Done():
	}
	elapsed := time.Since(t0)
	endLoad()
	conns.Wait()
	stopEcho()
	echo.Wait()
	if srv.pid != 0 && !o.idle {
		if kb, err := rssKB(srv.pid); err == nil {
			res.ServerRSSAfterKB = kb
		}
	}
	b.summarise(res, elapsed)
	return res, nil
}

// ramp hands conversations 2 to N to launch: benchBatch every
// benchRampTick, each once it has a place in inFlight (launch frees it
// when the conversation has connected or failed to).
func (b *bench) ramp(ctx context.Context, inFlight chan struct{}, launch func(*visitor)) {
	tick := time.NewTicker(benchRampTick)
	defer tick.Stop()
	for i := 1; i < b.opts.conversations; i++ {
		if i%benchBatch == 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
			return
		}
		launch(newVisitor(b, i))
	}
}

// measureIdle reads the server's memory once the idle connections have
// settled: twice, a second apart, keeping the higher.
func (b *bench) measureIdle(ctx context.Context, srv localServer, res *benchResult) {
	for i, wait := range []time.Duration{benchSettle, time.Second} {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
		kb, err := rssKB(srv.pid)
		if err != nil {
			fmt.Fprintf(b.log, "bench: server memory: %v\n", err)
			return
		}
		if i == 0 || kb > res.ServerRSSAfterKB {
			res.ServerRSSAfterKB = kb
		}
	}
	if n := b.connected.Load(); n > 0 && res.ServerRSSBeforeKB > 0 {
		res.ServerKBPerConn = float64(res.ServerRSSAfterKB-res.ServerRSSBeforeKB) / float64(n)
	}
}

// target is the URL and handshake headers of conversation or probe i:
// the servers in turn.
func (b *bench) target(i int) (string, http.Header) {
	n := i % len(b.opts.urls)
	return b.opts.urls[n].String(), b.headers[n]
}

// fail counts an error and prints the first few.
func (b *bench) fail(code, detail string) {
	b.errors.Add(1)
	b.mu.Lock()
	b.errCodes[code]++
	n := b.errors.Load()
	b.mu.Unlock()
	switch {
	case n <= benchShownErrors:
		fmt.Fprintf(b.log, "bench: error %s: %s\n", code, detail)
	case n == benchShownErrors+1:
		fmt.Fprintf(b.log, "bench: more errors are counted, not shown\n")
	}
}

// handedOff counts a conversation the bot handed to a person and says
// which question did it, for the first few.
func (b *bench) handedOff(question string) {
	b.handoffs.Add(1)
	b.mu.Lock()
	b.notes++
	n := b.notes
	b.mu.Unlock()
	if n <= benchShownErrors {
		fmt.Fprintf(b.log, "bench: hand-off after %q; that conversation stops sending\n", question)
	}
}

// progress prints a line a second until ctx ends.
func (b *bench) progress(ctx context.Context, start time.Time) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			served := b.served.Load()
			line := fmt.Sprintf("bench: %.0fs, connected %d/%d, %d turns/s, p50 %s, errors %d",
				now.Sub(start).Seconds(), b.connected.Load(), b.opts.conversations, served-last,
				fmtMs(b.turns.percentile(0.5)), b.errors.Load())
			if h := b.handoffs.Load(); h > 0 {
				line += fmt.Sprintf(", hand-offs %d", h)
			}
			fmt.Fprintln(b.log, line)
			last = served
		}
	}
}

// connectHint explains errors that have a known cure.
func connectHint(err error) string {
	switch {
	case errors.Is(err, syscall.EMFILE):
		return " (too many open files: raise the limit with ulimit -n, for the server too)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return " (is frontdesk serve running there?)"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return " (out of local ports for new connections)"
	case errors.Is(err, websocket.ErrBadHandshake):
		return " (is the URL the server's /ws?)"
	}
	return ""
}

// checkFileLimit raises this process's open-file limit as far as it may and
// warns when it is still too low for the connections, or when the local
// server's is.
func (b *bench) checkFileLimit() {
	need := uint64(b.opts.conversations + benchEchoConns + 64)
	got, err := raiseFileLimit(need)
	if err == nil && got < need {
		fmt.Fprintf(b.log, "bench: warning: this process may open %d files but %d connections need about %d; raise the limit (ulimit -n 65536)\n", got, b.opts.conversations, need)
	}
}

// lockedWriter lets many goroutines write whole lines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
