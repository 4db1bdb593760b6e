package console_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// inboxIDs lists the conversations of an inbox answer, in order.
func inboxIDs(m map[string]any) []string {
	var out []string
	for _, it := range m["items"].([]any) {
		out = append(out, it.(map[string]any)["conversation_id"].(string))
	}
	return out
}

func inboxOf(c *agentClient, view, q string) map[string]any {
	c.r.t.Helper()
	v := url.Values{"view": {view}}
	if q != "" {
		v.Set("q", q)
	}
	return c.must(http.StatusOK, "GET", "/api/agent/inbox?"+v.Encode(), nil)
}

func TestTheInboxKeepsResolvedConversationsAndFindsThem(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	bob := r.login(r.addAgent("Bob", handoff.RoleAgent))
	sue := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	ctx := context.Background()

	c1 := r.waitingCustomer()
	conv1, err := r.engine.Conversation(ctx, c1.conversation)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.engine.UpdateCustomer(ctx, conv1.CustomerID, func(c *bot.Customer) error {
		c.Name, c.Email = "Maria Lopez", "maria@example.com"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c2 := r.waitingCustomer()
	c2.say("my parcel number is ZX-4411 and it never came")

	if got := inboxIDs(inboxOf(ann, "unassigned", "")); !slices.Equal(got, []string{c1.conversation, c2.conversation}) {
		t.Errorf("unassigned %v, want both waiting, in queue order", got)
	}
	ann.must(http.StatusOK, "POST", conversationPath(c1.conversation, "claim"), nil)
	ann.must(http.StatusCreated, "POST", conversationPath(c1.conversation, "messages"), map[string]any{"text": "Hello Maria, your lamp ships today."})
	mine := inboxOf(ann, "mine", "")
	if got := inboxIDs(mine); !slices.Equal(got, []string{c1.conversation}) {
		t.Fatalf("Ann's mine %v, want her conversation", got)
	}
	item := mine["items"].([]any)[0].(map[string]any)
	last, _ := item["last_message"].(map[string]any)
	if last == nil || last["from"] != "agent" || last["text"] != "Hello Maria, your lamp ships today." || item["last_activity"] == "" {
		t.Errorf("Ann's item %v: want the last message as preview, with its time", item)
	}
	ann.must(http.StatusOK, "POST", conversationPath(c1.conversation, "resolve"), nil)
	bob.must(http.StatusOK, "POST", conversationPath(c2.conversation, "claim"), nil)

	t.Run("a resolved conversation stays in its agent's inbox", func(t *testing.T) {
		if got := inboxIDs(inboxOf(ann, "resolved", "")); !slices.Equal(got, []string{c1.conversation}) {
			t.Errorf("Ann's resolved %v, want the conversation she resolved", got)
		}
		if got := inboxIDs(inboxOf(ann, "mine", "")); len(got) != 0 {
			t.Errorf("Ann's mine after resolving %v, want none", got)
		}
		if got := inboxIDs(inboxOf(ann, "all", "")); !slices.Equal(got, []string{c1.conversation}) {
			t.Errorf("Ann's all %v, want only what she may read (not Bob's)", got)
		}
		ann.must(http.StatusOK, "GET", conversationPath(c1.conversation), nil)
	})
	t.Run("an agent does not see another's conversations", func(t *testing.T) {
		if got := inboxIDs(inboxOf(bob, "all", "")); !slices.Equal(got, []string{c2.conversation}) {
			t.Errorf("Bob's all %v, want only his own", got)
		}
		if got := inboxIDs(inboxOf(bob, "resolved", "")); len(got) != 0 {
			t.Errorf("Bob's resolved %v, want none", got)
		}
	})
	t.Run("a supervisor sees everything, newest activity first", func(t *testing.T) {
		if got := inboxIDs(inboxOf(sue, "all", "")); !slices.Equal(got, []string{c2.conversation, c1.conversation}) {
			t.Errorf("Sue's all %v, want the open one then the resolved one", got)
		}
	})
	t.Run("search finds the customer by name and email, and message text", func(t *testing.T) {
		for _, q := range []string{"maria", "MARIA@EXAMPLE", "lamp ships"} {
			if got := inboxIDs(inboxOf(sue, "all", q)); !slices.Equal(got, []string{c1.conversation}) {
				t.Errorf("search %q: %v, want Maria's conversation", q, got)
			}
		}
		found := inboxOf(sue, "all", "zx-4411")
		if got := inboxIDs(found); !slices.Equal(got, []string{c2.conversation}) {
			t.Fatalf("search for the parcel number: %v, want the second conversation", got)
		}
		// "hello" is in the middle of the first conversation's log: the
		// answer shows where.
		hello := inboxOf(sue, "all", "hello")
		for _, it := range hello["items"].([]any) {
			it := it.(map[string]any)
			if it["conversation_id"] == c2.conversation && !strings.Contains(it["match"].(string), "hello") {
				t.Errorf("match excerpt %q, want the message that matched", it["match"])
			}
		}
		if got := inboxIDs(hello); len(got) != 2 {
			t.Errorf("search for hello: %v, want both conversations", got)
		}
		if got := inboxIDs(inboxOf(ann, "all", "zx-4411")); len(got) != 0 {
			t.Errorf("Ann's search found %v in Bob's conversation", got)
		}
		if got := inboxIDs(inboxOf(sue, "resolved", "zx-4411")); len(got) != 0 {
			t.Errorf("resolved search found the open conversation: %v", got)
		}
	})
	t.Run("paging through resolved conversations", func(t *testing.T) {
		page := sue.must(http.StatusOK, "GET", "/api/agent/inbox?view=resolved&limit=1", nil)
		if got := inboxIDs(page); !slices.Equal(got, []string{c1.conversation}) {
			t.Fatalf("first page %v", got)
		}
		if next, _ := page["next_before"].(string); next != "" {
			rest := sue.must(http.StatusOK, "GET", "/api/agent/inbox?view=resolved&limit=1&before="+url.QueryEscape(next), nil)
			if got := inboxIDs(rest); len(got) != 0 {
				t.Errorf("second page %v, want empty", got)
			}
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		for _, q := range []string{"view=archived", "limit=0", "limit=500", "before=yesterday", "q=" + strings.Repeat("x", 201)} {
			if status, body := sue.call("GET", "/api/agent/inbox?"+q, nil); status != http.StatusBadRequest || body["error"] == "" {
				t.Errorf("%s: %d %v, want 400 with an error", q, status, body)
			}
		}
		if status, _ := r.anon().call("GET", "/api/agent/inbox", nil); status != http.StatusUnauthorized {
			t.Errorf("without a session: %d, want 401", status)
		}
	})
}

func TestAnOfferedConversationIsAcceptedByOpeningOrReplying(t *testing.T) {
	r := newRig(t, handoff.Options{})
	ann := r.addAgent("Ann", handoff.RoleAgent)
	if err := r.queue.Heartbeat(context.Background(), ann.ID, handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	a := r.login(ann)
	c := r.newCustomer()
	c.say("I want to talk to a real person")
	c.Until(stateIs("queued"))
	r.waitForTicket(c.conversation)
	q := a.must(http.StatusOK, "GET", "/api/agent/queue", nil)
	mine := q["mine"].([]any)
	if len(mine) != 1 || mine[0].(map[string]any)["offered"] != true || mine[0].(map[string]any)["can_claim"] != true {
		t.Fatalf("Ann's conversations %v, want the one offered to her", mine)
	}
	msgs, _ := r.db.Messages(context.Background(), c.conversation, 0)
	for _, m := range msgs {
		if strings.Contains(m.Text, "has joined") {
			t.Errorf("the customer was told %q before Ann opened the conversation", m.Text)
		}
	}
	a.must(http.StatusCreated, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "Hi, Ann here."})
	fs := c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "agent" })
	joined := slices.IndexFunc(fs, func(f map[string]any) bool {
		text, _ := f["text"].(string)
		return f["from"] == "system" && strings.Contains(text, "Ann from our team has joined")
	})
	if joined < 0 {
		t.Errorf("the customer was not told Ann joined before her reply: %v", fs)
	}
}
