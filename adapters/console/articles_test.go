package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/adapters/console"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// newArticleRig is the rig with a live knowledge base on a copy of the
// shop content in a directory, and the editor writing to it (or, when
// writable is false, to nowhere, as with the embedded content).
func newArticleRig(t *testing.T, writable bool) (*rig, string) {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir("../../kb/testdata/shop")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join("../../kb/testdata/shop", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644)
	}
	c, err := kb.Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kb.Build(context.Background(), c, kb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	live := kb.NewLive(k, c, kb.Options{})
	writeDir := dir
	if !writable {
		writeDir = ""
	}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, db: db}
	r.agents = handoff.NewAgents(db, handoff.AgentsOptions{PasswordCost: bcrypt.MinCost})
	r.engine = bot.NewEngine(live, db, bot.NewBus(), bot.Options{})
	r.queue = handoff.NewQueue(db, r.engine, manual)
	r.engine.SetHandoff(r.queue)
	r.console = console.NewServer(r.engine, r.queue, r.agents, live, console.Options{
		Assets: content.Console(),
		Editor: kb.NewEditor(os.DirFS(dir), writeDir, live),
	})
	mux := http.NewServeMux()
	r.console.Routes(mux)
	r.http = httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.console.Shutdown(ctx)
		r.http.Close()
		db.Close()
		live.Close()
	})
	return r, dir
}

// handedOff has a customer ask the question and then for a person, and
// returns the conversation and the question's seq.
func handedOff(t *testing.T, r *rig, visitor, question string) (string, int64) {
	t.Helper()
	ctx := context.Background()
	s, err := r.engine.Start(ctx, bot.Identity{Channel: bot.Web, ID: visitor}, bot.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: question})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: "Talk to a person", Payload: bot.PayloadHuman}); err != nil {
		t.Fatal(err)
	}
	return s.Conversation.ID, q.Seq
}

func decideID(t *testing.T, r *rig, visitor, q string) string {
	t.Helper()
	ctx := context.Background()
	s, err := r.engine.Start(ctx, bot.Identity{Channel: bot.Web, ID: visitor}, bot.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, Text: q}); err != nil {
		t.Fatal(err)
	}
	ms, err := r.engine.Messages(ctx, s.Conversation.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Decision != nil && m.Decision.Kind == bot.DecisionAnswer {
			return m.Decision.ArticleID
		}
	}
	return ""
}

