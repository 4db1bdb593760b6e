package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/store/bolt"
)

const backupUsage = `Usage:
  frontdesk backup FILE [--data-dir DIR]
      copy the database of DIR: from the file, or, while serve runs on
      DIR, through its admin socket
  frontdesk backup FILE --url http://HOST:PORT --token TOKEN
  frontdesk backup FILE --url http://HOST:PORT --email ADMIN_EMAIL   (password on standard input)
      take the copy through a server's agent API, as an admin (from
      another machine)

Either way the copy is one consistent moment of the database. It is
written to FILE.tmp, synced to disk, checked, then renamed to FILE.
To restore: stop serve, move DIR/frontdesk.db aside, copy FILE to
DIR/frontdesk.db, start serve.
`

func backupSettings(fs *flag.FlagSet) *settings {
	s := newSettings(fs)
	s.add("data-dir", "data", "data `directory` whose frontdesk.db to copy, when serve is stopped")
	s.add("url", "", "address of a running frontdesk serve, e.g. http://127.0.0.1:8080, to back up through its agent API")
	s.add("token", "", "an admin's agent API session token (from POST /api/agent/login), with --url")
	s.add("email", "", "an admin's email, with --url: log in with the password read from standard input")
	return s
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", backupUsage+"\nFlags:\n", stderr)
	cfg := backupSettings(fs)
	pos, err := cfg.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, backupUsage)
		return usageError{"backup needs one file name to write the copy to"}
	}
	file := pos[0]
	base, token, email := cfg.get("url"), cfg.get("token"), cfg.get("email")
	if base == "" && (token != "" || email != "") {
		return usageError{"--token and --email go with --url (the address of the running server)"}
	}
	if base != "" && token == "" && email == "" {
		return usageError{"backing up through a server needs an admin's --token or --email"}
	}

	start := time.Now()
	tmp := file + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	var n int64
	if base != "" {
		n, err = backupThrough(ctx, base, token, email, f, stderr)
	} else {
		n, err = backupDataDir(ctx, cfg.get("data-dir"), f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	contents, err := bolt.Verify(ctx, tmp)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("the copy is not a whole database, so %s was not written: %w", file, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	if err := bolt.SyncDir(filepath.Dir(file)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s in %.2f s: %s, %s, %s, %s\n",
		byteSize(n), file, time.Since(start).Seconds(), plural(contents.Customers, "customer"), plural(contents.Conversations, "conversation"), plural(contents.Messages, "message"), plural(contents.Agents, "agent"))
	return nil
}

// backupDataDir writes a copy of the database of the data directory dir
// to w: from the file, or through the admin socket of the serve that
// holds the directory.
func backupDataDir(ctx context.Context, dir string, w io.Writer) (int64, error) {
	path := filepath.Join(dir, "frontdesk.db")
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	lock, err := lockDataDir(dir, "backup")
	var busy busyError
	if errors.As(err, &busy) && busy.command == "serve" {
		return backupThroughSocket(ctx, dir, w)
	}
	if err != nil {
		return 0, err
	}
	defer lock.Release()
	n, err := bolt.BackupFile(ctx, path, w)
	if errors.Is(err, bolt.ErrLocked) {
		err = fmt.Errorf("%s is in use by a running frontdesk serve: back up through it instead, with --url http://HOST:PORT and an admin's --token or --email", path)
	}
	return n, err
}

// backupThrough downloads a backup from the running server at base into
// w, with the admin's token or, when token is empty, a session logged in
// with email and the password from stdin (and logged out afterwards).
func backupThrough(ctx context.Context, base, token, email string, w io.Writer, stderr io.Writer) (int64, error) {
	base, err := serverURL(base)
	if err != nil {
		return 0, err
	}
	client := &http.Client{}
	if token == "" {
		pw, err := readPassword(stderr)
		if err != nil {
			return 0, err
		}
		if token, err = apiLogin(ctx, client, base, email, pw); err != nil {
			return 0, err
		}
		defer func() {
			req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), "POST", base+"/api/agent/logout", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/agent/admin/backup", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("backup refused: %s", apiError(resp))
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("backup: the download broke off after %s: %w", byteSize(n), err)
	}
	return n, nil
}

// serverURL turns what --url says into the server's base address: the
// scheme and host, with ws:// read as http:// (so that FRONTDESK_URL may
// name the websocket, as bench takes it).
func serverURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", usageError{fmt.Sprintf("--url %q is not an address such as http://127.0.0.1:8080", s)}
	}
	switch u.Scheme {
	case "http", "https":
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return "", usageError{fmt.Sprintf("--url %q: want http:// or https://", s)}
	}
	return u.Scheme + "://" + u.Host, nil
}

// apiLogin logs in to the agent API and returns the session token.
func apiLogin(ctx context.Context, client *http.Client, base, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/agent/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("log in: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("log in as %s: %s", email, apiError(resp))
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("log in as %s: no token in the answer", email)
	}
	return out.Token, nil
}

// apiError is the agent API's error message of a response, with its
// status.
func apiError(resp *http.Response) string {
	var e struct {
		Error string `json:"error"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return fmt.Sprintf("%s (%d)", e.Error, resp.StatusCode)
	}
	return fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(data)))
}

// byteSize prints n bytes for people: 512 B, 3.2 MB.
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}
