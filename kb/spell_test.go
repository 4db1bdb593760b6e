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
