package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockFileName is the file in a data directory that the process using
// the directory holds locked (with flock) and writes its pid and command
// into, so that a second serve, index or admin command fails at once
// instead of waiting on the search index or the database file.
const lockFileName = "frontdesk.pid"

// dataLock is a held lock on a data directory; Release lets it go.
type dataLock struct{ f *os.File }

// busyError says that another process holds a data directory.
type busyError struct {
	dir     string
	pid     int    // 0 when the holder has not written its pid yet
	command string // what the holder runs, e.g. "serve"
}

func (e busyError) Error() string {
	who := "another process"
	if e.pid > 0 {
		who = "process " + strconv.Itoa(e.pid)
	}
	what := "frontdesk"
	if e.command != "" {
		what += " " + e.command
	}
	return fmt.Sprintf("data directory in use by %s (%s on %s); stop it first, or use another --data-dir", who, what, e.dir)
}

// lockDataDir creates dir (owner-only) if needed and takes its lock file
// for command without waiting. When another process holds it, the error
// is a busyError naming that process.
func lockDataDir(dir, command string) (*dataLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			be := busyError{dir: dir}
			if data, err := os.ReadFile(path); err == nil {
				pid, cmd, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
				be.pid, _ = strconv.Atoi(pid)
				be.command = cmd
			}
			return nil, be
		}
		return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "%d %s\n", os.Getpid(), command)
	}
	return &dataLock{f: f}, nil
}

// Release unlocks the data directory. The lock file stays: removing it
// would race with a process that has just opened it.
func (l *dataLock) Release() {
	l.f.Truncate(0)
	l.f.Close()
}
