package bot_test

import (
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/internal/kbtest"
)

// TestABroadQuestionIsAskedAboutNotReadWithTheOneBefore: on the demo
// content, "payment" is clarified with the payment articles, and "my
// order" after it with the order articles. A short message that is not
// answered is otherwise read with the question before ("and to
// germany?"); "my order" read so was answered with the failed-payment
// article.
func TestABroadQuestionIsAskedAboutNotReadWithTheOneBefore(t *testing.T) {
	r := newRigWith(t, kbtest.Demo(t))
	s := r.start("v")
	for _, tc := range []struct{ text, prefix string }{
		{"payment", "article:payment-"},
		{"my order", "article:order-"},
	} {
		replies := r.say(s.Conversation.ID, tc.text)
		if len(replies) == 0 || replies[0].Decision == nil || replies[0].Decision.Kind != "clarify" {
			t.Fatalf("%q: replies %+v, want a clarification", tc.text, replies)
		}
		var offered []string
		for _, p := range payloads(replies[0]) {
			if strings.HasPrefix(p, "article:") {
				offered = append(offered, p)
			}
		}
		if len(offered) < 2 {
			t.Errorf("%q: offered %v, want two articles or more", tc.text, offered)
		}
		for _, p := range offered {
			if !strings.HasPrefix(p, tc.prefix) {
				t.Errorf("%q: offered %v, want only %s*", tc.text, offered, tc.prefix)
			}
		}
	}
}
