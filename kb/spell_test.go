package kb

import (
	"context"
	"testing"
)

func TestSpellerCorrectsOneEdit(t *testing.T) {
	s := newSpeller(map[string]int{"refund": 3, "delivery": 5, "package": 2, "password": 1, "the": 9, "parcel": 1, "cancel": 4})
	cases := map[string]string{
		"refnd":     "refund",   // deletion
		"delivry":   "delivery", // deletion
		"deliverry": "delivery", // insertion
		"pakage":    "package",
		"passwrod":  "password", // swap
		"refund":    "refund",   // known
		"cancle":    "cancel",   // swap
		"teh":       "",         // too short to correct
		"banana":    "",         // nothing close
		"rfnd":      "",         // two edits
	}
	for in, want := range cases {
		if got := s.correct(in); got != want {
			t.Errorf("correct(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSpellerOffersTheCloseWordsThatKeepTheFirstLetter(t *testing.T) {
	s := newSpeller(map[string]int{"money": 2, "many": 5, "only": 9, "monday": 1})
	got := s.candidates("mony")
	if len(got) != 2 || got[0] != "many" || got[1] != "money" {
		t.Errorf("candidates(mony) = %q, want [many money]: same first letter, then frequency", got)
	}
	if got := s.candidates("ony"); len(got) != 0 {
		t.Errorf("candidates(ony) = %q: too short", got)
	}
	// Without a candidate that keeps the first letter, the most frequent.
	s = newSpeller(map[string]int{"order": 3, "older": 1})
	if got := s.candidates("prder"); len(got) != 1 || got[0] != "order" {
		t.Errorf("candidates(prder) = %q, want [order]", got)
	}
}

func TestSpellerPlacesAThreeLetterWordOnlyWithALetterMissingInside(t *testing.T) {
	s := newSpeller(map[string]int{"gift": 2, "fees": 3, "card": 4, "care": 1, "cart": 2, "free": 5, "sold": 1, "the": 9})
	cases := map[string]string{
		"gft":  "gift", // a letter missing inside
		"fes":  "fees", // the same, not "free" (two edits)
		"sld":  "sold",
		"car":  "", // card, care, cart: a letter added at the end makes another word
		"the":  "", // known
		"ees":  "", // fees: the first letter missing
		"gfit": "", // four letters: the speller's own business
	}
	for in, want := range cases {
		if got := s.shortTypo(in); got != want {
			t.Errorf("shortTypo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStopWordSlips(t *testing.T) {
	cases := map[string]string{
		"hwo":    "how", // two letters swapped
		"teh":    "the",
		"whhat":  "what",  // a letter typed twice
		"wher":   "where", // a letter left out
		"shoud":  "should",
		"becuse": "because",
		"how":    "", // a stop word itself
		"hot":    "", // "not" with a letter changed: a word of its own
		"theme":  "", // "them" with a letter added
		"dogs":   "", // "does" with a letter changed
		"hat":    "", // "that" less a letter, but too short to tell
		"lamp":   "",
	}
	for in, want := range cases {
		if got := stopWordSlip(in); got != want {
			t.Errorf("stopWordSlip(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCorrectReplacesSlipsWhereTheyStand checks the two forms of a
// corrected question on the demo content: Bleve's keeps every word and
// adds the corrections, the classifier's has each slip replaced in place
// and keeps words that are more likely words of their own.
func TestCorrectReplacesSlipsWhereTheyStand(t *testing.T) {
	k := buildShop(t, demo(t))
	cases := []struct{ q, search, model string }{
		// A stop word slip, a swap, a doubled last letter.
		{"hwo do i retrun a lampp", "hwo do i retrun a lampp return lamp lamps", "how do i return a lamp"},
		// A letter missing inside a three-letter word.
		{"do you sell gft cards", "do you sell gft cards gift", "do you sell gift cards"},
		// English words stay: "info" is no slip of "into", "border" none
		// of "order", "charger" none of "charge".
		{"what info do you keep", "what info do you keep into", "what info do you keep into"},
		{"extra fees at the border", "extra fees at the border order", "extra fees at the border order"},
		{"a new charger", "a new charger charge charged charges", "a new charger charge charged charges"},
		// Chat shorthand reads as the words it stands for.
		{"wat payment do u take", "wat payment do u take what you", "what payment do you take"},
	}
	for _, tc := range cases {
		sp := k.correct(tc.q)
		if sp.search != tc.search || sp.model != tc.model {
			t.Errorf("correct(%q):\n search %q, want %q\n model  %q, want %q", tc.q, sp.search, tc.search, sp.model, tc.model)
		}
	}
}

// TestDecideAnswersQuestionsWithSeveralSlips: questions with two or three
// slips each on the demo content. While the classifier read the slips
// and their corrections side by side, the first was declined and the
// second only clarified.
func TestDecideAnswersQuestionsWithSeveralSlips(t *testing.T) {
	k := buildShop(t, demo(t))
	for _, tc := range []struct{ q, want string }{
		{"wher is my orderr", "order-track"},
		{"hwo do i retrun a lampp", "return-how"},
		{"do you sell gft vouchers", "gift-cards"},
		// Chat shorthand: clarified before ("acct" an unknown word).
		{"wat payment do u take", "payment-methods"},
		{"i cant get into my acct", "login-problems"},
	} {
		d, err := k.Decide(context.Background(), tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind != Answer || d.Article.ID != tc.want {
			t.Errorf("%q: decided %v %+v, want an answer with %s", tc.q, d.Kind, d.Hits, tc.want)
		}
	}
}
