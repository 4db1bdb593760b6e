package main

import (
	"errors"
	"fmt"
	"strings"
)

// errPostgresNotYet refuses --store postgres://…: store/postgres keeps
// customers, conversations, messages, agents, sessions, tickets and the
// Telegram channel's state, and a bus carries conversation events across nodes, but serve needs more of
// its state than that, and half a server on PostgreSQL would lose it.
var errPostgresNotYet = errors.New("store: PostgreSQL is not yet supported by serve: " +
	"customers, conversations, messages, agents, sessions, tickets and the Telegram channel's state can live in PostgreSQL, " +
	"but one Telegram poller per cluster, links between channels, data rights (export, forget), " +
	"retention, backups, attachments, the health check and the timers (SLA, queue notices) run by one node " +
	"still need the bbolt file; leave --store empty (FRONTDESK_STORE unset) to use it")

// checkStore validates the store setting: empty (the bbolt file in the
// data directory, the default) or a PostgreSQL URL, which serve refuses
// for now, with what is missing. The URL is never echoed: it may hold a
// password.
func checkStore(v string) error {
	switch {
	case v == "":
		return nil
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		return errPostgresNotYet
	}
	return usageError{fmt.Sprintf("store: want a postgres:// URL, or nothing for the bbolt file in --data-dir; got a value starting %q", prefix(v, 12))}
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
