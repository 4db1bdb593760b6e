package kb

import (
	"context"
	"fmt"
	"slices"
)

// Kind is what the bot does with a question.
type Kind int

// The decisions, from most to least sure.
const (
	// NoAnswer: nothing in the knowledge base fits; fall back (rephrase,
	// offer a person).
	NoAnswer Kind = iota
	// Clarify: a few articles might fit; ask "did you mean ...".
	Clarify
	// Answer: one article fits; say it.
	Answer
)

func (k Kind) String() string {
	switch k {
	case Answer:
		return "answer"
	case Clarify:
		return "clarify"
	default:
		return "no_answer"
	}
}

// MarshalText writes the kind as "answer", "clarify" or "no_answer".
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Thresholds are the two confidence levels of the decision ladder: the
// bot answers at Answer or above, offers candidates at Clarify or above,
// and falls back below.
type Thresholds struct {
	Answer  float64 `json:"answer" yaml:"answer"`
	Clarify float64 `json:"clarify" yaml:"clarify"`
}

// DefaultThresholds were chosen on the CLINC150 validation split and a
// validation split carved from BANKING77's training set; the README
// ("How the knowledge base decides") shows how.
var DefaultThresholds = Thresholds{Answer: 0.25, Clarify: 0.1}

// Validate reports thresholds that cannot form a ladder. An answer
// threshold of 0 is refused too: it would answer every question, even
// one the content has nothing for, and the zero Thresholds stand for
// DefaultThresholds in Options, so 0 and 0 would silently be the
// defaults.
func (t Thresholds) Validate() error {
	if t.Answer < 0 || t.Answer > 1 || t.Clarify < 0 || t.Clarify > 1 {
		return fmt.Errorf("thresholds must lie in [0, 1], got answer=%g clarify=%g", t.Answer, t.Clarify)
	}
	if t.Answer == 0 {
		return fmt.Errorf("an answer threshold of 0 would answer every question, even off-topic ones; the lowest is above 0 (0.01 answers nearly all)")
	}
	if t.Clarify > t.Answer {
		return fmt.Errorf("clarify threshold %g is above the answer threshold %g", t.Clarify, t.Answer)
	}
	return nil
}

// Decision is what the bot should do with a question, and why.
type Decision struct {
	Kind Kind `json:"decision"`
	// Article is the answer when Kind is Answer.
	Article *Article `json:"-"`
	// Candidates are the articles to offer when Kind is Clarify.
	Candidates []Hit `json:"candidates,omitempty"`
	// Hits are all the hits Search returned, for display and logging.
	Hits []Hit `json:"hits"`
	// Signals are the evidence behind the top hit's confidence (nil when
	// there are no hits).
	Signals *Signals `json:"signals,omitempty"`
}

// Broad says whether d clarifies a broad question: one word that several
// articles' titles use ("payment", "my order"; Signals.Broad).
func (d Decision) Broad() bool {
	return d.Kind == Clarify && d.Signals != nil && len(d.Signals.Broad) > 0
}

// maxCandidates is how many articles a Clarify offers at most.
const maxCandidates = 3

// Decide searches for q and applies the decision ladder with the KB's
// thresholds. The bot and `frontdesk eval` both decide through here.
func (k *KB) Decide(ctx context.Context, q string) (Decision, error) {
	hits, s, err := k.search(ctx, q)
	if err != nil {
		return Decision{}, err
	}
	d := decide(hits, k.thresholds, s)
	d.Signals = s
	return d, nil
}

// decide applies thresholds t to hits (best first); s are the signals
// behind the top hit (nil when unknown).
func decide(hits []Hit, t Thresholds, s *Signals) Decision {
	d := Decision{Kind: NoAnswer, Hits: hits}
	if len(hits) == 0 {
		return d
	}
	top := hits[0]
	if s != nil && len(s.Broad) > 0 && top.Confidence >= t.Clarify {
		// A broad question: offer the articles that use its word, the
		// likeliest first.
		for _, h := range hits {
			if len(d.Candidates) < maxCandidates && slices.Contains(s.Broad, h.ID) {
				d.Candidates = append(d.Candidates, h)
			}
		}
		if len(d.Candidates) >= 2 {
			d.Kind = Clarify
			return d
		}
		d.Candidates = nil
	}
	switch {
	case top.Confidence >= t.Answer:
		d.Kind = Answer
		d.Article = top.Article
	case top.Confidence >= t.Clarify:
		d.Kind = Clarify
		// Offer the candidates that are at least a third as likely as the
		// best one: more would bury it.
		for _, h := range hits {
			if len(d.Candidates) == maxCandidates || h.Confidence < top.Confidence/3 {
				break
			}
			d.Candidates = append(d.Candidates, h)
		}
	}
	return d
}
