package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/insights"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// runGaps prints the knowledge gaps: the questions the bot failed on
// since a time, grouped into topics.
func runGaps(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gaps", gapsUsage, stderr)
	since := fs.String("since", envDefault("since", "7d"), "how far back to look: days such as 7d, or a duration such as 12h")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	dataDir := fs.String("data-dir", envDefault("data-dir", "data"), "data `directory` holding frontdesk.db")
	var kf kbFlags
	kf.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("gaps takes no arguments, got %q", pos)}
	}
	back, err := parseSince(*since)
	if err != nil {
		return err
	}
	path := filepath.Join(*dataDir, "frontdesk.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database at %s (set --data-dir to the server's data directory): %w", path, err)
	}
	from := time.Now().Add(-back)
	gaps, err := collectGaps(ctx, *dataDir, from)
	if err != nil {
		return err
	}
	k, err := kf.buildKB(ctx, stderr)
	if err != nil {
		return err
	}
	defer k.Close()
	rep, err := insights.Reported(ctx, k, gaps, from)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printGaps(stdout, rep)
	return nil
}

// collectGaps reads the questions the bot failed on since the time: from
// the database file when no process holds the data directory, through
// the admin socket of the serve that holds it otherwise.
func collectGaps(ctx context.Context, dir string, since time.Time) ([]insights.Gap, error) {
	lock, err := lockDataDir(dir, "gaps")
	var busy busyError
	if errors.As(err, &busy) && busy.command == "serve" {
		return gapsThroughSocket(ctx, dir, since)
	}
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	db, err := bolt.Open(filepath.Join(dir, "frontdesk.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return insights.Collect(ctx, db, since)
}

// parseSince reads a look-back period: 7d or a Go duration.
func parseSince(v string) (time.Duration, error) {
	d, err := parseRetention(v)
	if err != nil || d <= 0 {
		return 0, usageError{fmt.Sprintf("since: %q is not a number of days such as 7d or a duration such as 12h", v)}
	}
	return d, nil
}

func printGaps(w io.Writer, rep insights.Report) {
	fmt.Fprintf(w, "Knowledge gaps since %s: %s in %s\n", rep.Since.Format("2006-01-02 15:04"), plural(rep.Questions, "question"), plural(len(rep.Topics), "topic"))
	for i, t := range rep.Topics {
		fmt.Fprintf(w, "\n%d. %q: %s in %s (%s)\n", i+1, t.Label, plural(t.Count, "question"), plural(t.Conversations, "conversation"), reasonList(t.Reasons))
		for _, e := range t.Examples {
			fmt.Fprintf(w, "   - %q  [%s]\n", e.Question, e.ConversationID)
			if e.AgentReply != "" {
				fmt.Fprintf(w, "     agent replied: %q\n", e.AgentReply)
			}
		}
		if len(t.Nearest) > 0 {
			var near []string
			for _, n := range t.Nearest {
				near = append(near, fmt.Sprintf("%s (%.2f)", n.ID, n.Confidence))
			}
			fmt.Fprintf(w, "   nearest articles: %s\n", strings.Join(near, ", "))
		}
	}
}

func reasonList(r map[string]int) string {
	var parts []string
	for _, k := range []string{insights.ReasonNoAnswer, insights.ReasonSomethingElse, insights.ReasonNotHelpful, insights.ReasonHandoff} {
		if r[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), r[k]))
		}
	}
	return strings.Join(parts, ", ")
}

const gapsUsage = `Usage: frontdesk gaps [--since 7d] [--json] [--data-dir DIR] [--content DIR]

The questions the bot could not answer, grouped into topics. It reads
the database file, or, while serve runs on the data directory, asks it
through its admin socket (DIR/admin.sock). The console shows the same
under Insights (GET /api/agent/insights/gaps).

Flags:
`
