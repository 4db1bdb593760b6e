package main

// The crash test's server: the real binary, built once per run, as a
// child process that can be killed with SIGKILL and started again.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/freeport"
	"github.com/frontdesk/frontdesk/internal/wait"
)

// buildFrontdesk builds this command with the go tool, as a person
// would, once per test process, and returns the binary's path. It is
// built without -race whatever the test runs with: the binary is the
// system under test.
func buildFrontdesk(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "frontdesk-bin-")
		if built.err != nil {
			return
		}
		bin := filepath.Join(built.dir, "frontdesk")
		if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built.bin = bin
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// built is the binary the tests run, built once per test process (a
// build takes tens of seconds on a busy machine) into a temporary
// directory that TestMain removes.
var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

// childEnv is this process's environment without FRONTDESK_* variables,
// so that a developer's settings (a Telegram token, a config file) do not
// reach the server under test.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FRONTDESK_") {
			env = append(env, kv)
		}
	}
	return env
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago (see freeport); the server binds it again after every restart.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// serverProc is "frontdesk serve" as a child process on a fixed address
// and data directory, so that it can be killed with SIGKILL and started
// again where it left off. Its output is appended to logPath. Only the
// test goroutine calls its methods.
type serverProc struct {
	bin, dataDir, addr, logPath string
	// extra are more serve flags; env are more environment variables
	// (the environment is otherwise childEnv's).
	extra []string
	env   []string

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	starts int
}

// start runs the server and waits until /healthz answers (20 s at most).
func (s *serverProc) start(ctx context.Context) error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	s.starts++
	fmt.Fprintf(logf, "---- start %d ----\n", s.starts)
	// The test's customers all come from this machine; a shop's come from
	// many addresses, so the per-address limits are lifted here.
	args := []string{"serve", "--data-dir", s.dataDir, "--addr", s.addr, "--manual-assign", "true", "--limit-exempt", "127.0.0.1"}
	cmd := exec.Command(s.bin, append(args, s.extra...)...)
	cmd.Env = append(childEnv(), s.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start serve: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{}} // no proxy
	gone := false
	healthy := wait.Until(ctx, 20*time.Second, func() bool {
		select {
		case <-exited:
			gone = true
			return true
		default:
		}
		resp, err := client.Get("http://" + s.addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	switch {
	case gone:
		s.cmd = nil
		return fmt.Errorf("serve exited before it was healthy (start %d)", s.starts)
	case ctx.Err() != nil:
		s.kill()
		return ctx.Err()
	case !healthy:
		s.kill()
		return fmt.Errorf("serve not healthy 20 s after start %d", s.starts)
	}
	return nil
}

// kill sends SIGKILL (os.Process.Kill) and waits for the process to be
// gone. It does nothing when the server is not running.
func (s *serverProc) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// logTail returns the last n lines of the server's output.
func (s *serverProc) logTail(n int) string {
	data, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
