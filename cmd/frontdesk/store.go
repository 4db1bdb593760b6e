package main

import (
	"fmt"
	"strings"
)

// checkStore validates the store setting before anything is opened:
// empty (the bbolt file in the data directory, the default) or a
// PostgreSQL URL. The URL is never echoed: it may hold a password.
func checkStore(v string) error {
	switch {
	case v == "":
		return nil
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		return nil
	}
	return usageError{fmt.Sprintf("store: want a postgres:// URL, or nothing for the bbolt file in --data-dir; got a value starting %q", prefix(v, 12))}
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
