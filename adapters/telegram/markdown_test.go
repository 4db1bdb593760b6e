package telegram

import (
	"strings"
	"testing"
)

func TestArticleMarkdownBecomesTelegramHTML(t *testing.T) {
	cases := []struct{ md, want string }{
		{"We refund within **5 working days**.", "We refund within <b>5 working days</b>."},
		{"- one\n* two\n1. three", "• one\n• two\n1. three"},
		{"See [our returns page](https://shop.example/returns?a=1&b=2).", `See <a href="https://shop.example/returns?a=1&amp;b=2">our returns page</a>.`},
		{"Hi \\[Verify\\]\\(https://evil.example\\)!", "Hi [Verify](https://evil.example)!"},
		{"[click](javascript:alert(1))", "[click](javascript:alert(1))"},
		{"a < b & c > d", "a &lt; b &amp; c &gt; d"},
		{"a lone ** stays", "a lone ** stays"},
		{"**bold [link](https://x.example) inside**", `<b>bold <a href="https://x.example">link</a> inside</b>`},
	}
	for _, c := range cases {
		if got := telegramHTML(c.md); got != c.want {
			t.Errorf("telegramHTML(%q)\n got %q\nwant %q", c.md, got, c.want)
		}
	}
}

func TestLongMessagesAreSplitNotCut(t *testing.T) {
	para := strings.Repeat("Our **lamps** ship in two days. ", 40) // about 1,300 characters
	md := strings.Join([]string{para, para, para, para, para}, "\n\n")
	parts := splitMarkdown(md, maxText)
	if len(parts) < 2 {
		t.Fatalf("%d characters went in %d part", len(md), len(parts))
	}
	var joined []string
	for i, p := range parts {
		if n := utf16Len(telegramHTML(p)); n > maxText {
			t.Errorf("part %d is %d long, over %d", i, n, maxText)
		}
		if strings.Count(telegramHTML(p), "<b>") != strings.Count(telegramHTML(p), "</b>") {
			t.Errorf("part %d has unbalanced tags", i)
		}
		joined = append(joined, p)
	}
	if got := strings.Join(strings.Fields(strings.Join(joined, " ")), " "); got != strings.Join(strings.Fields(md), " ") {
		t.Error("the parts do not add up to the message")
	}
	// One paragraph of one long word is cut anywhere, still under the limit.
	word := strings.Repeat("x", 3*maxText)
	for _, p := range splitMarkdown(word, maxText) {
		if utf16Len(p) > maxText {
			t.Errorf("a part of a long word is %d long", utf16Len(p))
		}
	}
}
