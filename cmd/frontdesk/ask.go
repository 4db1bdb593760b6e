package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/frontdesk/frontdesk/kb"
)

// askOutput is the JSON form of `frontdesk ask --json`.
type askOutput struct {
	Question   string        `json:"question"`
	Decision   kb.Kind       `json:"decision"`
	Article    *kb.Article   `json:"article,omitempty"`
	Candidates []kb.Hit      `json:"candidates,omitempty"`
	Hits       []kb.Hit      `json:"hits"`
	Thresholds kb.Thresholds `json:"thresholds"`
	Signals    *kb.Signals   `json:"signals,omitempty"`
}

func runAsk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ask", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var kf kbFlags
	kf.register(fs)
	asJSON := fs.Bool("json", false, "print the decision as one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(strings.Join(pos, " "))
	if q == "" {
		return usageError{`ask needs a question: frontdesk ask "where is my parcel"`}
	}
	k, err := kf.buildKB(ctx, stderr)
	if err != nil {
		return err
	}
	defer k.Close()
	d, err := k.Decide(ctx, q)
	if err != nil {
		return err
	}
	if *asJSON {
		out := askOutput{Question: q, Decision: d.Kind, Article: d.Article, Candidates: d.Candidates, Hits: d.Hits, Thresholds: k.Thresholds(), Signals: d.Signals}
		if out.Hits == nil {
			out.Hits = []kb.Hit{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	t := k.Thresholds()
	top := 0.0
	if len(d.Hits) > 0 {
		top = d.Hits[0].Confidence
	}
	switch d.Kind {
	case kb.Answer:
		fmt.Fprintf(stdout, "Decision: ANSWER with %q (confidence %.2f >= answer threshold %.2f)\n", d.Article.ID, top, t.Answer)
	case kb.Clarify:
		fmt.Fprintf(stdout, "Decision: CLARIFY (confidence %.2f is between the thresholds %.2f and %.2f); the bot asks \"did you mean...\" with:\n", top, t.Clarify, t.Answer)
		for _, h := range d.Candidates {
			fmt.Fprintf(stdout, "  - %s (%s)\n", h.Title, h.ID)
		}
	default:
		fmt.Fprintf(stdout, "Decision: NO ANSWER (confidence %.2f < clarify threshold %.2f); the bot says it does not know and offers a person\n", top, t.Clarify)
	}
	fmt.Fprintf(stdout, "\nTop hits:\n  %-4s %-10s %-8s %-28s %s\n", "#", "confidence", "bleve", "id", "title")
	for i, h := range d.Hits {
		fmt.Fprintf(stdout, "  %-4d %-10.3f %-8.2f %-28s %s\n", i+1, h.Confidence, h.Score, h.ID, h.Title)
	}
	printSignals(stdout, d.Signals)
	if d.Kind == kb.Answer {
		fmt.Fprintf(stdout, "\nAnswer (%s):\n%s\n", d.Article.File, d.Article.Body)
		if d.Article.Handoff {
			fmt.Fprintln(stdout, "\n(This article is marked handoff: the bot also offers a person.)")
		}
	}
	return nil
}

// printSignals shows the evidence the top confidence was computed from,
// so a content author sees why the bot was sure or unsure.
func printSignals(w io.Writer, s *kb.Signals) {
	if s == nil {
		return
	}
	yes := map[bool]string{true: "yes", false: "no"}
	fmt.Fprintf(w, "\nSignals behind the top confidence:\n")
	fmt.Fprintf(w, "  model probability  %.2f  (classifier and Bleve, before calibration)\n", s.Model)
	fmt.Fprintf(w, "  margin             %.2f  (over the second article)\n", s.Margin)
	fmt.Fprintf(w, "  out of scope       %.2f  (like the negatives)\n", s.OutOfScope)
	fmt.Fprintf(w, "  known words        %.2f", s.KnownWords)
	if len(s.Unknown) > 0 {
		fmt.Fprintf(w, "  (never in the content: %s)", strings.Join(s.Unknown, ", "))
		fmt.Fprintf(w, "\n  without them       %.2f  (model probability of the top article without those words)", s.WithoutUnknown)
	}
	fmt.Fprintf(w, "\n  known weight       %.2f  (of the question's features, learnt by the classifier)\n", s.KnownWeight)
	fmt.Fprintf(w, "  nearest phrasing   %.2f  (similarity to the article's closest question)\n", s.Nearest)
	fmt.Fprintf(w, "  Bleve agrees       %-4s  (its score %.2f of its best)\n", yes[s.BleveAgrees], s.Bleve)
}
