package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestAskShowsTheSignalsBehindTheConfidence(t *testing.T) {
	q := "how do i fix my car engine"
	var r struct {
		Decision string `json:"decision"`
		Signals  *struct {
			Model      float64  `json:"model"`
			KnownWords float64  `json:"known_words"`
			Unknown    []string `json:"unknown_words"`
		} `json:"signals"`
		Hits []struct {
			Confidence float64 `json:"confidence"`
		} `json:"hits"`
	}
	out := askJSON(t, q, &r)
	if r.Decision == "answer" {
		t.Errorf("%q answered: %s", q, out)
	}
	if r.Signals == nil || !slices.Contains(r.Signals.Unknown, "engine") || r.Signals.KnownWords >= 1 {
		t.Fatalf("signals should name the unknown words: %s", out)
	}
	if len(r.Hits) == 0 || r.Hits[0].Confidence >= r.Signals.Model {
		t.Errorf("unknown words should lower the confidence below the model's probability: %s", out)
	}
	text, _, err := runCmd(t, "ask", q)
	if err != nil || !strings.Contains(text, "Signals behind the top confidence") || !strings.Contains(text, "never in the content: car, engine") {
		t.Errorf("human output without the signals: %v\n%s", err, text)
	}
}

func TestAskSaysWhenTheTopArticleRestsOnUnknownWords(t *testing.T) {
	// "charger" is not in the demo content; its character n-grams match
	// "charge" in the VAT article, which has no support without it.
	q := "i need a new charger for my device"
	var r struct {
		Decision string `json:"decision"`
		Signals  *struct {
			WithoutUnknown float64  `json:"without_unknown"`
			RestsOnUnknown bool     `json:"rests_on_unknown"`
			Unknown        []string `json:"unknown_words"`
		} `json:"signals"`
	}
	out := askJSON(t, q, &r)
	if r.Decision == "answer" || r.Signals == nil || !r.Signals.RestsOnUnknown || !slices.Equal(r.Signals.Unknown, []string{"charger"}) {
		t.Errorf("%q: %s", q, out)
	}
	text, _, err := runCmd(t, "ask", q)
	if err != nil || !strings.Contains(text, "rests on those words") {
		t.Errorf("human output should say the article rests on the unknown words: %v\n%s", err, text)
	}
}

// An answer threshold of 0, given on purpose, is refused with a reason:
// the zero thresholds stand for the defaults inside the knowledge base,
// so 0 and 0 would otherwise be 0.25 and 0.10 without a word.
func TestAnAnswerThresholdOfZeroIsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"ask", "--answer-threshold", "0", "--clarify-threshold", "0", "hi"},
		{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--answer-threshold", "0", "--clarify-threshold", "0"},
	} {
		_, _, err := runCmd(t, args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "answer threshold of 0") {
			t.Errorf("%v: got %v, want a usage error about the answer threshold of 0", args, err)
		}
	}
	if _, _, err := runCmd(t, "ask", "--answer-threshold", "0.01", "--clarify-threshold", "0", "hi"); err != nil {
		t.Errorf("answer 0.01, clarify 0: %v", err)
	}
}
