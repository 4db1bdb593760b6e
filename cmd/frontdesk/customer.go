package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/bolt"
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

The database is locked while "frontdesk serve" runs on the same data
directory; then use the agent API (GET /api/agent/admin/customers/ID/export,
POST /api/agent/admin/customers/ID/forget) or the console.
`

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runCustomer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, customerUsage)
		return usageError{"customer needs list, show, set, export or forget"}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("customer "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envDefault("data-dir", "data"), "data `directory`")
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "set the name")
	email := fs.String("email", "", "set the email")
	segment := fs.String("segment", "", "set the segment (e.g. vip; \"-\" clears it)")
	tags := fs.String("tags", "", "set the tags (comma-separated; \"-\" clears them)")
	agent := fs.String("dedicated-agent", "", "set the dedicated agent id (\"-\" clears it)")
	yes := fs.Bool("yes", false, "forget: confirm that the customer is to be erased for good")
	var attrs multiFlag
	fs.Var(&attrs, "attr", "set an attribute `key=value` (empty value removes it); repeatable")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if sub == "forget" && !*yes {
		return usageError{"customer forget erases the customer for good; add --yes to confirm"}
	}
	db, err := bolt.Open(filepath.Join(*dataDir, "frontdesk.db"))
	if errors.Is(err, bolt.ErrLocked) && (sub == "export" || sub == "forget") {
		return fmt.Errorf("%w\nWhile it runs, an admin can %s a customer through it: the console's customer panel, or %s",
			err, sub, map[string]string{"export": "GET /api/agent/admin/customers/ID/export", "forget": "POST /api/agent/admin/customers/ID/forget"}[sub])
	}
	if err != nil {
		return err
	}
	defer db.Close()

	switch sub {
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
	case "show", "set", "export", "forget":
	default:
		fmt.Fprint(stderr, customerUsage)
		return usageError{fmt.Sprintf("unknown customer command %q", sub)}
	}
	if len(pos) != 1 {
		return usageError{fmt.Sprintf("customer %s needs one customer id or email", sub)}
	}
	c, err := findCustomer(ctx, db, pos[0])
	if err != nil {
		return err
	}
	switch sub {
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
		if files, err := attachment.Open(attachmentsDir(*dataDir), 0); err == nil && erased.Conversations > 0 {
			pruneAttachments(ctx, db, files, slog.New(slog.NewTextHandler(stderr, nil)))
		}
		fmt.Fprintf(stdout, "forgot customer %s: %d customer records, %d conversations, %d messages erased; the database file is compacted\n",
			c.ID, erased.Customers, erased.Conversations, erased.Messages)
		return nil
	}
	if sub == "set" {
		clear := func(v string) string {
			if v == "-" {
				return ""
			}
			return v
		}
		if *name != "" {
			c.Name = *name
		}
		if *email != "" {
			c.Email = *email
		}
		if *segment != "" {
			// The console's rule: "VIP" is stored as "vip", which counts.
			seg, err := handoff.Segment(clear(*segment))
			if err != nil {
				return usageError{"segment: " + bot.ErrorMessage(err)}
			}
			c.Segment = seg
		}
		if *agent != "" {
			c.DedicatedAgent = clear(*agent)
		}
		if *tags != "" {
			c.Tags = splitList(clear(*tags))
		}
		for _, a := range attrs {
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
	if *asJSON {
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
func findCustomer(ctx context.Context, db *bolt.DB, key string) (*bot.Customer, error) {
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
