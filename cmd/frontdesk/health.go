package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// pinger is what the readiness check needs of the store: a cheap act
// through its commit loop (bolt.DB.Ping).
type pinger interface {
	Ping(ctx context.Context) error
}

// Defaults of the readiness checks.
const (
	// defaultMinFree is the free space the data directory needs for
	// /readyz to say ready: enough for the database to grow for a while.
	defaultMinFree = 64 << 20
	// probeFile is written and removed in the data directory to learn
	// that it is writable.
	probeFile = ".frontdesk-probe"
	// checkEvery is how long a readiness result is reused: a probe
	// hammering /readyz costs at most one check a second.
	checkEvery = time.Second
	// checkTimeout bounds one check (the store's answer, mostly).
	checkTimeout = 2 * time.Second
)

// health answers GET /healthz (liveness: the process serves HTTP) and
// GET /readyz (readiness: the data directory is writable and has
// space, and the store's commit loop answers). It is safe for
// concurrent use; one check runs at a time, and its result serves the
// requests of the next second.
type health struct {
	dataDir string
	store   pinger
	// minFree is the free space, in bytes, the data directory needs.
	minFree uint64
	// content, if set, lists the content's problems: reported, but the
	// server is ready (the previous version of a broken article serves).
	content func() []string

	mu      sync.Mutex
	last    healthReport
	at      time.Time     // when last was made; zero before the first check
	running chan struct{} // closed when the check in progress ends; nil if none
}

// healthReport is the JSON body of /healthz and /readyz.
type healthReport struct {
	// Status is "ok" (healthz), "ready" or "unavailable" (readyz).
	Status string `json:"status"`
	// Problems say what is wrong, one sentence each.
	Problems []string `json:"problems,omitempty"`
	// Content lists the content's problems (readyz): files to fix, which
	// do not make the server unavailable.
	Content []string `json:"content,omitempty"`
}

func newHealth(dataDir string, store pinger) *health {
	return &health{dataDir: dataDir, store: store, minFree: defaultMinFree}
}

// liveness answers 200 while the process serves HTTP, with the problems
// of the last readiness check, if any, for people to read; it checks
// nothing itself, so a full disk never gets the process restarted.
func (h *health) liveness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		problems := h.last.Problems
		h.mu.Unlock()
		writeHealth(w, http.StatusOK, healthReport{Status: "ok", Problems: problems})
	})
}

// readiness answers 200 when the server can take work, else 503 with
// what is wrong.
func (h *health) readiness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := h.check(r.Context())
		if h.content != nil {
			rep.Content = h.content()
		}
		code := http.StatusOK
		if len(rep.Problems) > 0 {
			code = http.StatusServiceUnavailable
		}
		writeHealth(w, code, rep)
	})
}

func writeHealth(w http.ResponseWriter, code int, rep healthReport) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(rep)
}

// check returns the last result if it is under checkEvery old, else
// waits for the check in progress or runs one.
func (h *health) check(ctx context.Context) healthReport {
	for {
		h.mu.Lock()
		if !h.at.IsZero() && time.Since(h.at) < checkEvery {
			rep := h.last
			h.mu.Unlock()
			return rep
		}
		if wait := h.running; wait != nil {
			h.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return healthReport{Status: "unavailable", Problems: []string{"readiness check: " + ctx.Err().Error()}}
			}
		}
		done := make(chan struct{})
		h.running = done
		h.mu.Unlock()

		// The check is shared: the request that runs it going away does
		// not cut it short for the others.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkTimeout)
		rep := h.run(cctx)
		cancel()
		h.mu.Lock()
		h.last, h.at, h.running = rep, time.Now(), nil
		h.mu.Unlock()
		close(done)
		return rep
	}
}

// run checks the data directory's free space, that a file can be
// written in it, and that the store answers.
func (h *health) run(ctx context.Context) healthReport {
	var problems []string
	if free, ok, err := freeSpace(h.dataDir); err != nil {
		problems = append(problems, fmt.Sprintf("data directory %s: cannot read its free space: %v", h.dataDir, err))
	} else if ok && free < h.minFree {
		problems = append(problems, fmt.Sprintf("data directory %s: %s free, under the %s needed", h.dataDir, bytesText(free), bytesText(h.minFree)))
	}
	probe := filepath.Join(h.dataDir, probeFile)
	if err := os.WriteFile(probe, []byte("frontdesk readiness probe\n"), 0o600); err != nil {
		problems = append(problems, fmt.Sprintf("data directory %s is not writable: %v", h.dataDir, err))
	} else {
		os.Remove(probe)
	}
	if err := h.store.Ping(ctx); err != nil {
		problems = append(problems, fmt.Sprintf("database does not answer: %v", err))
	}
	if len(problems) > 0 {
		return healthReport{Status: "unavailable", Problems: problems}
	}
	return healthReport{Status: "ready"}
}

// bytesText is n in MiB or GiB, for people.
func bytesText(n uint64) string {
	if n >= 10<<30 {
		return fmt.Sprintf("%.0f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
