package kb

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestReadExamplesNamesTheBadLine(t *testing.T) {
	cases := map[string]string{
		"not json":      "{\"text\": \"hi\", \"intent\": \"a\"}\n\nnot json\n",
		"missing text":  "{\"text\": \"hi\", \"intent\": \"a\"}\n{\"intent\": \"b\"}\n",
		"wrong type":    "{\"text\": \"hi\", \"intent\": \"a\"}\n{\"text\": 5, \"intent\": \"b\"}\n",
		"unknown field": "{\"text\": \"hi\", \"intent\": \"a\"}\n{\"text\": \"x\", \"label\": \"b\"}\n",
		"two values":    "{\"text\": \"hi\", \"intent\": \"a\"}\n{\"text\": \"x\", \"intent\": \"b\"} {}\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ReadExamples(strings.NewReader(in), "set.jsonl")
			if err == nil {
				t.Fatal("no error")
			}
			line := ":2:"
			if name == "not json" {
				line = ":3:"
			}
			if !strings.Contains(err.Error(), "set.jsonl"+line) {
				t.Errorf("error %q does not name set.jsonl%s", err, line)
			}
		})
	}
	ex, err := ReadExamples(strings.NewReader("{\"text\": \" hi \", \"intent\": \"greet\"}\n"), "ok")
	if err != nil || len(ex) != 1 || ex[0].Text != "hi" {
		t.Errorf("good input: %v %v", ex, err)
	}
}

