package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/kb"
)

// askOutput is the JSON form of `frontdesk ask --json`. Decision is what
// the bot does with the question as a customer's first message: a
// dialogue rule's "handoff" or "smalltalk" (Rule names it), or the
// knowledge base's "answer", "clarify" or "no_answer". KBDecision is the
// knowledge base's decision either way.
type askOutput struct {
	Question   string        `json:"question"`
	Decision   string        `json:"decision"`
	Rule       bot.Rule      `json:"rule,omitempty"`
	RuleDetail string        `json:"rule_detail,omitempty"`
	KBDecision kb.Kind       `json:"kb_decision"`
	Article    *kb.Article   `json:"article,omitempty"`
	Candidates []kb.Hit      `json:"candidates,omitempty"`
	Hits       []kb.Hit      `json:"hits"`
	Thresholds kb.Thresholds `json:"thresholds"`
	Signals    *kb.Signals   `json:"signals,omitempty"`
}

// ruleEffect says what the bot does when a dialogue rule decides.
func ruleEffect(m bot.Match) string {
	switch m.Rule {
	case bot.RuleHuman:
		return "the bot hands the conversation to a person"
	case bot.RuleFrustration:
		return "the bot hands the conversation to a person, with high priority"
	case bot.RuleName:
		return "the bot notes the name and asks how it can help"
	case bot.RuleEmail:
		return "the bot notes the email address and asks how it can help"
	}
	switch m.Detail {
	case "greeting":
		return "the bot greets and asks how it can help"
	case "thanks":
		return "the bot says you're welcome"
	case "bye":
		return "the bot says goodbye"
	}
	return "the bot lists what it can help with"
}

