package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/insights"
	"github.com/frontdesk/frontdesk/store/bolt"
	"github.com/frontdesk/frontdesk/store/postgres"
)

// The admin commands (agent ..., customer ...) work on the database file
// when no server runs on the data directory, and through the running
// serve otherwise: serve listens on a unix socket in the data directory,
// admin.sock, which only the user who runs serve may open (the socket is
// 0600 and created in an owner-only directory, then moved into place).
// The file permission is the authentication, as for the database file
// itself. The protocol is HTTP over the socket: POST /run with an
// adminRequest, answered with an adminResponse.
const adminSocketName = "admin.sock"

// adminTarget is what an admin command works on: the database and the
// agents kept in it.
type adminTarget struct {
	db      serveStore
	file    *bolt.DB // the bbolt file, for backups; nil on PostgreSQL
	agents  *handoff.Agents
	dataDir string       // where the database is, with the attachments
	log     *slog.Logger // for what a command does besides its output
	// sessionsEnded, if set, is told of an agent whose sessions a command
	// ended (disable, passwd), to close its open consoles.
	sessionsEnded func(agentID string)
}

// adminRequest is one admin command line, as typed after "frontdesk",
// with the password the client read from its standard input.
type adminRequest struct {
	Args     []string `json:"args"`
	Password string   `json:"password,omitempty"`
}

// adminResponse is what the command printed and how it failed: Usage
// marks a mistake in the command line (exit code 2).
type adminResponse struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr,omitempty"`
	Error  string `json:"error,omitempty"`
	Usage  bool   `json:"usage,omitempty"`
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// adminFlags starts parsing an admin command line ("agent add ...",
// args after the command's name): it takes the subcommand from args,
// checks it is one of subs, and declares the flags every admin command
// has, --data-dir and --store, into dataDir and store. The caller adds
// its own flags to fs and parses rest.
func adminFlags(cmd string, subs []string, usage string, args []string, stderr io.Writer, dataDir, store *string) (sub string, fs *flag.FlagSet, rest []string, err error) {
	want := strings.Join(subs[:len(subs)-1], ", ") + " or " + subs[len(subs)-1]
	if len(args) == 0 {
		return "", nil, nil, usageError{fmt.Sprintf("%s needs %s (see \"frontdesk %s --help\")", cmd, want, cmd)}
	}
	sub, rest = args[0], args[1:]
	if !slices.Contains(subs, sub) {
		return sub, nil, nil, usageError{fmt.Sprintf("unknown %s command %q: want %s (see \"frontdesk %s --help\")", cmd, sub, want, cmd)}
	}
	fs = newFlagSet(cmd+" "+sub, usage+"\nFlags:\n", stderr)
	fs.StringVar(dataDir, "data-dir", envDefault("data-dir", "data"), "data `directory`")
	fs.StringVar(store, "store", envDefault("store", ""), "a postgres:// URL when serve keeps its data in PostgreSQL (--store of serve)")
	return sub, fs, rest, nil
}

// runAdmin runs req on the data directory dir: on the database file,
// holding the directory's lock, when no other process holds it; through
// the admin socket of the serve that holds it otherwise. With store (a
// postgres:// URL) it runs on that database, which every node shares.
func runAdmin(ctx context.Context, dir, store string, req adminRequest, stdout, stderr io.Writer) error {
	if store != "" {
		if err := checkStore(store); err != nil {
			return err
		}
		target, err := postgresTarget(store)
		if err != nil {
			return usageError{"store: want a postgres:// URL such as postgres://USER:PASSWORD@HOST:5432/DB"}
		}
		db, err := postgres.Open(ctx, store)
		if err != nil {
			return fmt.Errorf("store %s: %s", target.shown, target.scrub(err.Error()))
		}
		defer db.Close()
		return execAdmin(ctx, adminTarget{db: db, agents: handoff.NewAgents(db, handoff.AgentsOptions{}), dataDir: dir, log: slog.Default()}, req, stdout, stderr)
	}
	lock, err := lockDataDir(dir, req.Args[0])
	var busy busyError
	if errors.As(err, &busy) {
		return runRemote(ctx, dir, req, stdout, stderr, busy)
	}
	if err != nil {
		return err
	}
	defer lock.Release()
	db, err := bolt.Open(filepath.Join(dir, "frontdesk.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	return execAdmin(ctx, adminTarget{db: db, file: db, agents: handoff.NewAgents(db, handoff.AgentsOptions{}), dataDir: dir, log: slog.Default()}, req, stdout, stderr)
}

// execAdmin carries out req on t.
func execAdmin(ctx context.Context, t adminTarget, req adminRequest, stdout, stderr io.Writer) error {
	if len(req.Args) == 0 {
		return usageError{"no admin command given"}
	}
	switch req.Args[0] {
	case "agent":
		return execAgent(ctx, t, req.Args[1:], req.Password, stdout)
	case "customer":
		return execCustomer(ctx, t, req.Args[1:], stdout)
	case "apikey":
		return execAPIKey(ctx, t, req.Args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("%q is not an admin command", req.Args[0])}
}

// socketAddr returns an address by which the unix socket dir/name can be
// bound or dialled: the path itself or, when it is longer than the
// kernel allows (about 108 bytes), the same file through
// /proc/self/fd/N/name of the open directory (Linux), valid until
// release is called.
func socketAddr(dir, name string) (addr string, release func(), err error) {
	p := filepath.Join(dir, name)
	if len(p) < 100 {
		return p, func() {}, nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return "", nil, err
	}
	addr = fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), name)
	if _, err := os.Stat(filepath.Dir(addr)); err != nil {
		d.Close()
		return "", nil, fmt.Errorf("the path %s is too long for a unix socket (about 100 bytes at most): use a shorter --data-dir", p)
	}
	return addr, func() { d.Close() }, nil
}

// adminClient is an HTTP client for the admin socket of dir.
func adminClient(dir string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			addr, release, err := socketAddr(dir, adminSocketName)
			if err != nil {
				return nil, err
			}
			defer release()
			var d net.Dialer
			return d.DialContext(ctx, "unix", addr)
		},
	}}
}

