package console_test

import (
	"net/http"
	"testing"

	"github.com/frontdesk/frontdesk/handoff"
)

func TestSuggestionsFollowTheLatestQuestionAndSkipWhatIsNotOne(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	c := r.waitingCustomer() // asked about delivery, then for a person
	path := conversationPath(c.conversation, "suggestions")
	expect := func(t *testing.T, wantQuery, wantTop string) {
		t.Helper()
		v := ann.must(http.StatusOK, "GET", path, nil)
		sugg := v["suggestions"].([]any)
		if v["suggestions_query"] != wantQuery {
			t.Errorf("suggestions for %q, want %q", v["suggestions_query"], wantQuery)
		}
		if len(sugg) == 0 || sugg[0].(map[string]any)["id"] != wantTop {
			t.Errorf("suggestions %v, want %s first", sugg, wantTop)
		}
		for _, s := range sugg {
			if conf := s.(map[string]any)["confidence"].(float64); conf < 0.1 {
				t.Errorf("a %.0f%% suggestion: %v", conf*100, s)
			}
		}
	}
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	expect(t, "how long does delivery take", "delivery-times")
	bob := r.login(r.addAgent("Bob", handoff.RoleAgent))
	if status, _ := bob.call("GET", path, nil); status != http.StatusForbidden {
		t.Errorf("another agent reading the suggestions of Ann's conversation: %d, want 403", status)
	}

	sayAndWait := func(text string) {
		t.Helper()
		c.say(text)
		c.Until(func(f map[string]any) bool { return f["type"] == "ack" || f["type"] == "message" && f["text"] == text })
	}
	t.Run("a bare email address is not a question", func(t *testing.T) {
		sayAndWait("maria.lopez@example.com")
		expect(t, "how long does delivery take", "delivery-times")
	})
	t.Run("a newer question wins over an older, better answered one", func(t *testing.T) {
		sayAndWait("and when will my refund arrive?")
		expect(t, "and when will my refund arrive?", "refund-timing")
	})
	t.Run("the latest question is followed even when no article answers it well", func(t *testing.T) {
		sayAndWait("do you sell gift vouchers for weddings")
		v := ann.must(http.StatusOK, "GET", path, nil)
		if v["suggestions_query"] != "do you sell gift vouchers for weddings" {
			t.Errorf("suggestions for %q, want the latest question", v["suggestions_query"])
		}
		for _, s := range v["suggestions"].([]any) {
			if s := s.(map[string]any); s["confidence"].(float64) < 0.1 || s["id"] == "refund-timing" {
				t.Errorf("suggestion %v for an unrelated question", s)
			}
		}
		sayAndWait("and when will my refund arrive?")
	})
	t.Run("courtesies are not questions", func(t *testing.T) {
		sayAndWait("ok, thanks! my email is maria.lopez@example.com")
		expect(t, "and when will my refund arrive?", "refund-timing")
		// The conversation view says the same.
		v := ann.must(http.StatusOK, "GET", conversationPath(c.conversation), nil)
		if v["suggestions_query"] != "and when will my refund arrive?" {
			t.Errorf("conversation view suggests for %q", v["suggestions_query"])
		}
	})
}
