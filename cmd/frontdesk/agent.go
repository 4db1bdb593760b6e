package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/bolt"
)

const agentUsage = `Usage:
  frontdesk agent add --name N --email E [--role agent|supervisor|admin] [--teams a,b] [--max-chats 5]
  frontdesk agent list
  frontdesk agent passwd ID|EMAIL
  frontdesk agent disable ID|EMAIL
  frontdesk agent enable ID|EMAIL

add and passwd read the password from standard input (one line; typed
without echo on a terminal). Every command takes --data-dir DIR. The
database is locked while "frontdesk serve" runs on the same data directory.
`

// stdin is where agent commands read passwords; tests replace it.
var stdin io.Reader = os.Stdin

func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, agentUsage)
		return usageError{"agent needs add, list, passwd, disable or enable"}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("agent "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, agentUsage+"\nFlags:\n"); fs.PrintDefaults() }
	dataDir := fs.String("data-dir", envDefault("data-dir", "data"), "data `directory`")
	name := fs.String("name", "", "the agent's name, as customers see it")
	email := fs.String("email", "", "the agent's email, used to log in")
	role := fs.String("role", "agent", "agent, supervisor or admin")
	teams := fs.String("teams", "", "comma-separated teams")
	maxChats := fs.Int("max-chats", handoff.DefaultMaxChats, "conversations at once")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "add", "list":
		if len(pos) != 0 {
			return usageError{fmt.Sprintf("agent %s takes no arguments, got %q", sub, pos)}
		}
	case "passwd", "disable", "enable":
		if len(pos) != 1 {
			return usageError{fmt.Sprintf("agent %s needs one agent id or email", sub)}
		}
	default:
		fmt.Fprint(stderr, agentUsage)
		return usageError{fmt.Sprintf("unknown agent command %q", sub)}
	}
	db, err := bolt.Open(filepath.Join(*dataDir, "frontdesk.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	agents := handoff.NewAgents(db, handoff.AgentsOptions{})

	switch sub {
	case "add":
		pw, err := readPassword(stderr)
		if err != nil {
			return err
		}
		a, err := agents.Add(ctx, handoff.NewAgent{Name: *name, Email: *email, Role: handoff.Role(*role),
			Teams: splitList(*teams), MaxChats: *maxChats, Password: pw})
		if errors.Is(err, handoff.ErrInvalid) || errors.Is(err, handoff.ErrEmailTaken) {
			return usageError{err.Error()}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s %s <%s> (%s)\n", a.ID, termSafe(a.Name), termSafe(a.Email), a.Role)
		return nil
	case "list":
		list, err := agents.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tROLE\tTEAMS\tMAX CHATS\tSTATUS\tCREATED")
		for _, a := range list {
			status := "active"
			if a.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", termSafe(a.ID), termSafe(a.Name), termSafe(a.Email), termSafe(string(a.Role)), termSafe(strings.Join(a.Teams, ",")), a.Capacity(), status, a.Created.Format(time.DateOnly))
		}
		return tw.Flush()
	}
	a, err := findAgent(ctx, agents, pos[0])
	if err != nil {
		return err
	}
	switch sub {
	case "passwd":
		pw, err := readPassword(stderr)
		if err != nil {
			return err
		}
		if err := agents.SetPassword(ctx, a.ID, pw); err != nil {
			if errors.Is(err, handoff.ErrInvalid) {
				return usageError{err.Error()}
			}
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; its sessions are logged out\n", termSafe(a.Email))
	case "disable":
		if err := agents.Disable(ctx, a.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s disabled; its sessions are logged out\n", termSafe(a.Email))
	case "enable":
		if err := agents.Enable(ctx, a.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s enabled\n", termSafe(a.Email))
	}
	return nil
}

// findAgent looks an agent up by id, then by email.
func findAgent(ctx context.Context, agents *handoff.Agents, key string) (*handoff.Agent, error) {
	return byIDOrEmail(ctx, key, "agent", agents.Agent, agents.ByEmail)
}

// readPassword reads one line from stdin, without echo when stdin is a
// terminal.
func readPassword(prompt io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "Password: ")
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(pw), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("read password: give it on standard input, e.g. echo 'secret' | frontdesk agent add ...")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
