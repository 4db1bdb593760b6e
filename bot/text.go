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

// markdownSpecial are the characters EscapeMarkdown escapes: every one
// that starts or ends Markdown syntax (emphasis, code, links, images,
// headings, lists, HTML, tables, strike-through), and the backslash.
const markdownSpecial = "\\`*_[]()#+-!<>|~"

// EscapeMarkdown returns s such that, put into the Markdown text of a bot
// message, it shows as exactly s: a backslash before every Markdown
// special character, and line breaks turned into spaces so that s cannot
// start a heading, a list item or a paragraph of its own. Every value a
// customer controls (a name, an email address) goes through it before it
// enters a bot message; otherwise a name such as
// "[Verify your account](https://evil.example)" would become a link in
// the bot's own words.
func EscapeMarkdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			// one break, one space
		case c == '\r' || c == '\n':
			b.WriteByte(' ')
		case strings.IndexByte(markdownSpecial, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// UnescapeMarkdown removes the backslashes of Markdown escapes (a
// backslash before an ASCII punctuation character) from s: what a channel
// that shows bot text without rendering Markdown (Telegram) sends, so
// that an escaped name reads as the customer wrote it.
func UnescapeMarkdown(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && isASCIIPunct(s[i+1]) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isASCIIPunct reports whether c is one of the ASCII punctuation
// characters a Markdown backslash may escape.
func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}
