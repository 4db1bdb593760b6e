package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/bolt"
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
  frontdesk apikey add --name NAME [--scope read|write] [--data-dir DIR]
  frontdesk apikey list [--data-dir DIR]
  frontdesk apikey revoke ID [--data-dir DIR]

add prints the new key once: only its hash is stored. A read key reads
the customer API (/api/v1/, see docs/customer-api.md); a write key may
also create, change and forget customers. A revoked key never works
again.

The database is locked while "frontdesk serve" runs on the same data
directory; then an admin manages keys in the console (Insights →
Integrations) or through the agent API (/api/agent/admin/apikeys,
docs/agent-api.md).
`

func runAPIKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, apikeyUsage)
		return usageError{"apikey needs add, list or revoke"}
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, apikeyUsage)
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("apikey "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, apikeyUsage+"\nFlags:\n"); fs.PrintDefaults() }
	dataDir := fs.String("data-dir", envDefault("data-dir", "data"), "data `directory`")
	name := fs.String("name", "", "what the key is for, e.g. \"shop backend\"")
	scope := fs.String("scope", "read", "read or write")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case sub == "revoke" && len(pos) != 1:
		return usageError{"apikey revoke takes the key's id"}
	case sub != "revoke" && len(pos) != 0:
		return usageError{fmt.Sprintf("apikey %s takes no arguments, got %q", sub, pos)}
	case sub != "add" && sub != "list" && sub != "revoke":
		fmt.Fprint(stderr, apikeyUsage)
		return usageError{fmt.Sprintf("unknown apikey command %q", sub)}
	}
	db, err := bolt.Open(filepath.Join(*dataDir, "frontdesk.db"))
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w\nWhile it runs, an admin manages API keys in the console (Insights → Integrations) or through the agent API (/api/agent/admin/apikeys)", err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "add":
		k, text, err := bot.NewAPIKey(*name, bot.Scope(*scope), time.Now())
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
		k, err := db.APIKey(ctx, pos[0])
		if errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("no API key %q", pos[0])
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
