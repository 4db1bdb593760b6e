package bot_test

import (
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/kb"
)

// TestAHandOffPromisesNoTime: the bot's hand-off line says a person is
// coming, never when (the queue's notice says that, and may say nobody
// is online), whatever started it.
func TestAHandOffPromisesNoTime(t *testing.T) {
	for _, text := range []string{"I want to talk to a human", "this is useless", "WHERE IS MY PACKAGE I ORDERED WEEKS AGO"} {
		r := newRig(t, kb.Thresholds{})
		s := r.start("v")
		replies := r.say(s.Conversation.ID, text)
		if len(replies) == 0 || replies[0].Decision == nil || replies[0].Decision.Kind != "handoff" {
			t.Fatalf("%q: replies %s, want a hand-off", text, texts(replies))
		}
		got := strings.ToLower(replies[0].Text)
		for _, promise := range []string{"right away", "right now", "immediately", "in a moment"} {
			if strings.Contains(got, promise) {
				t.Errorf("%q: the hand-off says %q, which promises %q", text, replies[0].Text, promise)
			}
		}
	}
}
