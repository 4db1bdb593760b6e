package kb

import "testing"

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
