package bot_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/testclock"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// TestABroadQuestionIsAskedAboutNotReadWithTheOneBefore: on the demo
// content, "payment" is clarified with the payment articles, and "my
// order" after it with the order articles. A short message that is not
// answered is otherwise read with the question before ("and to
// germany?"); "my order" read so was answered with the failed-payment
// article.
func TestABroadQuestionIsAskedAboutNotReadWithTheOneBefore(t *testing.T) {
	c, err := kb.Load(os.DirFS("../content"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kb.Build(context.Background(), c, kb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	path := filepath.Join(t.TempDir(), "frontdesk.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &rig{t: t, db: db, path: path, clock: testclock.New(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)), queue: &recordingQueue{}}
	r.engine = bot.NewEngine(k, db, bot.NewBus(), bot.Options{Now: r.clock.Now, Handoff: r.queue})
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
