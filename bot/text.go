package bot

import (
	"strings"
	"unicode"
)

// cleanText is the text of a message as the bot keeps it: trimmed of
// white space, and "" when nothing visible is left. Text made only of
// invisible characters (zero-width spaces and joiners, word joiners, byte
// order marks, bidirectional and other format controls, variation
// selectors, Hangul fillers) counts as empty, so that no channel stores
// a message nobody can see. Invisible characters among visible ones are
// kept: a zero-width joiner inside an emoji sequence is part of it.
func cleanText(s string) string {
	s = strings.TrimSpace(s)
	if strings.IndexFunc(s, visible) < 0 {
		return ""
	}
	return s
}

// visible reports whether r shows as something: it is neither white
// space nor a default-ignorable code point (format characters,
// variation selectors and the other code points Unicode says to render
// as nothing). The prepended concatenation marks, format characters that
// do show (the Arabic number sign), count as visible.
func visible(r rune) bool {
	switch {
	case unicode.IsSpace(r):
		return false
	case unicode.Is(unicode.Prepended_Concatenation_Mark, r):
		return true
	case unicode.Is(unicode.Cf, r),
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r),
		unicode.Is(unicode.Variation_Selector, r):
		return false
	}
	return true
}
