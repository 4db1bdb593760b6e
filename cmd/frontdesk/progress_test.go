package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/kb"
)

// TestProgressLineKeepsBothStages feeds the terminal reporter the calls
// of a build whose two stages run at once, in the order the goroutines
// make them, and checks that every redraw shows both, that the line ends
// once (when both are done), and that a stage after that starts afresh.
func TestProgressLineKeepsBothStages(t *testing.T) {
	var out bytes.Buffer
	p := &progressLine{w: &out}
	p.report("train", 0, 700)
	p.report("index", 10, 67)
	p.report("index", 67, 67)
	if strings.Contains(out.String(), "\n") {
		t.Fatalf("the line ended while training ran: %q", out.String())
	}
	p.report("train", 700, 700)
	p.report("train", 0, 5)
	draws := strings.Split(out.String(), "\r")[1:]
	want := []string{
		"train 0/700",
		"train 0/700  index 10/67",
		"train 0/700  index 67/67",
		"train 700/700  index 67/67\n",
		"train 0/5", // a new line: nothing to blank
	}
	if len(draws) != len(want) {
		t.Fatalf("got %d redraws, want %d: %q", len(draws), len(want), out.String())
	}
	for i, d := range draws {
		if strings.TrimRight(d, " \n") != strings.TrimRight(want[i], " \n") {
			t.Errorf("redraw %d = %q, want %q", i, d, want[i])
		}
	}
	if !strings.HasSuffix(draws[3], "\n") {
		t.Errorf("the line did not end when both stages were done: %q", draws[3])
	}
	if draws[4] != "train 0/5" {
		t.Errorf("a stage after the line ended: %q, want it alone on a new line", draws[4])
	}
	out.Reset()
	p = &progressLine{w: &out}
	p.report("index", 100, 100)
	p.report("train", 5, 7)
	p.report("train", 7, 7)
	if got, want := out.String(), "\rindex 100/100\n\rtrain 5/7\rtrain 7/7\n"; got != want {
		t.Errorf("one stage after another: got %q, want %q", got, want)
	}
	p.stages = []progressStage{{"index", 10, 20}, {"train", 0, 5}}
	p.width = len("index 10/20  train 0/5")
	out.Reset()
	p.report("index", 11, 20)
	if got := out.String(); got != "\rindex 11/20  train 0/5" {
		t.Errorf("redraw: %q", got)
	}

	// A notice (total 0) ends an unfinished line and stands on its own.
	out.Reset()
	p = &progressLine{w: &out}
	p.report("index", 1, 2)
	p.report("rebuilding a damaged index", 0, 0)
	if got, want := out.String(), "\rindex 1/2\nrebuilding a damaged index\n"; got != want {
		t.Errorf("notice: got %q, want %q", got, want)
	}
}

// TestProgressLineOnARealBuild builds the demo content with the reporter
// and checks that its last line holds both stages, done.
func TestProgressLineOnARealBuild(t *testing.T) {
	c, err := kb.Load(content.FS)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := &progressLine{w: &out}
	k, err := kb.Build(context.Background(), c, kb.Options{Progress: p.report})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	// Each line's last redraw is what the operator is left with: every
	// stage on it done, and both stages somewhere.
	final := map[string][2]int{}
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		draws := strings.Split(line, "\r")
		for _, part := range strings.Split(strings.TrimSpace(draws[len(draws)-1]), "  ") {
			var stage string
			var done, total int
			if _, err := fmt.Sscanf(part, "%s %d/%d", &stage, &done, &total); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			if done != total {
				t.Errorf("line %q ends with %s at %d/%d", line, stage, done, total)
			}
			final[stage] = [2]int{done, total}
		}
	}
	if n := len(k.Articles()); final["index"] != [2]int{n, n} {
		t.Errorf("index ended at %v, want %d/%d:\n%q", final["index"], n, n, out.String())
	}
	if tr := final["train"]; tr[1] < len(k.Articles()) {
		t.Errorf("train ended at %v, want every phrasing:\n%q", tr, out.String())
	}
}
