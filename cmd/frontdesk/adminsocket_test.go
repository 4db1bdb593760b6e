package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTheBinaryOnABusyDataDirectory runs the quick start on the real
// binary: "frontdesk agent add" while serve runs, and a second serve on
// the same data directory, which must exit non-zero within 5 s naming
// the process that holds it.
func TestTheBinaryOnABusyDataDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildFrontdesk(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	srv := &serverProc{bin: bin, dataDir: dataDir, addr: freeAddr(t), logPath: filepath.Join(dir, "serve.log")}
	t.Cleanup(srv.kill)
	if err := srv.start(ctx); err != nil {
		t.Fatalf("%v\n%s", err, srv.logTail(30))
	}

	if log := srv.logTail(30); !strings.Contains(log, "add an agent first") {
		t.Errorf("the banner of a server without agents does not say to add one:\n%s", log)
	}
	add := exec.CommandContext(ctx, bin, "agent", "add", "--data-dir", dataDir, "--name", "Ana", "--email", "ana@example.com", "--role", "admin")
	add.Env, add.Stdin = childEnv(), strings.NewReader("a long password\n")
	if out, err := add.CombinedOutput(); err != nil || !strings.Contains(string(out), "added agt_") {
		t.Errorf("agent add while serve runs: %v\n%s", err, out)
	}

	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	defer scancel()
	second := exec.CommandContext(sctx, bin, "serve", "--data-dir", dataDir, "--addr", freeAddr(t))
	second.Env = childEnv()
	out, err := second.CombinedOutput()
	var exit *exec.ExitError
	if sctx.Err() != nil || !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("a second serve: %v (within 5 s: %v), want a non-zero exit at once\n%s", err, sctx.Err() == nil, out)
	}
	want := fmt.Sprintf("data directory in use by process %d (frontdesk serve", srv.cmd.Process.Pid)
	if !strings.Contains(string(out), want) {
		t.Errorf("a second serve says %q, want %q", out, want)
	}

	// Restarted with an agent, the banner no longer asks for one.
	srv.kill()
	if err := srv.start(ctx); err != nil {
		t.Fatalf("%v\n%s", err, srv.logTail(30))
	}
	log, _ := os.ReadFile(srv.logPath)
	_, restarted, _ := strings.Cut(string(log), "---- start 2 ----")
	if !strings.Contains(restarted, "Agent console:") || strings.Contains(restarted, "add an agent first") {
		t.Errorf("the banner with an agent:\n%s", restarted)
	}
}
