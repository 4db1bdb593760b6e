package bot_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/testclock"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// knownKB is the shop's test content with a templated tracking answer
// and a VIP variant of the returns answer.
func knownKB(t *testing.T) *kb.KB {
	t.Helper()
	files := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS("../kb/testdata/shop"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(filepath.Join("../kb/testdata/shop", p))
		files[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	track := strings.Replace(string(files["track-order.md"].Data),
		"Use the tracking link", `Hi {{customer.first_name | "there"}}! Your order of {{ customer.attributes.last_order | "your items" }} is {{customer.attributes.order_status|"on its way"}}. Use the tracking link`, 1)
	files["track-order.md"] = &fstest.MapFile{Data: []byte(track)}
	files["return-item-vip.md"] = &fstest.MapFile{Data: []byte("---\nid: return-item-vip\ntitle: How do I return an item?\nvariant_of: return-item\nsegments: [vip]\n---\nAs a VIP you can return any item within 90 days, and we collect it from your door.\n")}
	c, err := kb.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Problems) > 0 || len(c.Variants) != 1 {
		t.Fatalf("content problems %v, variants %d", c.Problems, len(c.Variants))
	}
	k, err := kb.Build(context.Background(), c, kb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func knownEngine(t *testing.T) (*bot.Engine, *bolt.DB) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return bot.NewEngine(knownKB(t), db, bot.NewBus(), bot.Options{}), db
}

// answer starts a conversation for the shop's customer ext and returns
// the bot's first reply to text.
func answer(t *testing.T, e *bot.Engine, db *bolt.DB, ext, text string) string {
	t.Helper()
	ctx := context.Background()
	visitor := bot.Identity{Channel: bot.Web, ID: "v-" + ext}
	if _, err := e.Identify(ctx, visitor, bot.Verified{ExternalID: ext}); err != nil {
		t.Fatal(err)
	}
	s, err := e.Start(ctx, visitor, bot.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, ClientID: "c-" + text, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := db.Messages(ctx, s.Conversation.ID, m.Seq)
	if err != nil || len(ms) == 0 {
		t.Fatalf("no reply: %v", err)
	}
	return ms[0].Text
}

func TestTemplateValuesRenderAsText(t *testing.T) {
	e, db := knownEngine(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		v      bot.Verified
		want   string
		banned []string
	}{
		{"known values", bot.Verified{ExternalID: "c1", Name: "Ana Lima", Attributes: map[string]string{"last_order": "Arco floor lamp", "order_status": "shipped"}},
			"Hi Ana! Your order of Arco floor lamp is shipped.", nil},
		{"fallbacks", bot.Verified{ExternalID: "c2"}, "Hi there! Your order of your items is on its way.", nil},
		{"a link and an image in the customer's values", bot.Verified{ExternalID: "c3", Name: "[x](https://evil.example)",
			Attributes: map[string]string{"last_order": "<img src=x onerror=alert(1)>", "order_status": "![p](https://evil.example/p.png)"}},
			`Hi \[x\]\(https://evil.example\)! Your order of \<img src=x onerror=alert\(1\)\> is \!\[p\]\(https://evil.example/p.png\).`,
			[]string{"](", "<"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := e.PutVerified(ctx, tc.v); err != nil {
				t.Fatal(err)
			}
			got := answer(t, e, db, tc.v.ExternalID, "where is my package")
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("answer %q, want it to start %q", got, tc.want)
			}
			for _, b := range tc.banned {
				// Only an escaped "<" is allowed (shown as text).
				if strings.Contains(strings.ReplaceAll(got, `\<`, ""), b) {
					t.Errorf("answer %q holds Markdown or HTML %q", got, b)
				}
			}
			if strings.Contains(got, "{{") {
				t.Errorf("answer %q holds a template", got)
			}
		})
	}
}

func TestVIPGetsTheVIPVariant(t *testing.T) {
	e, db := knownEngine(t)
	ctx := context.Background()
	vip := "vip"
	if _, _, err := e.PutVerified(ctx, bot.Verified{ExternalID: "vip-1", Segment: &vip}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.PutVerified(ctx, bot.Verified{ExternalID: "plain-1"}); err != nil {
		t.Fatal(err)
	}
	if got := answer(t, e, db, "vip-1", "how do i return an item"); !strings.Contains(got, "90 days") {
		t.Errorf("VIP answered %q, want the VIP variant", got)
	}
	if got := answer(t, e, db, "plain-1", "how do i return an item"); !strings.Contains(got, "30 days") {
		t.Errorf("customer answered %q, want the article", got)
	}
	// The variant is never found by itself.
	if got := answer(t, e, db, "plain-2", "collect it from your door 90 days VIP"); strings.Contains(got, "90 days") {
		t.Errorf("a search found the variant: %q", got)
	}
}

func TestVerifiedReturningCustomerIsAskedAboutTheirRecentTopic(t *testing.T) {
	c := testclock.New(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)) // a Tuesday
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := bot.NewEngine(knownKB(t), db, bot.NewBus(), bot.Options{Now: c.Now})
	ctx := context.Background()
	if _, _, err := e.PutVerified(ctx, bot.Verified{ExternalID: "ana", Name: "Ana", Attributes: map[string]string{"last_order": "Arco floor lamp", "order_status": "shipped"}}); err != nil {
		t.Fatal(err)
	}
	phone := bot.Identity{Channel: bot.Web, ID: "phone"}
	if _, err := e.Identify(ctx, phone, bot.Verified{ExternalID: "ana"}); err != nil {
		t.Fatal(err)
	}
	s, err := e.Start(ctx, phone, bot.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := db.Messages(ctx, s.Conversation.ID, 0)
	if err != nil || len(first) != 1 || !strings.Contains(first[0].Text, "Hi Ana!") || !strings.Contains(first[0].Text, "Is this about your order of Arco floor lamp (shipped)?") {
		t.Fatalf("first greeting %v %v", first, err)
	}
	if _, err := e.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, ClientID: "m1", Text: "how do i return an item"}); err != nil {
		t.Fatal(err)
	}
	// Two days later, on a laptop.
	c.Add(48 * time.Hour)
	laptop := bot.Identity{Channel: bot.Web, ID: "laptop"}
	if _, err := e.Identify(ctx, laptop, bot.Verified{ExternalID: "ana"}); err != nil {
		t.Fatal(err)
	}
	s2, err := e.Start(ctx, laptop, bot.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Conversation.ID != s.Conversation.ID || !s2.Returning {
		t.Fatalf("laptop session %+v, want the phone's conversation, returning", s2.Conversation)
	}
	ms, err := db.Messages(ctx, s.Conversation.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := ms[len(ms)-1]
	if last.Text != `Welcome back, Ana! Is this about "How do I return an item?" from Tuesday?` || len(last.QuickReplies) != 1 || last.QuickReplies[0].Payload != "followup:no:return-item" {
		t.Errorf("welcome back %q %v", last.Text, last.QuickReplies)
	}
}
