package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/wait"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// inProcess is "frontdesk serve" run in this process on a free port: what
// startServe and serveStoppableIn run, and what tests that read its log
// or watch it stop use directly.
type inProcess struct {
	base   string
	addr   string
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
	err    error // what run returned, once stopped
}

// serveInProcess starts serve on dataDir with the extra flags and waits
// until /healthz answers; it is stopped when the test ends.
func serveInProcess(t *testing.T, dataDir string, extra ...string) *inProcess {
	t.Helper()
	p := &inProcess{addr: freeAddr(t), stderr: &syncBuffer{}, done: make(chan error, 1)}
	p.base = "http://" + p.addr
	seedKB(t, dataDir, extra)
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	args := append([]string{"serve", "--addr", p.addr, "--data-dir", dataDir}, extra...)
	go func() { p.done <- run(ctx, args, &syncBuffer{}, p.stderr) }()
	t.Cleanup(func() {
		p.shutdown(t)
		if t.Failed() {
			t.Logf("serve's log:\n%s", p.stderr.String())
		}
	})
	client := &http.Client{Timeout: time.Second}
	// Building the knowledge base under -race on a busy machine has taken
	// 20 s; serve exiting ends the wait at once.
	wait.For(t, time.Minute, "serve to answer /healthz", func() bool {
		select {
		case err := <-p.done:
			p.done = nil
			t.Fatalf("serve exited: %v", err)
		default:
		}
		// Its own log says it listens: then the answer is not from
		// another server that held the port a moment.
		if log := p.stderr.String(); !strings.Contains(log, "msg=listening addr="+p.addr) &&
			!strings.Contains(log, `"msg":"listening","addr":"`+p.addr+`"`) {
			return false
		}
		resp, err := client.Get(p.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// shutdown stops serve if it runs, and fails t if run returned an error.
func (p *inProcess) shutdown(t *testing.T) {
	if p.done == nil {
		return
	}
	if err, _ := p.stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
}

// stop cancels serve's context, as SIGTERM does, and returns what run
// returned and how long it took.
func (p *inProcess) stop() (error, time.Duration) {
	start := time.Now()
	p.cancel()
	p.err = <-p.done
	p.done = nil
	return p.err, time.Since(start)
}

// stalledRequests opens n connections to addr that each send the headers
// of a POST to path announcing a 1000-byte body, then one byte of it every
// half second, until the test ends or the server closes the connection:
// clients that never finish a request.
func stalledRequests(t *testing.T, addr, path string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", path, addr)
		conns[i] = c
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for _, c := range conns {
				c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				c.Write([]byte(" "))
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
	return conns
}

// healthLatency gets /healthz k times, each on a new connection, and
// returns the slowest answer.
func healthLatency(t *testing.T, base string, k int) time.Duration {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var worst time.Duration
	for range k {
		start := time.Now()
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			t.Fatalf("healthz: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %s", resp.Status)
		}
		worst = max(worst, time.Since(start))
	}
	return worst
}

// TestStalledClientsNeitherStarveHealthNorDelayShutdown runs the real
// binary with 200 clients stuck in the middle of a request body: /healthz
// still answers at once, and SIGTERM stops the server cleanly (exit 0)
// within 2 s instead of waiting on them.
func TestStalledClientsNeitherStarveHealthNorDelayShutdown(t *testing.T) {
	dir := t.TempDir()
	bin := buildFrontdesk(t)
	srv := &serverProc{bin: bin, dataDir: filepath.Join(dir, "data"), addr: freeAddr(t), logPath: filepath.Join(dir, "serve.log")}
	t.Cleanup(srv.kill)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := srv.start(ctx); err != nil {
		t.Fatalf("%v\n%s", err, srv.logTail(30))
	}
	base := "http://" + srv.addr
	const stalled = 200
	conns := stalledRequests(t, srv.addr, "/api/agent/login", stalled/2)
	conns = append(conns, stalledRequests(t, srv.addr, "/api/agent/agents", stalled/2)...)
	time.Sleep(time.Second) // every one of them is inside its handler by now
	worst := healthLatency(t, base, 20)
	t.Logf("/healthz with %d stalled requests: slowest of 20 answers %v", stalled, worst)
	if worst >= 100*time.Millisecond {
		t.Errorf("/healthz took %v with %d stalled requests, want < 100 ms", worst, stalled)
	}

	start := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("serve still running 5 s after SIGTERM\n%s", srv.logTail(20))
	}
	took := time.Since(start)
	code := srv.cmd.ProcessState.ExitCode()
	srv.cmd = nil
	t.Logf("SIGTERM to exit with %d stalled requests: %v, status %d", stalled, took, code)
	if code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0\n%s", code, srv.logTail(20))
	}
	if took > 2*time.Second {
		t.Errorf("serve took %v to stop, want at most 2 s", took)
	}
	if log := srv.logTail(20); !strings.Contains(log, "msg=stopped") || strings.Contains(log, "frontdesk: ") {
		t.Errorf("serve did not stop cleanly:\n%s", log)
	}
	// The stalled connections were closed by the server.
	for i, c := range conns[:10] {
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, syscall.ETIMEDOUT) || isTimeout(err) {
			t.Errorf("stalled connection %d still open after the server stopped (%v)", i, err)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestShortTimeoutsCutStalledRequestsButNotWebsockets runs serve with
// read, write and idle timeouts of 300 ms: a client that stops in the
// middle of a body is cut off once the read timeout has passed since its
// request began, while a customer's and an agent's websocket, idle for
// four times every timeout, still work: once upgraded, a websocket is no
// longer an HTTP request.
func TestShortTimeoutsCutStalledRequestsButNotWebsockets(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "a long password\n")
	if _, errs, err := runCmd(t, "agent", "add", "--data-dir", dataDir, "--name", "Maria", "--email", "maria@example.com"); err != nil {
		t.Fatalf("agent add: %v\n%s", err, errs)
	}
	// Logged in before serve starts: checking a password can take longer
	// than the short write timeout, under the race detector.
	db, err := bolt.Open(filepath.Join(dataDir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := handoff.NewAgents(db, handoff.AgentsOptions{}).Login(context.Background(), "maria@example.com", "a long password", "")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := serveInProcess(t, dataDir, "--read-timeout", "300ms", "--write-timeout", "300ms", "--idle-timeout", "300ms", "--manual-assign", "true")
	agent, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/api/agent/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	customer := dialCustomer(t, p.base)
	idleFrom := time.Now()

	conns := stalledRequests(t, p.addr, "/api/agent/login", 3)
	start := time.Now()
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		// Whatever the server answers, it then closes the connection.
		r := bufio.NewReader(c)
		for {
			if _, err := r.ReadByte(); err != nil {
				if isTimeout(err) {
					t.Fatalf("stalled request %d still open after %v", i, time.Since(start))
				}
				break
			}
		}
	}
	took := time.Since(start)
	t.Logf("stalled requests cut after %v with --read-timeout 300ms", took)
	if took > 2*time.Second {
		t.Errorf("stalled requests cut after %v, want about 300 ms", took)
	}
	// A whole request gets through (and is refused for its body).
	if code := agentAPI(t, p.base, "", "POST", "/api/agent/login", "not an object", nil); code != http.StatusBadRequest {
		t.Errorf("a whole login request: status %d, want 400", code)
	}

	time.Sleep(time.Until(idleFrom.Add(1200 * time.Millisecond)))
	customer.say("how long does delivery take", "")
	customer.until(botSays("Was this helpful?"))
	customer.say("I want to talk to a person", "")
	customer.until(botSays("connecting you with a person"))
	agent.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f map[string]any
		if err := agent.ReadJSON(&f); err != nil {
			t.Fatalf("the agent's websocket after %v idle: %v", time.Since(idleFrom), err)
		}
		if ticket, _ := f["ticket"].(map[string]any); f["type"] == "queue" && ticket["conversation_id"] == customer.conv {
			break
		}
	}
	if err := agent.WriteJSON(map[string]any{"type": "heartbeat", "presence": "online"}); err != nil {
		t.Errorf("writing to the agent's websocket: %v", err)
	}
}
