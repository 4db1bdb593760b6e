package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/kb"
)

func TestInvisibleMessagesAreEmpty(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("v")
	ctx := context.Background()
	invisible := map[string]string{
		"zero-width space":         "\u200b",
		"zero-width non-joiner":    "\u200c\u200c",
		"zero-width joiner":        "\u200d",
		"word joiner":              "\u2060",
		"byte order mark":          "\ufeff",
		"a mix with white space":   " \u200b\t\u200d\n\ufeff ",
		"bidirectional controls":   "\u202e\u2066\u2069\u200f",
		"soft hyphen":              "\u00ad",
		"a variation selector":     "\ufe0f",
		"a hangul filler":          "\u3164",
		"invisible math operators": "\u2061\u2062\u2063\u2064",
		"tag characters":           "\U000e0041\U000e007f",
	}
	for name, text := range invisible {
		t.Run("a customer message of "+name+" is refused as empty", func(t *testing.T) {
			before := r.conv(s.Conversation.ID).LastSeq
			if _, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: text}); !errors.Is(err, bot.ErrEmpty) {
				t.Errorf("Handle(%q) = %v, want ErrEmpty", text, err)
			}
			if after := r.conv(s.Conversation.ID).LastSeq; after != before {
				t.Errorf("%d messages stored", after-before)
			}
		})
		t.Run("an agent's note of "+name+" is refused as empty", func(t *testing.T) {
			if _, err := r.engine.AgentSay(ctx, s.Conversation.ID, "agt_1", text, true); !errors.Is(err, bot.ErrEmpty) {
				t.Errorf("AgentSay(%q) = %v, want ErrEmpty", text, err)
			}
		})
	}
	t.Run("a quick reply with invisible text still counts", func(t *testing.T) {
		if _, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: "\u200b", Payload: bot.PayloadKeepTrying}); err != nil {
			t.Errorf("Handle: %v", err)
		}
	})
	for _, text := range []string{"👩\u200d💻", "❤\ufe0f", "\u200bhello", "\u0600"} {
		t.Run(fmt.Sprintf("visible text with format characters (%q) is kept as sent", text), func(t *testing.T) {
			m, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != text {
				t.Errorf("stored %q, want %q", m.Text, text)
			}
		})
	}
}

func TestCustomerValuesAreEscapedInBotMessages(t *testing.T) {
	const evil = "[Verify your account](https://evil.example/phish)"
	const escaped = `\[Verify your account\]\(https://evil.example/phish\)`
	r := newRig(t, kb.Thresholds{})
	ctx := context.Background()
	s, err := r.engine.Start(ctx, bot.Identity{Channel: bot.Web, ID: "v"}, bot.Profile{Name: evil})
	if err != nil {
		t.Fatal(err)
	}
	conv := s.Conversation.ID
	greeting, err := r.db.Messages(ctx, conv, 0)
	if err != nil || len(greeting) != 1 {
		t.Fatalf("greeting %+v, %v", greeting, err)
	}
	says := func(what string, ms []bot.Message, want string) {
		t.Helper()
		var texts []string
		for _, m := range ms {
			if m.From != bot.FromBot {
				continue
			}
			texts = append(texts, m.Text)
			if strings.Contains(m.Text, want) {
				if strings.Contains(m.Text, evil) {
					t.Errorf("%s: the name went in unescaped: %q", what, m.Text)
				}
				return
			}
		}
		t.Errorf("%s: bot said %q, want it to contain %q", what, texts, want)
	}
	says("greeting", greeting, "Hi "+escaped+"!")
	says("hello", r.say(conv, "hello"), "Hi "+escaped+"!")
	says("bye", r.say(conv, "bye"), "Goodbye "+escaped+",")
	r.clock.Add(time.Hour)
	s2 := r.start("v")
	back, _ := r.db.Messages(ctx, s2.Conversation.ID, s2.Conversation.LastSeq-1)
	says("welcome back", back, "Welcome back, "+escaped+"!")
	says("a name told in the chat", r.say(conv, "my name is Jean-Luc"), `Nice to meet you, Jean\-Luc!`)
	says("an email address", r.say(conv, "my email is ana_b+shop@example.com"), `your email address, ana\_b\+shop@example.com.`)
	if c, err := r.db.Customer(ctx, s.Customer.ID); err != nil || c.Email != "ana_b+shop@example.com" || c.Name != "Jean-Luc" {
		t.Errorf("profile %+v (%v): stored values must stay as given", c, err)
	}
}

func TestEscapeMarkdown(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Ana", "Ana"},
		{"Jean-Luc O'Neil", `Jean\-Luc O'Neil`},
		{"**bold** _it_ `code`", `\*\*bold\*\* \_it\_ \` + "`" + `code\` + "`"},
		{"![img](x) <b> #h +1 a|b ~s~", `\!\[img\]\(x\) \<b\> \#h \+1 a\|b \~s\~`},
		{`back\slash`, `back\\slash`},
		{"two\nlines\r\nand\rthree", "two lines and three"},
		{"Zoë 李", "Zoë 李"},
	}
	for _, tc := range cases {
		if got := bot.EscapeMarkdown(tc.in); got != tc.want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", tc.in, got, tc.want)
		}
		want := strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(tc.in)
		if got := bot.UnescapeMarkdown(bot.EscapeMarkdown(tc.in)); got != want {
			t.Errorf("UnescapeMarkdown(EscapeMarkdown(%q)) = %q, want %q", tc.in, got, want)
		}
	}
	if got := bot.UnescapeMarkdown(`C:\dir a\b \*x\* end\`); got != `C:\dir a\b *x* end\` {
		t.Errorf("UnescapeMarkdown removed more than the escapes: %q", got)
	}
}

func ExampleEscapeMarkdown() {
	name := "[Verify your account](https://evil.example)"
	fmt.Printf("Hi %s!\n", bot.EscapeMarkdown(name))
	// Output: Hi \[Verify your account\]\(https://evil.example\)!
}
