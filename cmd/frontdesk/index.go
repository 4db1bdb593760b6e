package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/frontdesk/frontdesk/kb"
)

func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("index", indexUsage, stderr)
	check := fs.Bool("check", false, "only validate the content: list every problem, exit non-zero if there is any")
	dataDir := fs.String("data-dir", envDefault("data-dir", "data"), "data `directory` for the stored index")
	var kf kbFlags
	kf.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("index takes no arguments, got %q", pos)}
	}
	if *check {
		c, err := kf.readContent()
		if err != nil {
			return err
		}
		for _, p := range c.Problems {
			fmt.Fprintln(stdout, p.Error())
		}
		fmt.Fprintf(stdout, "%d articles, %d synonym groups, %d negative examples, %d problems\n",
			len(c.Articles), len(c.Synonyms), len(c.Negatives), len(c.Problems))
		if len(c.Problems) > 0 || len(c.Articles) == 0 {
			return errSilent
		}
		return nil
	}
	t, err := kf.thresholds()
	if err != nil {
		return err
	}
	c, err := kf.loadContent(stderr)
	if err != nil {
		return err
	}
	lock, err := lockDataDir(*dataDir, "index")
	if err != nil {
		return err
	}
	defer lock.Release()
	dir := filepath.Join(*dataDir, "kb")
	k, err := kb.Open(ctx, dir, c, kb.Options{Thresholds: t, Progress: progress(stderr)})
	if err != nil {
		return err
	}
	defer k.Close()
	if k.Reused {
		fmt.Fprintf(stdout, "index in %s is up to date (%d articles)\n", dir, len(k.Articles()))
	} else {
		fmt.Fprintf(stdout, "built index in %s: %d articles in %.2f s\n", dir, len(k.Articles()), k.BuildTime.Seconds())
	}
	return nil
}

const indexUsage = `Usage: frontdesk index [--check] [--content DIR] [--data-dir DIR]

With --check, validates the content and lists every problem with its file
and line. Without it, builds (or confirms) the stored index in the data
directory.

Flags:
`
