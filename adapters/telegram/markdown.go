package telegram

import (
	"strings"
	"unicode/utf8"
)

// telegramHTML renders Frontdesk's Markdown subset (the one
// content/markdown.js shows in the widget: paragraphs, line breaks,
// **bold**, "- "/"* " and "1. " lists, [label](url) links to http:,
// https: and mailto:, and backslash escapes) as the HTML that Telegram's
// parse_mode "HTML" accepts. Everything else is escaped text, so the
// result is always well-formed: a ** without its pair stays literal.
func telegramHTML(md string) string {
	var b strings.Builder
	lines := strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n")
	for i, line := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case len(line)-len(trimmed) <= 3 && (strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "* ")):
			b.WriteString("• ")
			inlineHTML(&b, strings.TrimLeft(trimmed[2:], " \t"), true)
		default:
			inlineHTML(&b, line, true)
		}
	}
	return b.String()
}

// inlineHTML writes one line's inline Markdown as Telegram HTML.
func inlineHTML(b *strings.Builder, s string, links bool) {
	for i := 0; i < len(s); {
		switch {
		case s[i] == '\\' && i+1 < len(s) && isASCIIPunct(s[i+1]):
			b.WriteString(escapeHTML(s[i+1 : i+2]))
			i += 2
			continue
		case strings.HasPrefix(s[i:], "**"):
			if end := strings.Index(s[i+2:], "**"); end > 0 {
				b.WriteString("<b>")
				inlineHTML(b, s[i+2:i+2+end], links)
				b.WriteString("</b>")
				i += 2 + end + 2
				continue
			}
		case links && s[i] == '[':
			if label, url, n, ok := mdLink(s[i:]); ok {
				b.WriteString(`<a href="` + strings.ReplaceAll(escapeHTML(url), `"`, "&quot;") + `">`)
				inlineHTML(b, label, false)
				b.WriteString("</a>")
				i += n
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(escapeHTML(s[i : i+size]))
		i += size
	}
}

// mdLink parses "[label](url)" at the start of s, for http:, https: and
// mailto: URLs only, and returns how many bytes it took.
func mdLink(s string) (label, url string, n int, ok bool) {
	close := strings.Index(s, "](")
	if close < 1 {
		return "", "", 0, false
	}
	end := strings.IndexByte(s[close+2:], ')')
	if end < 0 {
		return "", "", 0, false
	}
	label, url = s[1:close], s[close+2:close+2+end]
	lower := strings.ToLower(url)
	if strings.ContainsAny(url, " \t<>\"") || strings.Contains(label, "[") ||
		!(strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "mailto:")) {
		return "", "", 0, false
	}
	return label, url, close + 2 + end + 1, true
}

// escapeHTML escapes what Telegram's HTML needs escaped: &, < and >.
var escapeHTML = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

func isASCIIPunct(c byte) bool {
	return strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) >= 0
}

// splitMarkdown cuts md into parts whose Telegram HTML is at most limit
// characters: at paragraph breaks if it can, else at line breaks, else
// between words, else anywhere. Each part renders on its own, so no tag
// spans two messages.
func splitMarkdown(md string, limit int) []string {
	if utf16Len(telegramHTML(md)) <= limit {
		return []string{md}
	}
	runes := []rune(md)
	half := len(runes) / 2
	cut := -1
	for _, sep := range []string{"\n\n", "\n", " "} {
		// The separator nearest the middle keeps both halves small.
		before := strings.LastIndex(string(runes[:half]), sep)
		after := strings.Index(string(runes[half:]), sep)
		switch {
		case before > 0:
			cut = utf8.RuneCountInString(string(runes[:half])[:before]) + utf8.RuneCountInString(sep)
		case after >= 0:
			cut = half + utf8.RuneCountInString(string(runes[half:])[:after]) + utf8.RuneCountInString(sep)
		}
		if cut > 0 && cut < len(runes) {
			break
		}
		cut = -1
	}
	if cut <= 0 {
		cut = max(half, 1)
	}
	first, rest := strings.TrimRight(string(runes[:cut]), " \n"), strings.TrimLeft(string(runes[cut:]), " \n")
	var out []string
	if first != "" {
		out = append(out, splitMarkdown(first, limit)...)
	}
	if rest != "" {
		out = append(out, splitMarkdown(rest, limit)...)
	}
	return out
}

// utf16Len is the length of s in UTF-16 code units, as Telegram counts.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}
