//go:build linux

package main

import "syscall"

// freeSpace returns the bytes an unprivileged process may still write on
// the file system holding dir; ok is false where this cannot be known.
func freeSpace(dir string) (free uint64, ok bool, err error) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(dir, &s); err != nil {
		return 0, false, err
	}
	return s.Bavail * uint64(s.Bsize), true, nil
}
