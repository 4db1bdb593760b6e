package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

const identityUsage = `Usage:
  frontdesk identity secret

Prints a new random identity secret, once. Give it to "frontdesk serve"
as --identity-secret (FRONTDESK_IDENTITY_SECRET) and to the shop's
server, which signs each logged-in customer's id with it (the user_hash
of Frontdesk.identify; see docs/protocol.md). Nothing is stored: keep it
where you keep the shop's other secrets.
`

// runIdentity prints a new identity secret: 32 random bytes in hex.
func runIdentity(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && isHelp(args[0]) {
		fmt.Fprint(stdout, identityUsage)
		return nil
	}
	if len(args) != 1 || args[0] != "secret" {
		fmt.Fprint(stderr, identityUsage)
		return usageError{"identity takes one subcommand: secret"}
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	fmt.Fprintln(stdout, hex.EncodeToString(b[:]))
	return nil
}

const apikeyUsage = `Usage:
  frontdesk apikey add --name NAME [--scope read|write] [--data-dir DIR | --store URL]
  frontdesk apikey list [--data-dir DIR | --store URL]
  frontdesk apikey revoke ID [--data-dir DIR | --store URL]

add prints the new key once: only its hash is stored. A read key reads
the customer API (/api/v1/, see docs/customer-api.md); a write key may
also create, change and forget customers. A revoked key never works
again.

While "frontdesk serve" runs on the same data directory, the command
goes through its admin socket (DIR/admin.sock); otherwise it works on
the database file. With --store postgres://… (env FRONTDESK_STORE), as
serve's, it works on that PostgreSQL database, whether or not any serve
runs. An admin can also manage keys in the console (Insights →
Integrations) or through the agent API (/api/agent/admin/apikeys,
docs/agent-api.md).
`

// apikeyCommand is a parsed apikey command line.
type apikeyCommand struct {
	sub, dataDir, store, name, scope string
	pos                              []string
}

// parseAPIKey parses and checks an apikey command line (args after
// "apikey"); the same line is parsed again where it runs, which may be a
// running server (see runAdmin).
func parseAPIKey(args []string, stderr io.Writer) (apikeyCommand, error) {
	var c apikeyCommand
	var fs *flag.FlagSet
	var err error
	c.sub, fs, args, err = adminFlags("apikey", []string{"add", "list", "revoke"}, apikeyUsage, args, stderr, &c.dataDir, &c.store)
	if err != nil {
		return c, err
	}
	fs.StringVar(&c.name, "name", "", "what the key is for, e.g. \"shop backend\"")
	fs.StringVar(&c.scope, "scope", "read", "read or write")
	if c.pos, err = parseFlags(fs, args); err != nil {
		return c, err
	}
	switch {
	case c.sub == "revoke" && len(c.pos) != 1:
		return c, usageError{"apikey revoke takes the key's id"}
	case c.sub != "revoke" && len(c.pos) != 0:
		return c, usageError{fmt.Sprintf("apikey %s takes no arguments, got %q", c.sub, c.pos)}
	}
	return c, nil
}

// runAPIKey manages the customer API's keys, on the database file or
// through the admin socket of the serve that holds the data directory.
func runAPIKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(stdout, apikeyUsage)
		return nil
	}
	c, err := parseAPIKey(args, stderr)
	if err != nil {
		return err
	}
	return runAdmin(ctx, c.dataDir, c.store, adminRequest{Args: append([]string{"apikey"}, args...)}, stdout, stderr)
}

// execAPIKey carries out an apikey command line on t.
func execAPIKey(ctx context.Context, t adminTarget, args []string, stdout, stderr io.Writer) error {
	c, err := parseAPIKey(args, io.Discard)
	if err != nil {
		return err
	}
	db := t.db
	switch c.sub {
	case "add":
		k, text, err := bot.NewAPIKey(c.name, bot.Scope(c.scope), time.Now())
		if err != nil {
			return usageError{bot.ErrorMessage(err)}
		}
		if err := db.PutAPIKey(ctx, k); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "API key %s (%s, %s) created. It is shown only now; store it in the shop's backend:\n", k.ID, k.Name, k.Scope)
		fmt.Fprintln(stdout, text)
	case "list":
		ks, err := db.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tCREATED\tREVOKED")
		for _, k := range ks {
			revoked := "-"
			if !k.Revoked.IsZero() {
				revoked = k.Revoked.Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Scope, k.Created.Format(time.DateTime), revoked)
		}
		return tw.Flush()
	case "revoke":
		k, err := db.APIKey(ctx, c.pos[0])
		if errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("no API key %q", c.pos[0])
		}
		if err != nil {
			return err
		}
		if k.Revoked.IsZero() {
			k.Revoked = time.Now().UTC()
			if err := db.PutAPIKey(ctx, *k); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "API key %s (%s) revoked\n", k.ID, k.Name)
	}
	return nil
}
