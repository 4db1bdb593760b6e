package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/frontdesk/frontdesk/kb"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", evalUsage, stderr)
	train := fs.String("train", "", "training `file` (JSON Lines {\"text\", \"intent\"}); one article per intent (default: measure the content, --content or the embedded demo)")
	val := fs.String("val", "", "validation `file`: choose the thresholds on it (default: the configured thresholds)")
	test := fs.String("test", "", "test `file` to measure")
	asJSON := fs.Bool("json", false, "print exactly one JSON object on stdout")
	var kf kbFlags
	kf.register(fs)
	var lf evalLLMFlags
	lf.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("eval takes no arguments, got %q", pos)}
	}
	if *test == "" {
		return usageError{"eval needs --test"}
	}
	if *train == "" && lf.on {
		return usageError{"eval --llm needs --train"}
	}
	t, err := kf.thresholds()
	if err != nil {
		return err
	}
	var trainSet []kb.Example
	if *train != "" {
		if trainSet, err = readExamples(*train); err != nil {
			return err
		}
	}
	testSet, err := readExamples(*test)
	if err != nil {
		return err
	}
	var valSet []kb.Example
	if *val != "" {
		if valSet, err = readExamples(*val); err != nil {
			return err
		}
	}
	var prog func(string, int, int)
	if !*asJSON {
		prog = progress(stderr)
	}
	from := "defaults"
	if kf.answer != "" || kf.clarify != "" {
		from = "flags"
	}
	if lf.on {
		return evalLLM(ctx, lf, t, from, trainSet, valSet, testSet, evalFiles{*train, *val, *test}, *asJSON, prog, stdout, stderr)
	}
	trained := *train
	var c *kb.Content
	if trainSet != nil {
		c = kb.ContentFromExamples(trainSet)
	} else {
		if c, err = kf.loadContent(stderr); err != nil {
			return err
		}
		if err := labelsAreArticles(c, *test, testSet); err != nil {
			return err
		}
		if err := labelsAreArticles(c, *val, valSet); err != nil {
			return err
		}
		trained = "the content " + kf.contentDir
		if kf.contentDir == "" {
			trained = "the embedded demo content"
		}
	}
	k, err := kb.Build(ctx, c, kb.Options{Thresholds: t, Progress: prog})
	if err != nil {
		return err
	}
	defer k.Close()
	if valSet != nil {
		ct, err := k.Calibrate(ctx, valSet)
		if err != nil {
			return err
		}
		k.SetThresholds(ct)
		from = "val"
	}
	r, err := k.Evaluate(ctx, testSet)
	if err != nil {
		return err
	}
	r.ThresholdsFrom = from
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	report(stdout, r, trained, *val, *test)
	return nil
}

// labelsAreArticles checks that every intent of set (read from name) is
// an article of c or kb.OutOfScope: a misspelt id would count as a wrong
// answer.
func labelsAreArticles(c *kb.Content, name string, set []kb.Example) error {
	ids := map[string]bool{kb.OutOfScope: true}
	for _, a := range c.Articles {
		ids[a.ID] = true
	}
	var bad []string
	for _, e := range set {
		if !ids[e.Intent] && !slices.Contains(bad, e.Intent) {
			bad = append(bad, e.Intent)
		}
	}
	if len(bad) > 0 {
		some := strings.Join(bad[:min(len(bad), 3)], ", ")
		if len(bad) > 3 {
			some += ", ..."
		}
		return usageError{fmt.Sprintf("%s: %d labels are no article's id (%s): label each question with the id of the article that should answer it, or %q", name, len(bad), some, kb.OutOfScope)}
	}
	return nil
}

func readExamples(name string) ([]kb.Example, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return kb.ReadExamples(f, name)
}

// report prints an evaluation for people.
func report(w io.Writer, r kb.Result, train, val, test string) {
	pct := func(x float64) string { return fmt.Sprintf("%5.1f%%", 100*x) }
	fmt.Fprintf(w, "Frontdesk evaluation\n  train %s\n", train)
	if val != "" {
		fmt.Fprintf(w, "  val   %s\n", val)
	}
	fmt.Fprintf(w, "  test  %s (%d questions: %d in scope, %d out of scope)\n\n", test, r.NTest, r.NInScope, r.NOutOfScope)
	fmt.Fprintf(w, "Thresholds (from %s): answer >= %.3f, clarify >= %.3f\n\n", r.ThresholdsFrom, r.Thresholds.Answer, r.Thresholds.Clarify)
	fmt.Fprintf(w, "  in-scope accuracy   %s   (answered with the right article)\n", pct(r.InScopeAccuracy))
	if r.NOutOfScope > 0 {
		fmt.Fprintf(w, "  out-of-scope recall %s   (not answered when no article fits)\n", pct(r.OOSRecall))
	}
	fmt.Fprintf(w, "  accuracy            %s\n", pct(r.Accuracy))
	fmt.Fprintf(w, "  answer rate         %s   (questions answered)\n", pct(r.AnswerRate))
	fmt.Fprintf(w, "  answer precision    %s   (answers that were right)\n", pct(r.AnswerPrecision))
	fmt.Fprintf(w, "  clarify rate        %s   (right article among the offered ones: %s)\n", pct(r.ClarifyRate), pct(r.ClarifyHitRate))
	fmt.Fprintf(w, "  build               %.2f s\n", r.BuildSeconds)
	fmt.Fprintf(w, "  search + decision   p50 %.3f ms, p99 %.3f ms\n\n", r.SearchP50Ms, r.SearchP99Ms)

	fmt.Fprintf(w, "By answer threshold:\n  %-9s %-9s %-9s %-9s %-9s %s\n", "answer>=", "in-scope", "oos", "accuracy", "answered", "precision")
	for _, row := range r.Table {
		mark := ""
		if row.Answer == r.Thresholds.Answer {
			mark = "  <- chosen"
		}
		fmt.Fprintf(w, "  %-9.2f %-9s %-9s %-9s %-9s %s%s\n", row.Answer, pct(row.InScopeAccuracy), pct(row.OOSRecall), pct(row.Accuracy), pct(row.AnswerRate), pct(row.AnswerPrecision), mark)
	}
	fmt.Fprintf(w, "\nCalibration (top confidence vs. how often the top article was right):\n")
	for _, b := range r.Calibration {
		if b.N == 0 {
			continue
		}
		fmt.Fprintf(w, "  %.1f-%.1f  n=%-5d mean confidence %.2f  right %s %s\n", b.Low, b.High, b.N, b.MeanConf, pct(b.Precision), strings.Repeat("#", int(b.Precision*20)))
	}
	if len(r.Confused) > 0 {
		fmt.Fprintf(w, "\nMost confused (expected -> decided):\n")
		for _, c := range r.Confused {
			fmt.Fprintf(w, "  %4d  %s -> %s\n", c.Count, c.Want, c.Got)
		}
	}
}

const evalUsage = `Usage: frontdesk eval --train FILE [--val FILE] --test FILE [--json]
       frontdesk eval [--content DIR] [--val FILE] --test FILE [--json]
       frontdesk eval --llm --llm-base-url URL --llm-embedding-model NAME --train FILE [--val FILE] --test FILE [--json]

Measures answer quality on labelled question sets (JSON Lines of
{"text", "intent"}). Without --train it measures the content itself
(--content, or the embedded demo): label each question with the id of
the article that should answer it, or "oos" when none should. With
--llm, measures the ranking re-ranked with the embedding model beside the
plain ranking, on the same questions (the API key, if the server needs
one, in FRONTDESK_LLM_API_KEY).

Flags:
`