// confidence prints v with two decimals, or with as many more as it takes
// to tell it apart from the thresholds it is compared with: 0.298 next
// to a threshold of 0.30 is "0.298", never "0.30".
func confidence(v float64, thresholds ...float64) string {
	for prec := 2; prec < 6; prec++ {
		s := strconv.FormatFloat(v, 'f', prec, 64)
		clash := false
		for _, t := range thresholds {
			if v != t && s == strconv.FormatFloat(t, 'f', prec, 64) {
				clash = true
			}
		}
		if !clash {
			return s
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func runAsk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ask", askUsage, stderr)
	var kf kbFlags
	kf.register(fs)
	asJSON := fs.Bool("json", false, "print the decision as one JSON object")
	phrases := fs.String("human-phrases", envDefault("human-phrases", strings.Join(bot.DefaultHumanPhrases, ",")), "comma-separated phrases that ask for a person, as serve's")
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
	// The bot's dialogue rules come first, as in its turns; the knowledge
	// base's decision is shown either way.
	rule := bot.MatchRule(q, splitList(*phrases), nil)
	d, err := k.Decide(ctx, q)
	if err != nil {
		return err
	}
	if *asJSON {
		out := askOutput{Question: q, Decision: d.Kind.String(), Rule: rule.Rule, RuleDetail: rule.Detail, KBDecision: d.Kind,
			Article: d.Article, Candidates: d.Candidates, Hits: d.Hits, Thresholds: k.Thresholds(), Signals: d.Signals}
		if rule.Rule != "" {
			out.Decision = string(rule.Kind())
		}
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
	if rule.Rule != "" {
		kind := "SMALL TALK"
		if rule.Kind() == bot.DecisionHandoff {
			kind = "HAND-OFF"
		}
		detail := ""
		if rule.Detail != "" {
			detail = ": " + termSafe(rule.Detail)
		}
		fmt.Fprintf(stdout, "Decision: %s (dialogue rule %q%s); %s.\nThe knowledge base is not asked; it would have said %s.\n",
			kind, rule.Rule, detail, ruleEffect(rule), strings.ToUpper(strings.ReplaceAll(d.Kind.String(), "_", " ")))
	} else {
		switch d.Kind {
		case kb.Answer:
			fmt.Fprintf(stdout, "Decision: ANSWER with %q (confidence %s >= answer threshold %s)\n", d.Article.ID, confidence(top, t.Answer), confidence(t.Answer))
		case kb.Clarify:
			if d.Broad() {
				fmt.Fprintf(stdout, "Decision: CLARIFY (a one-word question that %d articles' titles use: the classifier's pick, at confidence %s, is a guess); the bot asks \"did you mean...\" with:\n",
					len(d.Signals.Broad), confidence(top))
			} else {
				fmt.Fprintf(stdout, "Decision: CLARIFY (confidence %s is at least the clarify threshold %s and below the answer threshold %s); the bot asks \"did you mean...\" with:\n",
					confidence(top, t.Clarify, t.Answer), confidence(t.Clarify), confidence(t.Answer))
			}
			for _, h := range d.Candidates {
				fmt.Fprintf(stdout, "  - %s (%s)\n", h.Title, h.ID)
			}
		default:
			fmt.Fprintf(stdout, "Decision: NO ANSWER (confidence %s < clarify threshold %s); the bot asks to rephrase, names questions it often answers, and offers a person (at the second miss in a row it asks whether to bring one in)\n", confidence(top, t.Clarify), confidence(t.Clarify))
		}
		fmt.Fprintln(stdout, "(No dialogue rule applies: the knowledge base decides.)")
	}
	fmt.Fprintf(stdout, "\nTop hits:\n  %-4s %-10s %-8s %-28s %s\n", "#", "confidence", "bleve", "id", "title")
	for i, h := range d.Hits {
		fmt.Fprintf(stdout, "  %-4d %-10.3f %-8.2f %-28s %s\n", i+1, h.Confidence, h.Score, h.ID, h.Title)
	}
	printSignals(stdout, d.Signals)
	if rule.Rule == "" && d.Kind == kb.Answer {
		fmt.Fprintf(stdout, "\nAnswer (%s):\n%s\n", d.Article.File, d.Article.Body)
		if d.Article.Handoff {
			fmt.Fprintln(stdout, "\n(This article is marked handoff: after it, the bot hands the conversation to a person.)")
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
	if len(s.Filler) > 0 {
		fmt.Fprintf(w, "  set aside          %s  (greetings and framing no article uses)\n", strings.Join(s.Filler, ", "))
	}
	fmt.Fprintf(w, "  model probability  %.2f  (classifier and Bleve, before calibration)\n", s.Model)
	fmt.Fprintf(w, "  margin             %.2f  (over the second article)\n", s.Margin)
	fmt.Fprintf(w, "  out of scope       %.2f  (like the negatives)\n", s.OutOfScope)
	fmt.Fprintf(w, "  known words        %.2f", s.KnownWords)
	if len(s.Unknown) > 0 {
		fmt.Fprintf(w, "  (never in the content: %s)", strings.Join(s.Unknown, ", "))
		fmt.Fprintf(w, "\n  without them       %.2f  (model probability of the top article without those words)", s.WithoutUnknown)
		if s.RestsOnUnknown {
			fmt.Fprintf(w, "\n                           the article rests on those words: the confidence is capped at this")
		}
	}
	fmt.Fprintf(w, "\n  known weight       %.2f  (of the question's features, learnt by the classifier)\n", s.KnownWeight)
	fmt.Fprintf(w, "  nearest phrasing   %.2f  (similarity to the article's closest question)\n", s.Nearest)
	fmt.Fprintf(w, "  Bleve agrees       %-4s  (its score %.2f of its best)\n", yes[s.BleveAgrees], s.Bleve)
	if len(s.Broad) > 0 {
		fmt.Fprintf(w, "  broad              %d     (articles whose titles use the question's one word: %s)\n", len(s.Broad), strings.Join(s.Broad, ", "))
	}
}

const askUsage = `Usage: frontdesk ask [--json] [--content DIR] "question"

Shows how the bot decides on one question, as a customer's first message:
the dialogue rule that fires, else the knowledge base's decision, with
the top articles, the signals behind the top confidence and the answer.

Flags:
`
