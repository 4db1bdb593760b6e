package bot_test

import (
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/kb"
)

func TestNotUnderstoodNamesMostAskedTopicsAndOffersAPerson(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	s := r.start("v1")
	r.say(s.Conversation.ID, "how long does delivery take")
	s2 := r.start("v2")
	r.say(s2.Conversation.ID, "how long does delivery take")
	r.say(s2.Conversation.ID, "how do I return a lamp")

	s3 := r.start("v3")
	replies := r.say(s3.Conversation.ID, "what is the capital of france")
	if len(replies) != 1 {
		t.Fatalf("replies %+v, want one", replies)
	}
	m := replies[0]
	if m.Decision == nil || m.Decision.Kind != bot.DecisionNoAnswer {
		t.Fatalf("reply %q decision %+v, want no_answer", m.Text, m.Decision)
	}
	if !strings.Contains(m.Text, "questions like these") || !strings.Contains(m.Text, "person") {
		t.Errorf("text %q, want it to name topics and offer a person", m.Text)
	}
	p := payloads(m)
	want := []string{"article:delivery-times", "article:return-item"}
	if len(p) != 4 || p[0] != want[0] || p[1] != want[1] || !strings.HasPrefix(p[2], "article:") || p[3] != bot.PayloadHuman {
		t.Errorf("quick replies %v, want %v, one more article, then %s", p, want, bot.PayloadHuman)
	}

	// The counts come back from the store after a restart.
	e2 := bot.NewEngine(shopKB(t, kb.Thresholds{}), r.db, bot.NewBus(), bot.Options{Now: r.clock.Now})
	r.engine = e2
	s4 := r.start("v4")
	replies = r.say(s4.Conversation.ID, "who won the football match")
	if p := payloads(replies[len(replies)-1]); len(p) == 0 || p[0] != "article:delivery-times" {
		t.Errorf("after a restart the quick replies are %v, want %s first", p, want[0])
	}
}

func TestPopularRanksCountsThenTheArticlesOthersLinkTo(t *testing.T) {
	arts := []kb.Article{
		{ID: "about", Related: []string{"track"}},
		{ID: "close", Handoff: true},
		{ID: "returns", Related: []string{"track", "label"}},
		{ID: "returns-vip", VariantOf: "returns"},
		{ID: "label", Related: []string{"track"}},
		{ID: "track"},
	}
	ids := func(as []kb.Article) string {
		var s []string
		for _, a := range as {
			s = append(s, a.ID)
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		name   string
		counts map[string]int
		want   string
	}{
		{"before anything is counted the most linked come first", nil, "track label about"},
		{"what customers asked about comes first", map[string]int{"returns": 2, "about": 1}, "returns about track"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(bot.Popular(arts, tc.counts, 3)); got != tc.want {
				t.Errorf("Popular = %s, want %s", got, tc.want)
			}
		})
	}
}