func TestSaveAnAnswerAsAnArticle(t *testing.T) {
	r, dir := newArticleRig(t, true)
	const question = "do you sell gift cards"
	const reply = "Yes! Gift cards from 10 to 200 euros, sent by email within minutes."
	if got := decideID(t, r, "before", question); got == "gift-cards" {
		t.Fatalf("the shop already answers %q with %s", question, got)
	}
	conv, qseq := handedOff(t, r, "v1", question)
	admin := r.login(r.addAgent("Ada", handoff.RoleAdmin))
	admin.must(http.StatusOK, "POST", conversationPath(conv, "claim"), nil)
	sent := admin.must(http.StatusCreated, "POST", conversationPath(conv, "messages"), map[string]any{"text": reply})
	note := admin.must(http.StatusCreated, "POST", conversationPath(conv, "messages"), map[string]any{"text": "internal thought", "internal": true})
	rseq := int64(sent["seq"].(float64))

	t.Run("a private note is not an answer", func(t *testing.T) {
		status, _ := admin.call("POST", conversationPath(conv, "article"), map[string]any{"question_seq": qseq, "reply_seq": int64(note["seq"].(float64))})
		if status != http.StatusBadRequest {
			t.Errorf("got %d, want 400", status)
		}
	})
	t.Run("an agent who may not read the conversation cannot", func(t *testing.T) {
		other := r.login(r.addAgent("Olaf", handoff.RoleAgent))
		if status, _ := other.call("POST", conversationPath(conv, "article"), map[string]any{"question_seq": qseq, "reply_seq": rseq}); status != http.StatusForbidden {
			t.Errorf("got %d, want 403", status)
		}
	})

	out := admin.must(http.StatusCreated, "POST", conversationPath(conv, "article"), map[string]any{"question_seq": qseq, "reply_seq": rseq, "title": "Gift cards"})
	if out["saved"] != true || out["file"] != "gift-cards.md" {
		t.Fatalf("response %v", out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "gift-cards.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "id: gift-cards") || !strings.Contains(string(data), reply) || !strings.Contains(string(data), "- "+question) {
		t.Errorf("file:\n%s", data)
	}
	if got := decideID(t, r, "after", question); got != "gift-cards" {
		t.Errorf("the next customer got %q, want the new gift-cards article", got)
	}

	// The same question a second time adds a phrasing instead.
	conv2, q2 := handedOff(t, r, "v2", "can I buy a voucher for my mum")
	admin.must(http.StatusOK, "POST", conversationPath(conv2, "claim"), nil)
	out = admin.must(http.StatusCreated, "POST", conversationPath(conv2, "article"), map[string]any{"question_seq": q2, "add_to": "gift-cards"})
	qs := out["article"].(map[string]any)["questions"].([]any)
	if len(qs) != 2 || qs[1] != "can I buy a voucher for my mum" {
		t.Errorf("questions %v", qs)
	}

	t.Run("the admins' editor checks as index --check does", func(t *testing.T) {
		src := admin.must(http.StatusOK, "GET", "/api/agent/admin/articles/gift-cards", nil)
		if src["file"] != "gift-cards.md" || !strings.Contains(src["markdown"].(string), "voucher") {
			t.Fatalf("source %v", src)
		}
		bad := admin.must(http.StatusOK, "POST", "/api/agent/admin/articles/check", map[string]any{"file": "gift-cards.md", "markdown": "---\nid: gift-cards\n---\n"})
		if len(bad["problems"].([]any)) == 0 || bad["article"] != nil {
			t.Errorf("check of a broken file: %v", bad)
		}
		edited := strings.Replace(src["markdown"].(string), "Yes!", "Of course!", 1)
		ok := admin.must(http.StatusOK, "POST", "/api/agent/admin/articles/check", map[string]any{"file": "gift-cards.md", "markdown": edited})
		if len(ok["problems"].([]any)) != 0 || !strings.HasPrefix(ok["article"].(map[string]any)["body"].(string), "Of course!") {
			t.Errorf("check of the edit: %v", ok)
		}
		status, res := admin.call("PUT", "/api/agent/admin/articles", map[string]any{"file": "gift-cards.md", "markdown": "---\nid: gift-cards\n---\n"})
		if status != http.StatusBadRequest || len(res["problems"].([]any)) == 0 {
			t.Errorf("saving a broken file: %d %v", status, res)
		}
		admin.must(http.StatusCreated, "PUT", "/api/agent/admin/articles", map[string]any{"file": "gift-cards.md", "markdown": edited})
		if a, _ := os.ReadFile(filepath.Join(dir, "gift-cards.md")); !strings.Contains(string(a), "Of course!") {
			t.Errorf("file after the edit:\n%s", a)
		}
		if status, _ := admin.call("PUT", "/api/agent/admin/articles", map[string]any{"file": "../escape.md", "markdown": edited}); status != http.StatusBadRequest {
			t.Errorf("a file outside the content: %d, want 400", status)
		}
		sup := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
		if status, _ := sup.call("GET", "/api/agent/admin/articles/gift-cards", nil); status != http.StatusForbidden {
			t.Errorf("a supervisor got %d, want 403", status)
		}
	})
}

func TestSaveAnAnswerWithoutAWritableDirectoryOffersTheMarkdown(t *testing.T) {
	r, dir := newArticleRig(t, false)
	conv, qseq := handedOff(t, r, "v1", "do you sell gift cards")
	admin := r.login(r.addAgent("Ada", handoff.RoleAdmin))
	admin.must(http.StatusOK, "POST", conversationPath(conv, "claim"), nil)
	sent := admin.must(http.StatusCreated, "POST", conversationPath(conv, "messages"), map[string]any{"text": "Yes, from 10 euros."})
	out := admin.must(http.StatusOK, "POST", conversationPath(conv, "article"), map[string]any{"question_seq": qseq, "reply_seq": sent["seq"]})
	if out["saved"] != false || !strings.Contains(out["reason"].(string), "not writable") || !strings.Contains(out["markdown"].(string), "Yes, from 10 euros.") {
		t.Errorf("response %v", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "do-you-sell-gift-cards.md")); !os.IsNotExist(err) {
		t.Error("a file was written")
	}
}
