package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/frontdesk/frontdesk/handoff"
)

const agentUsage = `Usage:
  frontdesk agent add --name N --email E [--role agent|supervisor|admin] [--teams a,b] [--max-chats 5]
  frontdesk agent list
  frontdesk agent passwd ID|EMAIL
  frontdesk agent disable ID|EMAIL
  frontdesk agent enable ID|EMAIL

add and passwd read the password from standard input (one line; typed
without echo on a terminal). Every command takes --data-dir DIR (env
FRONTDESK_DATA_DIR, default ./data). While "frontdesk serve" runs on that
data directory, the commands go through its admin socket (admin.sock in
the data directory, open only to the user who runs serve); otherwise they
work on the database file. With --store postgres://… (env
FRONTDESK_STORE), as serve's, they work on that PostgreSQL database,
whether or not any serve runs.

Example (the first admin, while serve runs or not):
  echo 'a long password' | frontdesk agent add --name Ana --email ana@example.com --role admin
`

// stdin is where agent commands read passwords; tests replace it.
var stdin io.Reader = os.Stdin

// agentCommand is a parsed "frontdesk agent" command line.
type agentCommand struct {
	sub, dataDir, store, name, email, role, teams string
	maxChats                                      int
	pos                                           []string
}

// parseAgent parses and checks an agent command line (args after
// "agent"); the same line is parsed again where it runs, which may be a
// running server (see runAdmin).
func parseAgent(args []string, stderr io.Writer) (agentCommand, error) {
	var c agentCommand
	var fs *flag.FlagSet
	var err error
	c.sub, fs, args, err = adminFlags("agent", []string{"add", "list", "passwd", "disable", "enable"}, agentUsage, args, stderr, &c.dataDir, &c.store)
	if err != nil {
		return c, err
	}
	fs.StringVar(&c.name, "name", "", "the agent's name, as customers see it")
	fs.StringVar(&c.email, "email", "", "the agent's email, used to log in")
	fs.StringVar(&c.role, "role", "agent", "agent, supervisor or admin")
	fs.StringVar(&c.teams, "teams", "", "comma-separated teams")
	fs.IntVar(&c.maxChats, "max-chats", handoff.DefaultMaxChats, "conversations at once")
	if c.pos, err = parseFlags(fs, args); err != nil {
		return c, err
	}
	switch c.sub {
	case "add", "list":
		if len(c.pos) != 0 {
			return c, usageError{fmt.Sprintf("agent %s takes no arguments, got %q", c.sub, c.pos)}
		}
	default:
		if len(c.pos) != 1 {
			return c, usageError{fmt.Sprintf("agent %s needs one agent id or email", c.sub)}
		}
	}
	return c, nil
}

func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(stdout, agentUsage)
		return nil
	}
	c, err := parseAgent(args, stderr)
	if err != nil {
		return err
	}
	req := adminRequest{Args: append([]string{"agent"}, args...)}
	if c.sub == "add" || c.sub == "passwd" {
		if req.Password, err = readPassword(stderr); err != nil {
			return err
		}
	}
	return runAdmin(ctx, c.dataDir, c.store, req, stdout, stderr)
}

// execAgent carries out an agent command line on t, with the password
// the client read.
func execAgent(ctx context.Context, t adminTarget, args []string, pw string, stdout io.Writer) error {
	c, err := parseAgent(args, io.Discard)
	if err != nil {
		return err
	}
	agents := t.agents
	switch c.sub {
	case "add":
		a, err := agents.Add(ctx, handoff.NewAgent{Name: c.name, Email: c.email, Role: handoff.Role(c.role),
			Teams: splitList(c.teams), MaxChats: c.maxChats, Password: pw})
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
	a, err := findAgent(ctx, agents, c.pos[0])
	if err != nil {
		return err
	}
	ended := func() {
		if t.sessionsEnded != nil {
			t.sessionsEnded(a.ID)
		}
	}
	switch c.sub {
	case "passwd":
		if err := agents.SetPassword(ctx, a.ID, pw); err != nil {
			if errors.Is(err, handoff.ErrInvalid) {
				return usageError{err.Error()}
			}
			return err
		}
		ended()
		fmt.Fprintf(stdout, "password of %s changed; its sessions are logged out\n", termSafe(a.Email))
	case "disable":
		if err := agents.Disable(ctx, a.ID); err != nil {
			return err
		}
		ended()
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
