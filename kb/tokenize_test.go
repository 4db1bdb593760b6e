package kb

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

// tokenizeByWord is the plain form of tokenize: a string per word, built
// rune by rune.
func tokenizeByWord(s string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
		default:
			flush()
		}
	}
	flush()
	return words
}

func TestTokenizeSplitsAsWordByWord(t *testing.T) {
	long := strings.Repeat("Parcel's ÉTAT-42 ", 40)
	for _, s := range []string{
		"", " ", "?!", "Where's my PARCEL?", "don't ’quote’ 'me'", "a'b c", "'", "x",
		"ÀÉÎ õü straße İstanbul Ⱥ", "日本語 テキスト", "tab\tnew\nline", "e-mail: ana@example.com",
		"bad \xff utf8\xfe", "3.5 kg, 10,000 €", long, strings.Repeat("w ", 100),
	} {
		if got, want := tokenize(s), tokenizeByWord(s); !slices.Equal(got, want) {
			t.Errorf("tokenize(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	f.Add("Where's my PARCEL? ÀÉÎ 42")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := tokenize(s), tokenizeByWord(s); !slices.Equal(got, want) {
			t.Errorf("tokenize(%q) = %q, want %q", s, got, want)
		}
	})
}