// shopExamples turns testdata/shop into labelled examples: its questions
// for training, paraphrases for testing.
func TestEvaluateMeasuresTheBotsDecision(t *testing.T) {
	c := shop(t)
	var train []Example
	for _, a := range c.Articles {
		for _, q := range a.Questions {
			train = append(train, Example{Text: q, Intent: a.ID})
		}
	}
	for _, n := range c.Negatives {
		train = append(train, Example{Text: n, Intent: OutOfScope})
	}
	k, err := Build(context.Background(), ContentFromExamples(train), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	test := []Example{
		{"how can i send a lamp back", "return-item"},
		{"what time do you open on saturday", "opening-hours"},
		{"my package never arrived", "track-order"},
		{"who painted the mona lisa", OutOfScope},
		{"how do i bake bread", OutOfScope},
	}
	r, err := k.Evaluate(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	if r.NTest != 5 || r.NInScope != 3 || r.NOutOfScope != 2 {
		t.Fatalf("counts %d/%d/%d", r.NTest, r.NInScope, r.NOutOfScope)
	}
	// Recompute the metrics from the decisions themselves.
	var inOK, oosOK, answered, answeredOK int
	for _, e := range test {
		d, err := k.Decide(context.Background(), e.Text)
		if err != nil {
			t.Fatal(err)
		}
		got := OutOfScope
		if d.Kind == Answer {
			got = d.Article.ID
			answered++
			if got == e.Intent {
				answeredOK++
			}
		}
		switch {
		case e.Intent == OutOfScope && got == OutOfScope:
			oosOK++
		case e.Intent != OutOfScope && got == e.Intent:
			inOK++
		}
	}
	if r.InScopeAccuracy != float64(inOK)/3 || r.OOSRecall != float64(oosOK)/2 || r.Accuracy != float64(inOK+oosOK)/5 {
		t.Errorf("metrics %+v disagree with the decisions (%d in, %d oos)", r, inOK, oosOK)
	}
	if r.AnswerRate != float64(answered)/5 || (answered > 0 && r.AnswerPrecision != float64(answeredOK)/float64(answered)) {
		t.Errorf("answer rate/precision %v/%v, decisions say %d answered, %d right", r.AnswerRate, r.AnswerPrecision, answered, answeredOK)
	}
	if inOK < 2 || oosOK < 1 {
		t.Errorf("the shop KB should get most of these right: %d in-scope, %d oos", inOK, oosOK)
	}
	if len(r.Table) == 0 || r.Table[0].AnswerRate < r.Table[len(r.Table)-1].AnswerRate {
		t.Errorf("answer rate must fall as the threshold rises: %+v", r.Table)
	}
}

func TestCalibrateMaximisesValidationAccuracy(t *testing.T) {
	// Hits built by hand: answering needs a confidence above 0.6 to avoid
	// the out-of-scope questions, and the in-scope ones are all above 0.7.
	a, b := &Article{ID: "a"}, &Article{ID: "b"}
	mk := func(want string, top *Article, p float64) scored {
		return scored{want: want, hits: []Hit{{Article: top, ID: top.ID, Confidence: p}, {Article: b, ID: b.ID, Confidence: (1 - p) / 2}}}
	}
	set := []scored{mk("a", a, 0.9), mk("a", a, 0.75), mk("a", a, 0.8), mk(OutOfScope, a, 0.6), mk(OutOfScope, a, 0.3), mk("b", a, 0.4)}
	th := calibrate(set)
	if th.Answer <= 0.6 || th.Answer > 0.75 {
		t.Errorf("answer threshold %v, want in (0.6, 0.75]", th.Answer)
	}
	if th.Clarify > th.Answer {
		t.Errorf("clarify %v above answer %v", th.Clarify, th.Answer)
	}
	if r := score(set, th); r.Accuracy != 5.0/6 {
		t.Errorf("accuracy at chosen thresholds %v, want 5/6", r.Accuracy)
	}
}

// clinc loads the shared CLINC150 training set, or skips.
func clinc(b *testing.B) []Example {
	f, err := os.Open("../../shared/data/clinc150/train.jsonl")
	if err != nil {
		b.Skip("CLINC150 not available:", err)
	}
	defer f.Close()
	ex, err := ReadExamples(f, "train.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	return ex
}

// BenchmarkBuild builds a CLINC150-sized knowledge base (15,000 phrasings
// over 150 articles) in memory: one seed, the large way.
func BenchmarkBuild(b *testing.B) {
	benchmarkBuild(b, ContentFromExamples(clinc(b)))
}

// BenchmarkBuildDemo builds the demo shop's knowledge base (about 700
// phrasings over 67 articles, eight seeds) in memory.
func BenchmarkBuildDemo(b *testing.B) {
	c, err := Load(os.DirFS("../content"))
	if err != nil {
		b.Fatal(err)
	}
	benchmarkBuild(b, c)
}

// benchmarkBuild builds c each iteration, training the model afresh
// (trainCached would reuse the first iteration's).
func benchmarkBuild(b *testing.B, c *Content) {
	b.ReportAllocs()
	for b.Loop() {
		trained.mu.Lock()
		trained.keys, trained.models = [2][sha256.Size]byte{}, [2]*classifier{}
		trained.mu.Unlock()
		k, err := Build(context.Background(), c, Options{})
		if err != nil {
			b.Fatal(err)
		}
		k.Close()
	}
}

// BenchmarkSearch runs Search and the decision on a CLINC150-sized
// knowledge base, cycling through its own phrasings with one typo each.
func BenchmarkSearch(b *testing.B) {
	ex := clinc(b)
	k, err := Build(context.Background(), ContentFromExamples(ex), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	qs := make([]string, 0, 1000)
	for i := 0; i < len(ex) && len(qs) < cap(qs); i += 15 {
		q := ex[i].Text
		if j := len(q) / 2; j > 0 {
			q = q[:j] + q[j+1:] // one typo
		}
		qs = append(qs, q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := k.Decide(context.Background(), qs[i%len(qs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDecideDemoAfterIdle decides customer questions on the demo
// content, back to back and after an untimed pause of 20 ms each (a lone
// customer's turn comes after a second of idling: caches gone cold), as
// store/bolt's BenchmarkCommitAfterIdle does for the commit.
func BenchmarkDecideDemoAfterIdle(b *testing.B) {
	k := buildShop(b, demo(b))
	qs := []string{
		"where is my order", "how long does delivery take", "how do I return an item",
		"when will I get my refund", "what payment methods do you accept", "can I cancel my order",
		"how do I get my invoice", "my lamp flickers", "which bulb fits my lamp", "do you have a showroom",
	}
	// The pause sleeps (the processor idles) or spins (it stays busy on
	// a loop that touches nothing the decision uses).
	for _, c := range []struct {
		pause time.Duration
		spin  bool
	}{{0, false}, {20 * time.Millisecond, false}, {20 * time.Millisecond, true}} {
		name := fmt.Sprintf("pause=%v", c.pause)
		if c.spin {
			name += "/spin"
		}
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if c.pause > 0 {
					b.StopTimer()
					if c.spin {
						for start := time.Now(); time.Since(start) < c.pause; {
						}
					} else {
						time.Sleep(c.pause)
					}
					b.StartTimer()
				}
				if _, err := k.Decide(context.Background(), qs[i%len(qs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
