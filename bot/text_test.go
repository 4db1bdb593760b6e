package bot_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

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
