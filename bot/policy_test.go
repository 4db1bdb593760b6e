package bot

import (
	"slices"
	"testing"
)

func TestSmalltalk(t *testing.T) {
	cases := map[string]string{
		"hi":                        "greeting",
		"Hello there!":              "greeting",
		"good morning":              "greeting",
		"thanks a lot":              "thanks",
		"ok thank you very much":    "thanks",
		"bye":                       "bye",
		"ok bye, have a nice day":   "bye",
		"help":                      "help",
		"helo":                      "greeting",
		"Hellooo!!":                 "greeting",
		"hiii there":                "greeting",
		"thnx":                      "thanks",
		"thanksss a lot":            "thanks",
		"byeee":                     "bye",
		"hell":                      "",
		"hi, where is my parcel":    "",
		"thanks but my lamp broke":  "",
		"":                          "",
		"how do i return something": "",
		// Announcing a question is asking how to ask one.
		"i have a question":                "help",
		"Hello, quick question":            "help",
		"can i ask you something?":         "help",
		"i have a question about my order": "",
	}
	for in, want := range cases {
		if got := smalltalk(in); got != want {
			t.Errorf("smalltalk(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWantsHuman(t *testing.T) {
	cases := map[string]bool{
		"I want to talk to a human":           true,
		"can I speak to someone please":       true,
		"AGENT PLEASE":                        true,
		"operator":                            true,
		"get me a real person":                true,
		"where is my parcel":                  false,
		"my personal data":                    false,
		"is the lamp good for human eyes too": true, // "human" is on the list: better a person too many than too few
	}
	for in, want := range cases {
		if got := wantsHuman(in, DefaultHumanPhrases); got != want {
			t.Errorf("wantsHuman(%q) = %v, want %v", in, got, want)
		}
	}
	if !wantsHuman("I need a wizard", []string{"wizard"}) {
		t.Error("configured phrase not honoured")
	}
}

func TestFrustrated(t *testing.T) {
	prev := []string{"where is my order"}
	cases := []struct {
		text string
		want string
	}{
		{"WHERE IS MY ORDER I PAID WEEKS AGO", "shouting"},
		{"this bot is useless", "insult"},
		{"you don't understand me", "insult"},
		{"where is my order???", "exclamation"},
		{"Where is my order", "repeated"},
		{"where is my invoice", ""},
		{"OK", ""},
		{"I need help with DHL", ""},
		// A word that describes a fault is not a complaint about us.
		{"there's an annoying humming sound coming from my floor lamp", ""},
		{"the bulb gives a terrible flicker", ""},
		{"sorry for the stupid question, do you ship to Spain", ""},
		// Said of us, or on its own, it is.
		{"this is annoying", "insult"},
		{"this is useless, I want my money back", "insult"},
		{"terrible service", "insult"},
		{"worst customer service ever", "insult"},
		{"what a stupid bot", "insult"},
		{"so annoying", "insult"},
	}
	for _, tc := range cases {
		if got := frustrated(tc.text, prev); got != tc.want {
			t.Errorf("frustrated(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestIntroducedName(t *testing.T) {
	cases := map[string]string{
		"my name is ana":         "Ana",
		"Hi, I'm Jürgen":         "Jürgen",
		"call me Bob.":           "Bob",
		"I'm looking for a lamp": "",
		"I'm fine":               "",
		"my name is on the order but it is wrong": "",
	}
	for in, want := range cases {
		if got := introducedName(in); got != want {
			t.Errorf("introducedName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWeak(t *testing.T) {
	for in, want := range map[string]bool{"and abroad?": true, "what about express": true, "how long does delivery take": false, "": false} {
		if got := weak(in); got != want {
			t.Errorf("weak(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestMatchRuleAppliesTheRulesInTheBotsOrder(t *testing.T) {
	for _, tc := range []struct {
		text string
		prev []string
		want Match
		kind DecisionKind
	}{
		{"hi", nil, Match{RuleSmalltalk, "greeting"}, DecisionSmalltalk},
		{"hi, I want to talk to a human", nil, Match{RuleHuman, ""}, DecisionHandoff},
		{"this is useless", nil, Match{RuleFrustration, "insult"}, DecisionHandoff},
		{"where is my parcel", []string{"where is my parcel"}, Match{RuleFrustration, "repeated"}, DecisionHandoff},
		{"I'm Ana", nil, Match{RuleName, "Ana"}, DecisionSmalltalk},
		{"my email is ana@example.com", nil, Match{RuleEmail, "ana@example.com"}, DecisionSmalltalk},
		{"where is my parcel", nil, Match{}, ""},
	} {
		got := MatchRule(tc.text, DefaultHumanPhrases, tc.prev)
		if got != tc.want || got.Kind() != tc.kind {
			t.Errorf("MatchRule(%q, %q) = %+v (%q), want %+v (%q)", tc.text, tc.prev, got, got.Kind(), tc.want, tc.kind)
		}
	}
}

func TestAppendWordsSplitsAsWords(t *testing.T) {
	for _, s := range append(DefaultHumanPhrases,
		"", "?!", "Talk To A PERSON!!", "I'm fed up", "don't", "ÀÉÎ straße", "bad \xff utf8", "a'b-c d") {
		got := appendWords([]string{"x"}, s)
		want := append([]string{"x"}, words(s)...)
		if !slices.Equal(got, want) {
			t.Errorf("appendWords(%q) = %q, want %q", s, got, want)
		}
	}
	ws := words("could I talk to a person please")
	if allocs := testing.AllocsPerRun(100, func() { containsPhrase(ws, "talk to a person") }); allocs != 0 {
		t.Errorf("containsPhrase allocates %v times, want 0", allocs)
	}
	if !containsPhrase(ws, "Talk to a Person") || containsPhrase(ws, "talk to someone") {
		t.Error("containsPhrase finds the wrong phrases")
	}
}
