package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

const customerUsage = `Usage:
  frontdesk customer list [--data-dir DIR]
  frontdesk customer show ID|EMAIL [--json] [--data-dir DIR]
  frontdesk customer set ID|EMAIL [--name N] [--email E] [--segment S] [--tags a,b] [--attr key=value]... [--dedicated-agent AGENT]
  frontdesk customer export ID|EMAIL [--data-dir DIR] > customer.json
  frontdesk customer forget ID|EMAIL --yes [--data-dir DIR]

export prints everything kept about the customer as JSON: profile,
identities, conversations with all their messages, tickets, ratings.
forget erases the customer for good (profile, identities, email,
conversations and their messages, survey comments, link codes), keeping
only anonymous per-day counts, and compacts the database file so that
none of the erased text stays in it.

While "frontdesk serve" runs on the data directory, the commands go
through its admin socket (admin.sock in the data directory, open only to
the user who runs serve); otherwise they work on the database file.
With --store postgres://… (env FRONTDESK_STORE), as serve's, they work
on that PostgreSQL database (forget then erases in one transaction; the
database's own vacuum removes the old row versions). An admin agent can
also export and forget in the console, or through the
agent API (GET /api/agent/admin/customers/ID/export,
POST /api/agent/admin/customers/ID/forget).
`

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// customerCommand is a parsed "frontdesk customer" command line.
type customerCommand struct {
	sub, dataDir, store               string
	asJSON, yes                       bool
	name, email, segment, tags, agent string
	attrs                             multiFlag
	pos                               []string
}

// parseCustomer parses and checks a customer command line (args after
// "customer"); the same line is parsed again where it runs, which may be
// a running server (see runAdmin).
func parseCustomer(args []string, stderr io.Writer) (customerCommand, error) {
	var c customerCommand
	var fs *flag.FlagSet
	var err error
	c.sub, fs, args, err = adminFlags("customer", []string{"list", "show", "set", "export", "forget"}, customerUsage, args, stderr, &c.dataDir, &c.store)
	if err != nil {
		return c, err
	}
	fs.BoolVar(&c.asJSON, "json", false, "print JSON")
	fs.StringVar(&c.name, "name", "", "set the name")
	fs.StringVar(&c.email, "email", "", "set the email")
	fs.StringVar(&c.segment, "segment", "", "set the segment (e.g. vip, stored in lower case; \"-\" clears it)")
	fs.StringVar(&c.tags, "tags", "", "set the tags (comma-separated; \"-\" clears them)")
	fs.StringVar(&c.agent, "dedicated-agent", "", "set the dedicated agent id (\"-\" clears it)")
	fs.BoolVar(&c.yes, "yes", false, "forget: confirm that the customer is to be erased for good")
	fs.Var(&c.attrs, "attr", "set an attribute `key=value` (empty value removes it); repeatable")
	if c.pos, err = parseFlags(fs, args); err != nil {
		return c, err
	}
	if c.sub == "forget" && !c.yes {
		return c, usageError{"customer forget erases the customer for good; add --yes to confirm"}
	}
	if c.sub == "list" && len(c.pos) != 0 {
		return c, usageError{fmt.Sprintf("customer list takes no arguments, got %q", c.pos)}
	}
	if c.sub != "list" && len(c.pos) != 1 {
		return c, usageError{fmt.Sprintf("customer %s needs one customer id or email", c.sub)}
	}
	if c.segment != "" && c.segment != "-" {
		if _, err := handoff.Segment(c.segment); err != nil {
			return c, usageError{"segment: " + bot.ErrorMessage(err)}
		}
	}
	for _, a := range c.attrs {
		if k, _, ok := strings.Cut(a, "="); !ok || k == "" {
			return c, usageError{fmt.Sprintf("--attr %q: want key=value", a)}
		}
	}
	return c, nil
}

func runCustomer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(stdout, customerUsage)
		return nil
	}
	c, err := parseCustomer(args, stderr)
	if err != nil {
		return err
	}
	return runAdmin(ctx, c.dataDir, c.store, adminRequest{Args: append([]string{"customer"}, args...)}, stdout, stderr)
}

