package main

import (
	"context"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/wait"
)

const (
	crashCustomers = 40
	crashKills     = 5
	// crashConsoles is how many consoles the agent works at once.
	crashConsoles = 3
)

// TestCrashKeepsAcknowledgedWork kills the real server with SIGKILL five
// times, after 300 to 1500 ms of load each, while 40 customers chat and an
// agent works the queue from three consoles, restarting it on the same
// data directory each time. Then, with the server running, it checks
// through the customer protocol and the agent API that
//
//   - every acknowledged customer message is in its conversation's log,
//     once, at the acknowledged seq, and acks came in seq order;
//   - every log is seq 1..N, and a resumed customer gets exactly it;
//   - each conversation's owner agrees with its ticket, and the queue
//     listing with both; a hand-off the bot announced has a ticket;
//   - a patient customer (every third: the agent never takes them) who
//     was told they are queued is still queued;
//   - what the agent API answered 2xx (claims, resolves, returns,
//     replies, notes) is in effect, and nothing is stored twice.
//
// Messages sent but never acknowledged may or may not be stored; if
// stored, they are stored once. Findings are reported by kind, each with
// the conversation and what was expected.
func TestCrashKeepsAcknowledgedWork(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it five times under load")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	bin := buildFrontdesk(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	const email, password = "ann@example.com", "a long password"
	add := exec.Command(bin, "agent", "add", "--data-dir", dataDir, "--name", "Ann", "--email", email, "--role", "admin")
	add.Env = childEnv()
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("agent add: %v\n%s", err, out)
	}
	srv := &serverProc{bin: bin, dataDir: dataDir, addr: freeAddr(t), logPath: filepath.Join(dir, "serve.log")}
	t.Cleanup(srv.kill)
	start := func() {
		t.Helper()
		if err := srv.start(ctx); err != nil {
			t.Fatalf("%v\n%s", err, srv.logTail(30))
		}
	}
	start()
	base := "http://" + srv.addr

	reg := &registry{patient: map[string]bool{}}
	customers := make([]*customer, crashCustomers)
	for i := range customers {
		customers[i] = newCustomer(i, i%3 == 0, base, base, seed, reg)
	}
	consoles := make([]*crashAgent, crashConsoles)
	for i := range consoles {
		consoles[i] = newCrashAgent(base, email, password, i, crashConsoles, seed, reg)
	}
	stop := make(chan struct{})
	stopLoad := sync.OnceFunc(func() { close(stop) })
	var wg sync.WaitGroup
	for _, c := range customers {
		wg.Go(func() { c.run(ctx, stop) })
	}
	for _, a := range consoles {
		wg.Go(func() { a.run(ctx, stop) })
	}
	defer func() { stopLoad(); wg.Wait() }() // also when a restart fails

	began := time.Now()
	rnd := rand.New(rand.NewPCG(seed, 1<<33)) // customers use streams 0.., consoles 1<<32..
	var mark int64
	for k := 1; k <= crashKills; k++ {
		back := waitWelcomes(ctx, reg, mark, crashCustomers*9/10, 3*time.Second)
		load := time.Duration(300+rnd.IntN(1201)) * time.Millisecond
		sleep(ctx, load)
		srv.kill()
		mark = reg.welcomes.Load()
		t.Logf("kill %d: %d customers back after the restart, then %v of load", k, back, load)
		start()
	}
	back := waitWelcomes(ctx, reg, mark, crashCustomers*9/10, 3*time.Second)
	sleep(ctx, time.Second)
	stopLoad()
	wg.Wait()
	t.Logf("load with %d kills took %v; %d customers back after the last restart", crashKills, time.Since(began).Round(time.Millisecond), back)

	v := &crashCheck{consoles: consoles, customers: customers, f: &findings{}}
	v.run(ctx)
	v.logStats(t)
	if v.f.report(t) {
		if errs := errorLines(srv.logPath, 15); errs != "" {
			t.Logf("server errors logged:\n%s", errs)
		}
	}
}

// waitWelcomes waits until at least n sessions started since mark (the
// count of welcomes before the restart), or for at most d, and returns
// how many did.
func waitWelcomes(ctx context.Context, reg *registry, mark int64, n int, d time.Duration) int {
	wait.Until(ctx, d, func() bool { return reg.welcomes.Load()-mark >= int64(n) })
	return int(reg.welcomes.Load() - mark)
}
