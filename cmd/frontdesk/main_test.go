package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// askJSON runs "frontdesk ask --json" on q, decodes its output into r
// and returns the output.
func askJSON(t *testing.T, q string, r any) string {
	t.Helper()
	out, stderr, err := runCmd(t, "ask", "--json", q)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if err := json.Unmarshal([]byte(out), r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// writeSet writes labelled examples for a tiny shop to dir/name.
func writeSet(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var trainLines = []string{
	`{"text": "where is my parcel", "intent": "track"}`,
	`{"text": "track my order", "intent": "track"}`,
	`{"text": "my package has not arrived", "intent": "track"}`,
	`{"text": "how do i return an item", "intent": "return"}`,
	`{"text": "send back my order for a refund", "intent": "return"}`,
	`{"text": "i want to return this lamp", "intent": "return"}`,
	`{"text": "what are your opening hours", "intent": "hours"}`,
	`{"text": "when are you open", "intent": "hours"}`,
	`{"text": "are you open on saturday", "intent": "hours"}`,
	`{"text": "what is the capital of france", "intent": "oos"}`,
	`{"text": "tell me a joke", "intent": "oos"}`,
}

func TestEvalJSONContract(t *testing.T) {
	dir := t.TempDir()
	train := writeSet(t, dir, "train.jsonl", trainLines...)
	test := writeSet(t, dir, "test.jsonl",
		`{"text": "where is my package", "intent": "track"}`,
		`{"text": "can i return the lamp", "intent": "return"}`,
		`{"text": "who painted the mona lisa", "intent": "oos"}`)
	for _, withVal := range []bool{false, true} {
		args := []string{"eval", "--train", train, "--test", test, "--json"}
		if withVal {
			args = append(args, "--val", test)
		}
		out, stderr, err := runCmd(t, args...)
		if err != nil {
			t.Fatalf("eval: %v\n%s", err, stderr)
		}
		dec := json.NewDecoder(strings.NewReader(out))
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, out)
		}
		if dec.More() {
			t.Fatalf("more than one JSON value on stdout:\n%s", out)
		}
		for _, key := range []string{"in_scope_accuracy", "oos_recall", "accuracy", "answer_rate", "answer_precision", "search_p50_ms", "search_p99_ms", "build_seconds"} {
			v, ok := r[key].(float64)
			if !ok {
				t.Errorf("key %s missing or not a number: %v", key, r[key])
				continue
			}
			if strings.HasSuffix(key, "_ms") || key == "build_seconds" {
				if v < 0 {
					t.Errorf("%s = %v < 0", key, v)
				}
			} else if v < 0 || v > 1 {
				t.Errorf("%s = %v, want a fraction in [0, 1]", key, v)
			}
		}
		if r["n_test"] != 3.0 {
			t.Errorf("n_test = %v, want 3", r["n_test"])
		}
		th, ok := r["thresholds"].(map[string]any)
		if !ok || th["answer"] == nil || th["clarify"] == nil {
			t.Errorf("thresholds = %v", r["thresholds"])
		}
		wantFrom := "defaults"
		if withVal {
			wantFrom = "val"
		}
		if r["thresholds_from"] != wantFrom {
			t.Errorf("thresholds_from = %v, want %s", r["thresholds_from"], wantFrom)
		}
	}
}

func TestEvalReportIsReadable(t *testing.T) {
	dir := t.TempDir()
	train := writeSet(t, dir, "train.jsonl", trainLines...)
	out, _, err := runCmd(t, "eval", "--train", train, "--test", train)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"in-scope accuracy", "out-of-scope recall", "answer precision", "By answer threshold", "<- chosen"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestEvalRejectsMalformedLines(t *testing.T) {
	dir := t.TempDir()
	train := writeSet(t, dir, "train.jsonl", trainLines...)
	bad := writeSet(t, dir, "bad.jsonl", `{"text": "ok", "intent": "track"}`, `{"text": "oops"`)
	out, _, err := runCmd(t, "eval", "--train", train, "--test", bad, "--json")
	if err == nil {
		t.Fatal("malformed test file accepted")
	}
	if !strings.Contains(err.Error(), "bad.jsonl:2") {
		t.Errorf("error %q does not name line 2", err)
	}
	if out != "" {
		t.Errorf("stdout not empty on error: %q", out)
	}
	if _, _, err := runCmd(t, "eval", "--train", train); !errors.As(err, new(usageError)) {
		t.Errorf("missing --test: got %v, want a usage error", err)
	}
}

// TestEvalMeasuresTheContentWithoutTrain measures the embedded demo
// content on questions labelled with its article ids: two answered
// right, one labelled with the wrong article, one out of scope declined.
// A label that is no article's id is refused, not counted wrong.
func TestEvalMeasuresTheContentWithoutTrain(t *testing.T) {
	dir := t.TempDir()
	test := writeSet(t, dir, "shop.jsonl",
		`{"text": "how do I return a lamp?", "intent": "return-how"}`,
		`{"text": "Hello, how long does delivery take? thanks", "intent": "delivery-times"}`,
		`{"text": "how do i reset my password", "intent": "order-track"}`,
		`{"text": "what is the capital of france", "intent": "oos"}`)
	out, stderr, err := runCmd(t, "eval", "--test", test, "--json")
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr)
	}
	var r struct {
		NTest           int     `json:"n_test"`
		InScopeAccuracy float64 `json:"in_scope_accuracy"`
		OOSRecall       float64 `json:"oos_recall"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if r.NTest != 4 || math.Abs(r.InScopeAccuracy-2.0/3) > 1e-9 || r.OOSRecall != 1 {
		t.Errorf("eval of the demo content: %+v, want 4 questions, in-scope 2/3, out-of-scope recall 1", r)
	}
	report, _, err := runCmd(t, "eval", "--test", test)
	if err != nil || !strings.Contains(report, "train the embedded demo content") {
		t.Errorf("report does not say what it measured (%v):\n%s", err, report)
	}
	bad := writeSet(t, dir, "bad.jsonl", `{"text": "how do I return a lamp?", "intent": "returns"}`)
	_, _, err = runCmd(t, "eval", "--test", bad)
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "returns") {
		t.Errorf("a label that is no article's id: got %v, want a usage error naming it", err)
	}
}

func TestIndexCheckListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("good.md", "---\nid: good\ntitle: Good\nquestions: [is it good]\n---\nYes.\n")
	write("notitle.md", "---\nid: notitle\nquestions: [q]\n---\nBody.\n")
	write("badyaml.md", "---\nid: x\ntitle: a: b\n---\nBody.\n")
	write("related.md", "---\nid: related\ntitle: Related\nquestions: [q]\nrelated: [x, good]\n---\nYes.\n")
	write("good-copy.md", "---\nid: good\ntitle: Good again\nquestions: [is it good]\n---\nYes.\n")
	out, _, err := runCmd(t, "index", "--check", "--content", dir)
	if !errors.Is(err, errSilent) {
		t.Fatalf("err = %v, want a non-zero exit", err)
	}
	for _, want := range []string{"notitle.md:1: missing title", "badyaml.md:3:",
		`good-copy.md:2: duplicate id "good", also used by good.md`, `good.md:2: duplicate id "good", also used by good-copy.md`,
		"1 articles", "4 problems"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"notitle.md", "badyaml.md", "related.md", "good-copy.md"} {
		os.Remove(filepath.Join(dir, f))
	}
	if out, _, err := runCmd(t, "index", "--check", "--content", dir); err != nil {
		t.Errorf("clean content: %v\n%s", err, out)
	}
}

func TestIndexCheckPassesOnTheDemoContent(t *testing.T) {
	out, _, err := runCmd(t, "index", "--check")
	if err != nil {
		t.Fatalf("demo content has problems:\n%s", out)
	}
}

func TestAskOnTheDemoContent(t *testing.T) {
	cases := []struct {
		q    string
		want string // decision
	}{
		{"what is the capital of france", "no_answer"},
		{"how long does delivry take", "answer"},
		{"i want a refnd", "answer"},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			var r struct {
				Decision string `json:"decision"`
				Article  *struct {
					ID   string `json:"id"`
					Body string `json:"body"`
				} `json:"article"`
				Hits []struct {
					ID         string  `json:"id"`
					Confidence float64 `json:"confidence"`
				} `json:"hits"`
			}
			out := askJSON(t, tc.q, &r)
			if r.Decision != tc.want {
				t.Errorf("decision %q, want %q (%s)", r.Decision, tc.want, out)
			}
			if tc.want == "answer" && (r.Article == nil || r.Article.Body == "") {
				t.Errorf("answer without article text: %s", out)
			}
		})
	}
	out, _, err := runCmd(t, "ask", "where is my parcel")
	if err != nil || !strings.Contains(out, "Decision:") || !strings.Contains(out, "Top hits") {
		t.Errorf("human output: %v\n%s", err, out)
	}
}

// TestAskRunsTheBotsDialogueRules: ask decides as the bot does, its
// dialogue rules before the knowledge base, and names the rule.
func TestAskRunsTheBotsDialogueRules(t *testing.T) {
	for _, tc := range []struct {
		q, decision, rule, detail, human string
	}{
		{"hi", "smalltalk", "smalltalk", "greeting", `Decision: SMALL TALK (dialogue rule "smalltalk": greeting); the bot greets`},
		{"I want to talk to a human", "handoff", "human", "", `Decision: HAND-OFF (dialogue rule "human"); the bot hands the conversation to a person`},
		{"my name is Ana", "smalltalk", "name", "Ana", `dialogue rule "name": Ana`},
		{"where is my parcel", "answer", "", "", "No dialogue rule applies"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			var r struct {
				Decision   string `json:"decision"`
				Rule       string `json:"rule"`
				RuleDetail string `json:"rule_detail"`
				KBDecision string `json:"kb_decision"`
			}
			askJSON(t, tc.q, &r)
			if r.Decision != tc.decision || r.Rule != tc.rule || r.RuleDetail != tc.detail || r.KBDecision == "" {
				t.Errorf("got %+v, want decision %q by rule %q (%q)", r, tc.decision, tc.rule, tc.detail)
			}
			out, _, err := runCmd(t, "ask", tc.q)
			if err != nil || !strings.Contains(out, tc.human) {
				t.Errorf("human output lacks %q (%v):\n%s", tc.human, err, out)
			}
		})
	}
}

func TestAskPrintsConfidencesThatCompareAsTheyRead(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		th   []float64
		want string
	}{
		{0.298, []float64{0.1, 0.3}, "0.298"},
		{0.2999, []float64{0.3}, "0.2999"},
		{0.3, []float64{0.3}, "0.30"},
		{0.5, []float64{0.3}, "0.50"},
		{0.104, []float64{0.1, 0.3}, "0.104"},
	} {
		if got := confidence(tc.v, tc.th...); got != tc.want {
			t.Errorf("confidence(%v, %v) = %q, want %q", tc.v, tc.th, got, tc.want)
		}
	}
}