// adminCall sends an admin socket request built by newReq, and waits up
// to 10 s for a serve that is still starting (building its index) to
// open the socket.
func adminCall(ctx context.Context, dir string, newReq func() (*http.Request, error)) (*http.Response, error) {
	client := adminClient(dir)
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req.WithContext(ctx))
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return resp, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// runRemote sends req to the process that holds dir (busy) and prints
// its answer.
func runRemote(ctx context.Context, dir string, req adminRequest, stdout, stderr io.Writer, busy busyError) error {
	if busy.command != "serve" {
		return busy
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := adminCall(ctx, dir, func() (*http.Request, error) {
		r, err := http.NewRequest(http.MethodPost, "http://frontdesk/run", bytes.NewReader(body))
		if err == nil {
			r.Header.Set("Content-Type", "application/json")
		}
		return r, err
	})
	if err != nil {
		return fmt.Errorf("%v; its admin socket does not answer: %w", busy, err)
	}
	defer resp.Body.Close()
	var out adminResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("admin socket in %s: %s, %w", dir, resp.Status, err)
	}
	io.WriteString(stderr, out.Stderr)
	io.WriteString(stdout, out.Stdout)
	switch {
	case out.Error == "":
		return nil
	case out.Usage:
		return usageError{out.Error}
	}
	return errors.New(out.Error)
}

// backupThroughSocket copies the database of the serve that holds dir
// to w.
func backupThroughSocket(ctx context.Context, dir string, w io.Writer) (int64, error) {
	resp, err := adminCall(ctx, dir, func() (*http.Request, error) {
		return http.NewRequest(http.MethodGet, "http://frontdesk/backup", nil)
	})
	if err != nil {
		return 0, fmt.Errorf("backup through the admin socket in %s: %w", dir, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("backup through the admin socket in %s: %s", dir, resp.Status)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("backup through the admin socket: %w", err)
	}
	return n, nil
}

// gapsThroughSocket returns the questions the bot failed on since the
// time, read by the serve that holds dir (see insights.Collect).
func gapsThroughSocket(ctx context.Context, dir string, since time.Time) ([]insights.Gap, error) {
	resp, err := adminCall(ctx, dir, func() (*http.Request, error) {
		return http.NewRequest(http.MethodGet, "http://frontdesk/gaps?since="+url.QueryEscape(since.Format(time.RFC3339Nano)), nil)
	})
	if err != nil {
		return nil, fmt.Errorf("gaps through the admin socket in %s: %w", dir, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("gaps through the admin socket in %s: %s: %s", dir, resp.Status, strings.TrimSpace(string(msg)))
	}
	var gaps []insights.Gap
	if err := json.NewDecoder(resp.Body).Decode(&gaps); err != nil {
		return nil, fmt.Errorf("gaps through the admin socket in %s: %w", dir, err)
	}
	return gaps, nil
}

// serveAdmin listens on the admin socket of dir, whose lock the caller
// holds, and serves the admin commands on t until stop is called.
func serveAdmin(dir string, t adminTarget, log *slog.Logger) (stop func(), err error) {
	path := filepath.Join(dir, adminSocketName)
	// Whoever made the socket before has gone: this process holds the
	// data directory's lock.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	// Created in an owner-only directory and moved into place, so that
	// nobody else can connect in the moment before the chmod.
	tmp, err := os.MkdirTemp(dir, ".admin-")
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	defer os.RemoveAll(tmp)
	addr, release, err := socketAddr(tmp, adminSocketName)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	ln, err := net.Listen("unix", addr)
	release()
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(filepath.Join(tmp, adminSocketName), 0o600); err == nil {
		err = os.Rename(filepath.Join(tmp, adminSocketName), path)
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /run", func(w http.ResponseWriter, r *http.Request) {
		var req adminRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var out, errOut bytes.Buffer
		err := execAdmin(r.Context(), t, req, &out, &errOut)
		resp := adminResponse{Stdout: out.String(), Stderr: errOut.String()}
		if err != nil {
			resp.Error = err.Error()
			resp.Usage = errors.As(err, new(usageError))
		}
		cmd := req.Args
		if len(cmd) > 2 {
			cmd = cmd[:2] // the rest may name a customer
		}
		log.Info("admin command", "command", strings.Join(cmd, " "), "ok", err == nil)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	mux.HandleFunc("GET /gaps", func(w http.ResponseWriter, r *http.Request) {
		since, err := time.Parse(time.RFC3339Nano, r.URL.Query().Get("since"))
		if err != nil {
			http.Error(w, "since: want an RFC 3339 time", http.StatusBadRequest)
			return
		}
		gaps, err := insights.Collect(r.Context(), t.db, since)
		if err != nil {
			log.Error("admin gaps", "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		log.Info("admin command", "command", "gaps", "ok", true)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(gaps)
	})
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		if t.file == nil {
			http.Error(w, errBackupElsewhere.Error(), http.StatusNotImplemented)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		n, err := t.file.Backup(r.Context(), w)
		if err != nil {
			// The copy is cut short: the client's check of it fails.
			log.Error("admin backup", "err", err)
			return
		}
		log.Info("admin backup", "bytes", n)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
		os.Remove(path)
	}, nil
}
