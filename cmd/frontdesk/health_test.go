package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/store/bolt"
)

// getHealth gets url and decodes the report.
func getHealth(t *testing.T, url string) (int, healthReport) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep healthReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode, rep
}

// serveHealth serves h's /healthz and /readyz until the test ends.
func serveHealth(t *testing.T, h *health) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", h.liveness())
	mux.Handle("GET /readyz", h.readiness())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestReadinessNamesWhatIsWrong(t *testing.T) {
	dataDir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dataDir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := newHealth(dataDir, db)
	srv := serveHealth(t, h)
	// ready asks again once the last answer has expired.
	ready := func() (int, healthReport) {
		t.Helper()
		h.mu.Lock()
		h.at = time.Time{}
		h.mu.Unlock()
		return getHealth(t, srv.URL+"/readyz")
	}
	problems := func(rep healthReport) string { return strings.Join(rep.Problems, "; ") }

	if code, rep := ready(); code != http.StatusOK || rep.Status != "ready" {
		t.Fatalf("a healthy server: %d %+v", code, rep)
	}
	if _, err := os.Stat(filepath.Join(dataDir, probeFile)); !os.IsNotExist(err) {
		t.Errorf("the probe file was left behind: %v", err)
	}

	t.Run("a disk with less free space than needed is not ready", func(t *testing.T) {
		free, ok, err := freeSpace(dataDir)
		if err != nil || !ok {
			t.Skipf("free space unknown here (%v)", err)
		}
		full := newHealth(dataDir, db)
		full.minFree = free + 1<<40
		srv := serveHealth(t, full)
		code, rep := getHealth(t, srv.URL+"/readyz")
		if code != http.StatusServiceUnavailable || rep.Status != "unavailable" || !strings.Contains(problems(rep), "free, under the") {
			t.Errorf("a full disk: %d %+v", code, rep)
		}
		// Liveness stays up, and tells why the server is not ready.
		if code, live := getHealth(t, srv.URL+"/healthz"); code != http.StatusOK || live.Status != "ok" || problems(live) != problems(rep) {
			t.Errorf("healthz with a full disk: %d %+v", code, live)
		}
	})

	t.Run("a data directory where nothing can be written is not ready", func(t *testing.T) {
		// As root, permissions do not stop a write: a directory in the
		// probe file's place does.
		probe := filepath.Join(dataDir, probeFile)
		if err := os.Mkdir(probe, 0o700); err != nil {
			t.Fatal(err)
		}
		code, rep := ready()
		if code != http.StatusServiceUnavailable || !strings.Contains(problems(rep), "is not writable") {
			t.Errorf("an unwritable data directory: %d %+v", code, rep)
		}
		os.Remove(probe)
		if code, rep := ready(); code != http.StatusOK {
			t.Errorf("writable again: %d %+v", code, rep)
		}
	})

	t.Run("a closed database is not ready", func(t *testing.T) {
		db.Close()
		code, rep := ready()
		if code != http.StatusServiceUnavailable || !strings.Contains(problems(rep), "database does not answer") {
			t.Errorf("a closed database: %d %+v", code, rep)
		}
	})
}

func TestReadyzOfARunningServer(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := serveInProcess(t, dataDir)
	if code, rep := getHealth(t, p.base+"/readyz"); code != http.StatusOK || rep.Status != "ready" {
		t.Fatalf("readyz: %d %+v", code, rep)
	}
	if err := os.Mkdir(filepath.Join(dataDir, probeFile), 0o700); err != nil {
		t.Fatal(err)
	}
	time.Sleep(checkEvery) // the last answer expires
	code, rep := getHealth(t, p.base+"/readyz")
	if code != http.StatusServiceUnavailable || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], dataDir+" is not writable") {
		t.Errorf("readyz with an unwritable data directory: %d %+v", code, rep)
	}
	if code, rep := getHealth(t, p.base+"/healthz"); code != http.StatusOK || len(rep.Problems) != 1 {
		t.Errorf("healthz: %d %+v, want 200 with the problem", code, rep)
	}
}