// execCustomer carries out a customer command line on t.
func execCustomer(ctx context.Context, t adminTarget, args []string, stdout io.Writer) error {
	cmd, err := parseCustomer(args, io.Discard)
	if err != nil {
		return err
	}
	db := t.db
	switch cmd.sub {
	case "list":
		cs, err := db.ListCustomers(ctx, 100)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tSEGMENT\tVISITS\tLAST SEEN")
		for _, c := range cs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", termSafe(c.ID), termSafe(c.Name), termSafe(c.Email), termSafe(c.Segment), c.Visits, c.LastSeen.Format(time.DateTime))
		}
		return tw.Flush()
	}
	c, err := findCustomer(ctx, db, cmd.pos[0])
	if err != nil {
		return err
	}
	switch cmd.sub {
	case "export":
		return db.ExportCustomer(ctx, c.ID, stdout)
	case "forget":
		erased, err := db.ForgetCustomer(ctx, c.ID)
		if errors.Is(err, bot.ErrInHandoff) {
			return fmt.Errorf("customer %s: %w; an agent must resolve it or return it to the bot first", c.ID, err)
		}
		if err != nil {
			return err
		}
		if t.file == nil {
			// PostgreSQL erased the files in the same transaction.
			fmt.Fprintf(stdout, "forgot customer %s: %d customer records, %d conversations, %d messages erased\n",
				c.ID, erased.Customers, erased.Conversations, erased.Messages)
			return nil
		}
		if files, err := attachment.Open(attachmentsDir(t.dataDir), 0); err == nil && erased.Conversations > 0 {
			pruneAttachments(ctx, db, files, t.log)
		}
		fmt.Fprintf(stdout, "forgot customer %s: %d customer records, %d conversations, %d messages erased; the database file is compacted\n",
			c.ID, erased.Customers, erased.Conversations, erased.Messages)
		return nil
	}
	if cmd.sub == "set" {
		clear := func(v string) string {
			if v == "-" {
				return ""
			}
			return v
		}
		if cmd.name != "" {
			c.Name = cmd.name
		}
		if cmd.email != "" {
			c.Email = cmd.email
		}
		if cmd.segment != "" {
			// The console's rule: "VIP" is stored as "vip", which counts.
			seg, err := handoff.Segment(clear(cmd.segment))
			if err != nil {
				return usageError{"segment: " + bot.ErrorMessage(err)}
			}
			c.Segment = seg
		}
		if cmd.agent != "" {
			c.DedicatedAgent = clear(cmd.agent)
		}
		if cmd.tags != "" {
			c.Tags = splitList(clear(cmd.tags))
		}
		for _, a := range cmd.attrs {
			k, v, ok := strings.Cut(a, "=")
			if !ok || k == "" {
				return usageError{fmt.Sprintf("--attr %q: want key=value", a)}
			}
			if c.Attrs == nil {
				c.Attrs = map[string]string{}
			}
			if v == "" {
				delete(c.Attrs, k)
			} else {
				c.Attrs[k] = v
			}
		}
		if err := db.SaveCustomer(ctx, c); err != nil {
			return err
		}
	}
	convs, err := db.Conversations(ctx, c.ID)
	if err != nil {
		return err
	}
	if cmd.asJSON {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*bot.Customer
			Conversations []bot.Conversation `json:"conversations"`
		}{c, convs}); err != nil {
			return err
		}
		_, err := stdout.Write(termSafeJSON(buf.Bytes()))
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\nname\t%s\nemail\t%s\nsegment\t%s\ntags\t%s\ndedicated agent\t%s\nvisits\t%d\nfirst seen\t%s\nlast seen\t%s\n",
		termSafe(c.ID), termSafe(c.Name), termSafe(c.Email), termSafe(c.Segment), termSafe(strings.Join(c.Tags, ", ")), termSafe(c.DedicatedAgent), c.Visits,
		c.FirstSeen.Format(time.DateTime), c.LastSeen.Format(time.DateTime))
	for _, k := range slices.Sorted(maps.Keys(c.Attrs)) {
		fmt.Fprintf(tw, "attr %s\t%s\n", termSafe(k), termSafe(c.Attrs[k]))
	}
	for _, id := range c.Identities {
		fmt.Fprintf(tw, "identity\t%s\n", termSafe(string(id.Channel)))
	}
	for _, t := range c.Topics {
		fmt.Fprintf(tw, "topic\t%s (%s)\n", termSafe(t.Title), t.At.Format(time.DateTime))
	}
	for _, cv := range convs {
		fmt.Fprintf(tw, "conversation\t%s  %s  %s  %d messages  updated %s\n", termSafe(cv.ID), termSafe(string(cv.Channel)), termSafe(string(cv.State)), cv.LastSeq, cv.Updated.Format(time.DateTime))
	}
	return tw.Flush()
}

// findCustomer looks a customer up by id, then by email.
func findCustomer(ctx context.Context, db serveStore, key string) (*bot.Customer, error) {
	return byIDOrEmail(ctx, key, "customer", db.Customer, db.CustomerByEmail)
}

// byIDOrEmail looks a record up by id, then, when key is an address, by
// email; "not found" becomes one clear line naming the kind of record.
func byIDOrEmail[T any](ctx context.Context, key, kind string, byID, byEmail func(context.Context, string) (*T, error)) (*T, error) {
	v, err := byID(ctx, key)
	if errors.Is(err, bot.ErrNotFound) && strings.Contains(key, "@") {
		v, err = byEmail(ctx, key)
	}
	if errors.Is(err, bot.ErrNotFound) {
		return nil, fmt.Errorf("no %s with id or email %q", kind, key)
	}
	return v, err
}
