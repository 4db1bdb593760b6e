package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/frontdesk/frontdesk/store/bolt"
	"github.com/frontdesk/frontdesk/store/postgres"
	"github.com/frontdesk/frontdesk/store/transfer"
)

const migrateUsage = `Usage:
  frontdesk migrate --from data/frontdesk.db --to postgres://USER:PASSWORD@HOST:5432/DB

Copies a single-node shop from its bbolt file, and the files sent in its
chats (the attachments directory beside the file), into PostgreSQL, for
running several nodes on one database: customers and their channel
identities, conversations with every message and scheduled follow-up,
attachments, tickets, agents and their sessions, the dashboard's day
totals (as they are, with what deleted conversations added) and the
tallies of deleted conversations, link codes and channel links, customer
API keys, webhook events waiting for delivery, and the Telegram channel's
state (offset, chats, queued requests). Ids, message numbers, times and
who owns each conversation are kept exactly.

The database's tables are created (or brought up to date) by Frontdesk
itself; the copy is one PostgreSQL transaction, and the counts of what it
wrote (and each attachment's size and SHA-256) are checked against what
it read before it commits. A copy that
fails or is cut short commits nothing: run it again. migrate refuses
  - a file in use: stop "frontdesk serve" on its data directory first;
  - a database that already holds a shop (it never merges or overwrites);
  - a --to that is not a postgres:// URL.
The file is brought up to this build's schema first, as serve would, and
is otherwise left as it was, and so are the files. Index entries and
files of conversations or customers already deleted are left out, and
counted. A part of the file this build does not know is listed as "not
copied yet": it stays in the file only.

The URL's password is never printed. Give --to through FRONTDESK_TO to
keep it out of the process list.
`

func migrateSettings(fs *flag.FlagSet) *settings {
	s := newSettings(fs)
	s.add("from", "data/frontdesk.db", "the bbolt `file` to copy (serve stopped)")
	s.add("to", "", "the PostgreSQL database to copy into, a postgres:// `URL`; it must hold no shop")
	return s
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", migrateUsage+"\nFlags:\n", stderr)
	cfg := migrateSettings(fs)
	pos, err := cfg.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("migrate takes no arguments, got %q (the file goes with --from)", pos)}
	}
	from, to := cfg.get("from"), cfg.get("to")
	target, err := postgresTarget(to)
	if err != nil {
		return err
	}
	if from == "" {
		return usageError{"migrate needs --from, the bbolt file to copy (e.g. data/frontdesk.db)"}
	}
	if fi, err := os.Stat(from); err != nil || fi.IsDir() {
		if err == nil {
			err = errors.New("a directory, not a database file")
		}
		return fmt.Errorf("no database to copy at %s (--from names the file, e.g. data/frontdesk.db): %w", from, err)
	}
	dir := filepath.Dir(from)
	// A data directory that a frontdesk process uses holds its lock
	// file: migrate takes it for the whole copy, so serve cannot start
	// on the file meanwhile, and is refused while serve runs.
	if _, err := os.Stat(filepath.Join(dir, lockFileName)); err == nil {
		lock, err := lockDataDir(dir, "migrate")
		var busy busyError
		if errors.As(err, &busy) {
			return fmt.Errorf("%s is in use: %w\nmigrate copies a stopped shop, so that nothing written during the copy is left behind", from, err)
		}
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	src, err := bolt.Open(from)
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w\nstop it first: migrate copies a stopped shop, so that nothing written during the copy is left behind", err)
	}
	if err != nil {
		return err
	}
	defer src.Close()

	dst, err := postgres.Open(ctx, to)
	if err != nil {
		return fmt.Errorf("open the PostgreSQL database %s: %s", target.shown, target.scrub(err.Error()))
	}
	defer dst.Close()
	rep, err := transfer.Copy(ctx, src, attachmentsDir(dir), dst)
	if errors.Is(err, transfer.ErrNotEmpty) {
		return fmt.Errorf("%s; nothing was copied.\n"+
			"migrate copies into an empty database only: it never merges two shops or overwrites one.\n"+
			"To copy this file again, empty the database first, as its owner, e.g.\n"+
			"  dropdb %s && createdb %s\n"+
			"or, in psql connected to it: DROP SCHEMA public CASCADE; CREATE SCHEMA public;\n"+
			"then run migrate again. Stop any frontdesk node on the database before.",
			target.scrub(err.Error()), target.dbname, target.dbname)
	}
	if err != nil {
		return fmt.Errorf("copy %s into %s: %s", from, target.shown, target.scrub(err.Error()))
	}
	printMigrated(stdout, from, target.shown, rep)
	return nil
}

