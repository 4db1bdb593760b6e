package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/kb"
)

// kbFlags are the flags shared by the commands that read content.
type kbFlags struct {
	contentDir string
	answer     string
	clarify    string
}

func (f *kbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.contentDir, "content", envDefault("content", ""), "content `directory` (default: the embedded demo knowledge base)")
	fs.StringVar(&f.answer, "answer-threshold", envDefault("answer-threshold", ""), fmt.Sprintf("answer at this confidence or above (default %g)", kb.DefaultThresholds.Answer))
	fs.StringVar(&f.clarify, "clarify-threshold", envDefault("clarify-threshold", ""), fmt.Sprintf("offer candidates at this confidence or above (default %g)", kb.DefaultThresholds.Clarify))
}

// thresholds returns the configured thresholds, defaults filled in.
func (f *kbFlags) thresholds() (kb.Thresholds, error) {
	t := kb.DefaultThresholds
	for _, p := range []struct {
		s    string
		name string
		dst  *float64
	}{{f.answer, "answer-threshold", &t.Answer}, {f.clarify, "clarify-threshold", &t.Clarify}} {
		if p.s == "" {
			continue
		}
		v, err := strconv.ParseFloat(p.s, 64)
		if err != nil {
			return t, usageError{fmt.Sprintf("--%s: %q is not a number", p.name, p.s)}
		}
		*p.dst = v
	}
	if err := t.Validate(); err != nil {
		return t, usageError{err.Error()}
	}
	return t, nil
}

// loadContent loads the content directory, or the embedded demo content
// when dir is "". Problems are written to problems (one a line); the
// content that loaded is still returned.
func (f *kbFlags) loadContent(problems io.Writer) (*kb.Content, error) {
	c, err := f.readContent()
	if err != nil {
		return nil, err
	}
	for _, p := range c.Problems {
		fmt.Fprintf(problems, "content problem: %v\n", p)
	}
	if len(c.Articles) == 0 {
		return nil, fmt.Errorf("content has no usable articles")
	}
	return c, nil
}

// readContent loads the content, however few articles are usable.
func (f *kbFlags) readContent() (*kb.Content, error) {
	var fsys fs.FS = content.FS
	if f.contentDir != "" {
		st, err := os.Stat(f.contentDir)
		if err != nil {
			return nil, fmt.Errorf("content directory: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("content directory: %s is not a directory", f.contentDir)
		}
		fsys = os.DirFS(f.contentDir)
	}
	return kb.Load(fsys)
}

// buildKB loads the content and builds an in-memory knowledge base.
func (f *kbFlags) buildKB(ctx context.Context, stderr io.Writer) (*kb.KB, error) {
	t, err := f.thresholds()
	if err != nil {
		return nil, err
	}
	c, err := f.loadContent(stderr)
	if err != nil {
		return nil, err
	}
	return kb.Build(ctx, c, kb.Options{Thresholds: t})
}

// progress returns a progress reporter that redraws one line on w when w
// is a terminal, and nil otherwise.
func progress(w io.Writer) func(stage string, done, total int) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return (&progressLine{w: w}).report
}

// progressLine draws the stages of a build that run at once (the index
// and the classifier's training) side by side on one line, "index
// 40/67  train 0/700", redrawn at each call, so that neither overwrites
// the other. The line ends when every stage on it is done; a stage
// reported after that starts a new line. Calls must come one at a time.
type progressLine struct {
	w      io.Writer
	stages []progressStage
	width  int // of the line drawn last, to blank what a shorter one leaves
}

type progressStage struct {
	name        string
	done, total int
}

func (p *progressLine) report(stage string, done, total int) {
	if total == 0 { // a notice, on a line of its own
		if len(p.stages) > 0 {
			fmt.Fprintln(p.w)
			p.stages, p.width = nil, 0
		}
		fmt.Fprintf(p.w, "%s\n", stage)
		return
	}
	i := slices.IndexFunc(p.stages, func(s progressStage) bool { return s.name == stage })
	if i < 0 {
		i = len(p.stages)
		p.stages = append(p.stages, progressStage{name: stage})
	}
	p.stages[i].done, p.stages[i].total = done, total
	var b strings.Builder
	finished := true
	for j, s := range p.stages {
		if j > 0 {
			b.WriteString("  ")
		}
		fmt.Fprintf(&b, "%s %d/%d", s.name, s.done, s.total)
		finished = finished && s.done >= s.total
	}
	line := b.String()
	fmt.Fprintf(p.w, "\r%-*s", p.width, line)
	p.width = len(line)
	if finished {
		fmt.Fprintln(p.w)
		p.stages, p.width = nil, 0
	}
}
