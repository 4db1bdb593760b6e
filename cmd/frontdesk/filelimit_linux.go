//go:build linux

package main

import "syscall"

// raiseFileLimit raises this process's soft limit on open files to the
// hard limit, and the hard limit to need when it is lower and the process
// may raise it (root). It returns the soft limit now in force. (Go already
// raises the soft limit to the hard one at start; this is for the rest.)
func raiseFileLimit(need uint64) (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Max < need {
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: need, Max: need}) == nil {
			return need, nil
		}
	}
	if l.Cur < l.Max {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: l.Max, Max: l.Max}); err != nil {
			return l.Cur, err
		}
		l.Cur = l.Max
	}
	return l.Cur, nil
}