// pgTarget is a --to URL as it may be shown: never its password.
type pgTarget struct {
	shown    string // user@host:port/db
	dbname   string
	password string // to scrub from messages
}

// scrub removes the password from a message, should a driver ever echo
// it.
func (t pgTarget) scrub(s string) string {
	if t.password == "" {
		return s
	}
	return strings.ReplaceAll(s, t.password, "xxxxx")
}

// postgresTarget checks that v is a postgres:// URL and returns how it
// may be shown. Neither the value nor any part of it that may hold a
// password is ever put in an error.
func postgresTarget(v string) (pgTarget, error) {
	if v == "" {
		return pgTarget{}, usageError{"migrate needs --to, the PostgreSQL database to copy into: postgres://USER:PASSWORD@HOST:5432/DB"}
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Opaque != "" {
		got := "a value that is not a URL"
		if err == nil && u.Scheme != "" {
			got = "a " + u.Scheme + ": URL"
		}
		return pgTarget{}, usageError{fmt.Sprintf("--to: want a postgres:// URL such as postgres://USER:PASSWORD@HOST:5432/DB; got %s", got)}
	}
	var t pgTarget
	user := ""
	if u.User != nil {
		user = u.User.Username() + "@"
		t.password, _ = u.User.Password()
	}
	if p := u.Query().Get("password"); p != "" {
		t.password = p
	}
	host := u.Host
	if host == "" {
		host = "localhost"
	}
	t.dbname = strings.TrimPrefix(u.Path, "/")
	if t.dbname == "" {
		t.dbname = "DB"
	}
	t.shown = user + host + "/" + strings.TrimPrefix(u.Path, "/")
	return t, nil
}

// printMigrated prints what a copy copied and what it left behind.
func printMigrated(w io.Writer, from, to string, rep transfer.Report) {
	c := rep.Counts
	fmt.Fprintf(w, "copied %s into PostgreSQL %s in %.2f s, in one transaction, counts checked before commit:\n", from, to, rep.Took.Seconds())
	fmt.Fprintf(w, "  customers       %d (%s, %s)\n", c.Customers, counted(c.Identities, "channel identity", "channel identities"), counted(c.Emails, "email address", "email addresses"))
	fmt.Fprintf(w, "  conversations   %d, with %s (each conversation's count checked), %s\n", c.Conversations, counted(c.Messages, "message", "messages"),
		counted(c.Followups, "follow-up scheduled", "follow-ups scheduled"))
	fmt.Fprintf(w, "  attachments     %s, %d bytes (each file's size and SHA-256 checked)\n", counted(c.Attachments, "file", "files"), c.AttachmentBytes)
	fmt.Fprintf(w, "  tickets         %d (%d open)\n", c.Tickets, c.OpenTickets)
	fmt.Fprintf(w, "  agents          %d, with %s\n", c.Agents, counted(c.Sessions, "session", "sessions"))
	fmt.Fprintf(w, "  dashboard       %s, %s, %s to roll up; %s\n", counted(c.StatsDays, "day total", "day totals"),
		counted(c.StatsContributions, "conversation's share", "conversations' shares"), counted(c.StatsDirty, "conversation", "conversations"),
		counted(c.Tallies, "day of deleted conversations", "days of deleted conversations"))
	fmt.Fprintf(w, "  links           %s, %s\n", counted(c.LinkCodes, "link code", "link codes"), counted(c.ChannelLinks, "channel offered", "channels offered"))
	fmt.Fprintf(w, "  API keys        %d\n", c.APIKeys)
	fmt.Fprintf(w, "  webhooks        %s waiting for delivery\n", counted(c.WebhookEvents, "event", "events"))
	fmt.Fprintf(w, "  Telegram        offset %d, %s, %s, %s, %s\n", c.TelegramOffset, counted(c.TelegramChats, "chat", "chats"),
		counted(c.TelegramRequests, "queued request", "queued requests"), counted(c.TelegramUpdates, "handled update", "handled updates"),
		counted(c.TelegramBlocked, "blocked chat", "blocked chats"))
	if len(rep.LeftOut) > 0 {
		fmt.Fprintf(w, "left out, as belonging to nothing the file still holds: %s\n", parts(rep.LeftOut))
	}
	if len(rep.NotCopied) > 0 {
		fmt.Fprintf(w, "not copied yet: %s (this build does not know them; they stay in %s)\n", parts(rep.NotCopied), from)
	}
}

// parts lists parts with their counts.
func parts(ps []bolt.Part) string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s (%d)", p.Name, p.Records))
	}
	return strings.Join(out, ", ")
}

// counted is n with its noun.
func counted(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
