package bot

import (
	"slices"
	"testing"
)

func TestGround(t *testing.T) {
	given := []Source{{ID: "return-item", Body: "Print the label at [our portal](https://shop.example/returns)."}, {ID: "refund-timing"}}
	for _, tc := range []struct {
		name, raw, text, verdict string
		cited                    []string
	}{
		{"cites one", "Within 30 days [[return-item]].", "Within 30 days.", verdictGrounded, []string{"return-item"}},
		{"cites two, one twice", "A [[return-item]]. B [[refund-timing]], C [[return-item]].", "A. B, C.", verdictGrounded, []string{"return-item", "refund-timing"}},
		{"spaces inside the marker", "A [[ return-item ]]!", "A!", verdictGrounded, []string{"return-item"}},
		{"keeps lines", "- one [[return-item]]\n- two", "- one\n- two", verdictGrounded, []string{"return-item"}},
		{"an unknown id", "A [[return-item]] B [[vip]]", "", verdictUnknown, nil},
		{"no citation", "A.", "", verdictUncited, nil},
		{"single brackets are no citation", "A [return-item].", "", verdictUncited, nil},
		{"empty", " \n ", "", verdictEmpty, nil},
		{"markers only", "[[return-item]]", "", verdictEmpty, nil},
		{"a link from an article", "Use [the portal](https://shop.example/returns) [[return-item]].", "Use [the portal](https://shop.example/returns).", verdictGrounded, []string{"return-item"}},
		{"a link of its own", "Use [the portal](https://evil.example/returns) [[return-item]].", "", verdictLink, nil},
		{"a bare address of its own", "Go to https://evil.example. [[return-item]]", "", verdictLink, nil},
		{"a mail address link of its own", "Write to [us](mailto:x@evil.example) [[return-item]]", "", verdictLink, nil},
		{"not covered", "NOT_COVERED", "", verdictNotCovered, nil},
		{"not covered with words", "Sorry: NOT_COVERED.", "", verdictNotCovered, nil},
		{"not covered with a citation", "NOT_COVERED [[return-item]]", "", verdictNotCovered, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, cited, verdict := ground(tc.raw, given)
			if text != tc.text || verdict != tc.verdict || !slices.Equal(cited, tc.cited) {
				t.Errorf("ground(%q) = %q, %v, %s; want %q, %v, %s", tc.raw, text, cited, verdict, tc.text, tc.cited, tc.verdict)
			}
		})
	}
}

func TestDraftText(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"You can", "You can"},
		{"Within 30 days [[return-item]]. Print", "Within 30 days. Print"},
		{"Within 30 days [[return-", "Within 30 days"},
		{"Within 30 days [", "Within 30 days"},
		{"NOT_", ""},
		{"NOT_COVERED", ""},
		{"Not", ""}, // could still become NOT_COVERED
		{"Nothing", "Nothing"},
	} {
		if got := draftText(tc.raw); got != tc.want {
			t.Errorf("draftText(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}
