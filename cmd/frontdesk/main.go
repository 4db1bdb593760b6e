// Command frontdesk is a self-hosted customer-service chatbot: it answers
// customers from a knowledge base and hands off to people.
//
//	frontdesk serve                 run the bot (web widget, agent console)
//	frontdesk ask "question"        show how the bot decides on a question
//	frontdesk eval --train T --test X   measure answer quality on labelled sets
//	frontdesk index --check         validate the content
//	frontdesk bench --conversations N   load a running server over its websocket
//	frontdesk backup FILE           a consistent copy of the database
//	frontdesk migrate --from F --to postgres://…   copy a shop into PostgreSQL
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // business hours in any zone, on hosts without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // the flag package has printed the help
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "frontdesk: %v\n", err)
			os.Exit(2)
		}
		if !errors.Is(err, errSilent) {
			fmt.Fprintf(os.Stderr, "frontdesk: %v\n", err)
		}
		os.Exit(1)
	}
}

// errSilent is returned by commands that have already told the user what
// went wrong and only need a non-zero exit.
var errSilent = errors.New("failed")

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `Frontdesk: a customer-service chatbot with a knowledge base and a human hand-off.

Usage:
  frontdesk serve [flags]                      run the bot (see "frontdesk serve -h")
  frontdesk ask [--json] [--content DIR] "question"
                                               show how the bot decides on a question
  frontdesk eval --train FILE [--val FILE] --test FILE [--json]
                                               measure answer quality on labelled sets
  frontdesk index [--check] [--content DIR] [--data-dir DIR]
                                               validate the content, or build the stored index
  frontdesk bench [--url ws://HOST:PORT/ws] [--conversations N] [--rate R] [--duration 30s]
                 [--questions FILE.jsonl] [--idle] [--json]
                                               load a running server as N web customers; turns/s and latency
  frontdesk customer list|show|set ...         look up and edit customer profiles
  frontdesk customer export|forget ID|EMAIL    a customer's data as JSON; erase a customer for good
  frontdesk backup FILE [--data-dir DIR | --url URL (--token T | --email E)]
                                               a consistent copy of the database, from the file or a running server
  frontdesk migrate --from data/frontdesk.db --to postgres://USER:PASSWORD@HOST/DB
                                               copy a single-node shop into PostgreSQL, counts checked
  frontdesk gaps [--since 7d] [--json]         the questions the bot could not answer, grouped into topics
  frontdesk agent add|list|passwd|disable|enable ...
                                               manage the people who answer in the console
  frontdesk identity secret                    print a new secret for signed customer identities
  frontdesk apikey add|list|revoke ...         manage keys of the customer API (/api/v1/)
  frontdesk version                            print the version

Every command takes -h or --help. Every flag has an environment twin:
--data-dir is FRONTDESK_DATA_DIR (default ./data). serve, agent, customer
and apikey take --store postgres://… (FRONTDESK_STORE) to work on a
PostgreSQL database instead of the data directory's file.
serve also reads a YAML file (--config); flags win over the environment,
the environment over the file.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run executes one command line; main is a thin shell around it so tests
// can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "ask":
		return runAsk(ctx, rest, stdout, stderr)
	case "eval":
		return runEval(ctx, rest, stdout, stderr)
	case "index":
		return runIndex(ctx, rest, stdout, stderr)
	case "customer":
		return runCustomer(ctx, rest, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "agent":
		return runAgent(ctx, rest, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, stdout, stderr)
	case "identity":
		return runIdentity(ctx, rest, stdout, stderr)
	case "apikey":
		return runAPIKey(ctx, rest, stdout, stderr)
	case "gaps":
		return runGaps(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "frontdesk", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\nrun \"frontdesk help\" for the commands", cmd)}
}

// newFlagSet returns the flag set of the command name: on stderr, its
// -h prints usage, then the flags.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	return fs
}

// parseFlags parses args with fs, allowing flags after positional
// arguments ("ask 'where is my parcel' --json"), and returns the
// positional arguments. -h and --help print fs's usage and return
// flag.ErrHelp (exit 0); a bad flag is a short usage error with a hint
// to --help, the flag package printing nothing itself.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	defer func() { fs.SetOutput(out); fs.Usage = usage }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				usage()
				return nil, err
			}
			return nil, usageError{fmt.Sprintf("%v\nrun \"frontdesk %s --help\" for the flags", err, fs.Name())}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// envDefault returns the FRONTDESK_* environment twin of a flag, or def.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(envName(name)); ok {
		return v
	}
	return def
}

// envName maps a flag name to its environment variable: data-dir ->
// FRONTDESK_DATA_DIR.
func envName(flagName string) string {
	b := []byte("FRONTDESK_")
	for _, c := range []byte(flagName) {
		switch {
		case c == '-':
			b = append(b, '_')
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}
