package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/kbtest"
	"github.com/frontdesk/frontdesk/internal/wait"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/adapters/telegram"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/bolt"
)

var shopKB = kbtest.Shop

type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// rig is a real engine, agent queue and bbolt file, with the fake Bot API.
type rig struct {
	t       testing.TB
	kb      *kb.KB
	path    string
	db      *bolt.DB
	engine  *bot.Engine
	queue   *handoff.Queue
	agent   *handoff.Agent
	api     *fakeAPI
	clock   *clock
	adapter *telegram.Adapter
}

func newRig(t testing.TB) *rig {
	r := &rig{t: t, kb: shopKB(t), path: filepath.Join(t.TempDir(), "frontdesk.db"), api: newFakeAPI(t), clock: &clock{}}
	r.open()
	return r
}

// open opens the database and wires an engine and queue to it.
func (r *rig) open() {
	t := r.t
	db, err := bolt.Open(r.path)
	if err != nil {
		t.Fatal(err)
	}
	r.db = db
	t.Cleanup(func() { db.Close() })
	agents := handoff.NewAgents(db, handoff.AgentsOptions{PasswordCost: bcrypt.MinCost})
	if r.agent == nil {
		a, err := agents.Add(context.Background(), handoff.NewAgent{Name: "Ana", Email: "ana@example.com", Role: handoff.RoleAgent, Password: "a long password"})
		if err != nil {
			t.Fatal(err)
		}
		r.agent = a
	}
	r.engine = bot.NewEngine(r.kb, db, bot.NewBus(), bot.Options{Now: r.clock.Now, AgentName: func(id string) string {
		if a, err := agents.Agent(context.Background(), id); err == nil {
			return a.Name
		}
		return ""
	}})
	r.queue = handoff.NewQueue(db, r.engine, handoff.Options{ManualAssign: true})
	r.engine.SetHandoff(r.queue)
}

func (r *rig) options() telegram.Options {
	return telegram.Options{Token: token, APIURL: r.api.srv.URL, PollTimeout: time.Second, ChatInterval: 2 * time.Millisecond, GlobalRate: 2000,
		MinBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, RetryAfterUnit: 5 * time.Millisecond, PublicURL: "https://chat.example.com"}
}

func (r *rig) start(opts telegram.Options) *telegram.Adapter {
	r.t.Helper()
	a, err := telegram.New(context.Background(), r.engine, r.db, opts)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(a.Stop)
	r.adapter = a
	return a
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	// A minute: under CI's load (the race detector, every package's
	// tests and browsers on two cores) waits of 15 s ran out twice.
	wait.For(t, time.Minute, what, cond)
}

// waitSent waits until a chat got a message containing text and returns it.
func (r *rig) waitSent(chat int64, text string) sentMessage {
	r.t.Helper()
	var found sentMessage
	waitFor(r.t, fmt.Sprintf("a message to %d containing %q (got %q)", chat, text, texts(r.api.sentTo(chat))), func() bool {
		for _, m := range r.api.sentTo(chat) {
			if strings.Contains(m.Text, text) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

func texts(ms []sentMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

func (r *rig) customer(userID int64) *bot.Customer {
	r.t.Helper()
	c, err := r.db.CustomerByIdentity(context.Background(), bot.Identity{Channel: bot.Telegram, ID: fmt.Sprint(userID)})
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

func (r *rig) conversation(userID int64) bot.Conversation {
	r.t.Helper()
	convs, err := r.db.Conversations(context.Background(), r.customer(userID).ID)
	if err != nil || len(convs) == 0 {
		r.t.Fatalf("no conversation for %d: %v", userID, err)
	}
	return convs[0]
}

// visible returns what the customer should have received: the stored
// messages not from them, as the adapter renders them.
func (r *rig) visible(conv string) []string {
	ms, err := r.engine.Messages(context.Background(), conv, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if m.From == bot.FromCustomer {
			continue
		}
		if m.From == bot.FromBot {
			m.Text = bot.UnescapeMarkdown(m.Text)
		}
		if m.From == bot.FromAgent && m.AgentName != "" {
			m.Text = m.AgentName + ": " + m.Text
		}
		out = append(out, m.Text)
	}
	return out
}

func TestAConversationFromStartToAnAgentReply(t *testing.T) {
	r := newRig(t)
	r.start(r.options())
	ctx := context.Background()
	const ana = 1001

	r.api.push(textUpdate(ana, "Ana", "/start"))
	r.waitSent(ana, "virtual assistant")
	if c := r.customer(ana); c.Name != "Ana" {
		t.Errorf("new customer named %q, want the first name Ana", c.Name)
	}
	r.api.push(textUpdate(ana, "Ana", "how long does a refund take"))
	r.waitSent(ana, "refund")
	helpful := r.waitSent(ana, "Was this helpful?")
	if !helpful.Keyboard || len(helpful.Buttons) < 2 || helpful.Labels[0] != "Yes" {
		t.Errorf("quick replies did not become an inline keyboard: %+v", helpful)
	}
	r.api.push(photoUpdate(ana, "my lamp"))
	r.waitSent(ana, "only read text")

	r.api.push(textUpdate(ana, "Ana", "/human"))
	r.waitSent(ana, "connecting you with a person")
	conv := r.conversation(ana)
	// The state changes before the queue has the ticket: wait for the
	// ticket, as an agent would see it in the queue.
	waitFor(t, "the conversation to be queued", func() bool { _, err := r.queue.Ticket(ctx, conv.ID); return err == nil })
	if _, err := r.queue.Claim(ctx, conv.ID, r.agent.ID); err != nil {
		t.Fatal(err)
	}
	r.waitSent(ana, "Ana from our team has joined")
	if _, err := r.engine.AgentSay(ctx, conv.ID, r.agent.ID, "Hello, I can help with your refund.", false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.engine.AgentSay(ctx, conv.ID, r.agent.ID, "a private note", true); err != nil {
		t.Fatal(err)
	}
	r.waitSent(ana, "Ana: Hello, I can help with your refund.")

	r.api.push(photoUpdate(ana, "the broken lamp"))
	waitFor(t, "the photo to reach the agent as a note", func() bool {
		ms, _ := r.db.Messages(ctx, conv.ID, 0)
		last := ms[len(ms)-1]
		return last.From == bot.FromCustomer && last.Text == "[photo] the broken lamp"
	})
	edit := textUpdate(ana, "Ana", "it is the desk lamp")
	edit["edited_message"] = edit["message"]
	delete(edit, "message")
	r.api.push(edit)
	waitFor(t, "the edit to reach the agent", func() bool {
		ms, _ := r.db.Messages(ctx, conv.ID, 0)
		return ms[len(ms)-1].Text == "(edited) it is the desk lamp"
	})
	waitFor(t, "every visible message delivered in order", func() bool {
		return strings.Join(texts(r.api.sentTo(ana)), "\n") == strings.Join(r.withReplies(ana, conv.ID), "\n")
	})
	for _, m := range r.api.sentTo(ana) {
		if strings.Contains(m.Text, "private note") {
			t.Error("an internal note reached the customer")
		}
	}
}

// withReplies is what a chat should have received: the conversation's
// visible messages, with the adapter's own replies where they came.
func (r *rig) withReplies(chat int64, conv string) []string {
	want := r.visible(conv)
	var out []string
	i := 0
	for _, m := range r.api.sentTo(chat) {
		if i < len(want) && m.Text == want[i] {
			out = append(out, want[i])
			i++
		} else if strings.Contains(m.Text, "only read text") || strings.Contains(m.Text, "linked") || strings.Contains(m.Text, "How can I help") {
			out = append(out, m.Text)
		}
	}
	return append(out, want[i:]...)
}

func TestInlineKeyboardChoices(t *testing.T) {
	r := newRig(t)
	r.start(r.options())
	const bo = 1002
	r.api.push(textUpdate(bo, "Bo", "how long does a refund take"))
	helpful := r.waitSent(bo, "Was this helpful?")
	r.api.push(callbackUpdate(bo, helpful, helpful.Buttons[1])) // "No"
	r.waitSent(bo, "Sorry that didn't help")
	waitFor(t, "the spinner to stop and the keyboard to go", func() bool {
		return len(r.api.callsOf("answerCallbackQuery")) == 1 && len(r.api.callsOf("editMessageReplyMarkup")) == 1
	})
	if e := r.api.callsOf("editMessageReplyMarkup")[0]; e["message_id"] != fmt.Sprint(helpful.ID) || e["reply_markup"] != `{"inline_keyboard":[]}` {
		t.Errorf("keyboard removal %v", e)
	}
	conv := r.conversation(bo)
	ms, _ := r.db.Messages(context.Background(), conv.ID, 0)
	var choice bot.Message
	for _, m := range ms {
		if m.From == bot.FromCustomer && m.Payload != "" {
			choice = m
		}
	}
	if choice.Payload != bot.PayloadHelpfulNo || choice.Text != "No" {
		t.Errorf("the press was stored as %q/%q, want the No choice", choice.Text, choice.Payload)
	}
	// The same (old) button again is stale: answered, not handled.
	r.api.push(callbackUpdate(bo, helpful, "con_other:1:0"))
	waitFor(t, "the stale press to be answered", func() bool {
		calls := r.api.callsOf("answerCallbackQuery")
		return len(calls) == 2 && calls[1]["text"] != ""
	})
}

// The bus follower may queue a new chat's greeting before the update's
// own handling has the chat in memory; the greeting still goes once.
func TestAGreetingQueuedByTheFollowerWhileTrackingGoesOnce(t *testing.T) {
	r := newRig(t)
	a := r.start(r.options())
	a.FollowerSyncsWhileTracking()
	const eve = 1009
	r.api.push(textUpdate(eve, "Eve", "how long does a refund take"))
	waitFor(t, "the question stored", func() bool { return r.customerMessages(eve) == 1 })
	conv := r.conversation(eve)
	sent := func() string { return strings.Join(texts(r.api.sentTo(eve)), "\n") }
	visible := func() string { return strings.Join(r.visible(conv.ID), "\n") }
	if !wait.Until(context.Background(), 10*time.Second, func() bool { return sent() == visible() }) {
		t.Fatalf("sent:\n%s\n\nwant, the conversation's visible messages:\n%s", sent(), visible())
	}
}

func TestARestartNeitherReplaysNorLoses(t *testing.T) {
	r := newRig(t)
	a := r.start(r.options())
	const cy = 1003
	questions := []string{"hello", "how long does a refund take", "how do I track my order", "what are your opening hours", "thanks", "how do I reset my password"}
	for _, q := range questions[:3] {
		r.api.push(textUpdate(cy, "Cy", q))
	}
	waitFor(t, "three customer messages", func() bool { return r.customerMessages(cy) == 3 })
	a.Stop()
	a.Stop() // twice is fine
	r.db.Close()

	for _, q := range questions[3:] {
		r.api.push(textUpdate(cy, "Cy", q))
	}
	r.open()
	r.start(r.options())
	waitFor(t, "six customer messages", func() bool { return r.customerMessages(cy) == 6 })
	conv := r.conversation(cy)
	sent := func() string { return strings.Join(texts(r.api.sentTo(cy)), "\n") }
	visible := func() string { return strings.Join(r.visible(conv.ID), "\n") }
	if !wait.Until(context.Background(), time.Minute, func() bool { return sent() == visible() }) {
		t.Fatalf("replies sent:\n%s\n\nwant, the conversation's visible messages:\n%s", sent(), visible())
	}
	time.Sleep(50 * time.Millisecond)
	if got := r.customerMessages(cy); got != 6 {
		t.Errorf("%d customer messages stored, want 6 (an update was replayed or lost)", got)
	}
}

func TestAMessageLongerThanTheBotTakesIsAnsweredNotRetried(t *testing.T) {
	r := newRig(t)
	r.start(r.options())
	const dee = 1007
	// 2100 characters, within Telegram's 4096, but 4200 bytes.
	long := strings.Repeat("ж", 2100)
	r.api.push(textUpdate(dee, "Dee", long))
	r.waitSent(dee, "too long")
	// The update is done with: the next one is handled, and the refusal
	// is not repeated.
	r.api.push(textUpdate(dee, "Dee", "how long does a refund take"))
	waitFor(t, "the next message to be handled", func() bool { return r.customerMessages(dee) == 1 })
	r.waitSent(dee, "helpful")
	refusals := 0
	for _, m := range r.api.sentTo(dee) {
		if strings.Contains(m.Text, "too long") {
			refusals++
		}
	}
	if refusals != 1 {
		t.Errorf("the chat was told %d times that the message is too long, want once", refusals)
	}
}

func TestACommandEntityThatDoesNotFitTheTextIsNoCommand(t *testing.T) {
	r := newRig(t)
	r.start(r.options())
	const fay = 1008
	// The library's Command would slice "/human" up to byte 60 and panic,
	// taking the polling goroutine and the server with it.
	u := textUpdate(fay, "Fay", "/human")
	u["message"].(map[string]any)["entities"] = []any{map[string]any{"type": "bot_command", "offset": 0, "length": 60}}
	r.api.push(u)
	r.api.push(textUpdate(fay, "Fay", "hello"))
	waitFor(t, "both messages to be handled", func() bool { return r.customerMessages(fay) == 2 })
	ms, err := r.db.Messages(context.Background(), r.conversation(fay).ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.From == bot.FromCustomer && m.Text != "/human" && m.Text != "hello" {
			t.Errorf("customer message %q: the broken command was taken for a command", m.Text)
		}
	}
}

func (r *rig) customerMessages(userID int64) int {
	c, err := r.db.CustomerByIdentity(context.Background(), bot.Identity{Channel: bot.Telegram, ID: fmt.Sprint(userID)})
	if err != nil {
		return 0
	}
	convs, _ := r.db.Conversations(context.Background(), c.ID)
	n := 0
	for _, cv := range convs {
		ms, _ := r.db.Messages(context.Background(), cv.ID, 0)
		for _, m := range ms {
			if m.From == bot.FromCustomer {
				n++
			}
		}
	}
	return n
}

func TestInjectedFailuresStillDeliverOnceInOrder(t *testing.T) {
	r := newRig(t)
	var mu sync.Mutex
	n := 0
	r.api.setInject(func(method string) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		// Every fifth request fails, in turn with 429, 5xx and a dropped
		// connection.
		if n%5 != 0 {
			return ""
		}
		return []string{"429", "5xx", "drop"}[(n/5)%3]
	})
	r.start(r.options())
	users := []int64{2001, 2002, 2003}
	questions := []string{"hello", "how long does a refund take", "how do I track my order", "thanks", "what are your opening hours"}
	for _, q := range questions {
		for _, u := range users {
			r.api.push(textUpdate(u, "U", q))
		}
	}
	for _, u := range users {
		waitFor(t, "every question stored", func() bool { return r.customerMessages(u) == len(questions) })
		conv := r.conversation(u)
		sent := func() string { return strings.Join(texts(r.api.sentTo(u)), "\n") }
		visible := func() string { return strings.Join(r.visible(conv.ID), "\n") }
		if !wait.Until(context.Background(), time.Minute, func() bool { return sent() == visible() }) {
			t.Fatalf("chat %d got:\n%s\n\nwant, the conversation's visible messages:\n%s", u, sent(), visible())
		}
	}
	time.Sleep(50 * time.Millisecond)
	for _, u := range users {
		conv := r.conversation(u)
		if got, want := texts(r.api.sentTo(u)), r.visible(conv.ID); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("chat %d got\n%q\nwant\n%q", u, got, want)
		}
		if got := r.customerMessages(u); got != len(questions) {
			t.Errorf("chat %d: %d questions stored, want %d", u, got, len(questions))
		}
	}
}

func TestABlockedChatIsMarkedAndNotRetried(t *testing.T) {
	r := newRig(t)
	r.start(r.options())
	const dee = 1004
	r.api.setInject(func(method string) string {
		if method == "sendMessage" {
			return "403"
		}
		return ""
	})
	r.api.push(textUpdate(dee, "Dee", "hello"))
	waitFor(t, "the chat to be marked blocked", func() bool {
		b, _ := r.db.TelegramBlocked(context.Background(), dee)
		return b
	})
	waitFor(t, "the outbox to be empty", func() bool {
		n := 0
		r.db.TelegramOutbox(context.Background(), func(uint64, []byte) error { n++; return nil })
		return n == 0
	})
}

func TestWebhookChecksTheSecret(t *testing.T) {
	r := newRig(t)
	opts := r.options()
	opts.WebhookURL, opts.WebhookSecret = "https://chat.example.com/telegram/webhook", "s3cret-value"
	a := r.start(opts)
	if calls := r.api.callsOf("setWebhook"); len(calls) != 1 || calls[0]["secret_token"] != "s3cret-value" || calls[0]["url"] != opts.WebhookURL {
		t.Fatalf("setWebhook calls %v", r.api.callsOf("setWebhook"))
	}
	srv := httptest.NewServer(a.WebhookHandler())
	defer srv.Close()
	post := func(secret, body string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const eve = 1005
	body := `{"update_id":500,"message":{"message_id":1,"date":1700000000,"from":{"id":1005,"is_bot":false,"first_name":"Eve"},"chat":{"id":1005,"type":"private"},"text":"hello"}}`
	for _, secret := range []string{"", "wrong", "s3cret-valuE", "s3cret-value-and-more"} {
		if code := post(secret, body); code != http.StatusForbidden {
			t.Errorf("secret %q: status %d, want 403", secret, code)
		}
	}
	if r.customerMessages(eve) != 0 {
		t.Fatal("an update with a wrong secret was handled")
	}
	if code := post("s3cret-value", body); code != http.StatusOK {
		t.Fatalf("right secret: status %d", code)
	}
	if code := post("s3cret-value", body); code != http.StatusOK {
		t.Fatalf("retried update: status %d", code)
	}
	if got := r.customerMessages(eve); got != 1 {
		t.Errorf("%d messages stored from one update sent twice, want 1", got)
	}
	huge := `{"update_id":501,"pad":"` + strings.Repeat("x", 2<<20) + `"}`
	if code := post("s3cret-value", huge); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MiB update: status %d, want 413", code)
	}
	r.waitSent(eve, "Hi")
	if len(r.api.callsOf("getUpdates")) != 0 {
		t.Error("webhook mode polled getUpdates")
	}
}

func TestIdleChatsLeaveMemoryAndComeBackFromDisk(t *testing.T) {
	r := newRig(t)
	a := r.start(r.options())
	const ana, bo = 1001, 1002
	r.api.push(textUpdate(ana, "Ana", "/start"))
	r.waitSent(ana, "virtual assistant")
	r.api.push(textUpdate(bo, "Bo", "/start"))
	r.waitSent(bo, "virtual assistant")
	if n := a.ChatsInMemory(); n != 2 {
		t.Fatalf("%d chats in memory after two customers, want 2", n)
	}
	a.Evict(time.Now().Add(time.Hour))
	if n := a.ChatsInMemory(); n != 0 {
		t.Fatalf("%d chats in memory after an idle hour, want 0", n)
	}
	// Ana writes again: her chat is read back and the answer reaches her,
	// once, after what she was already sent.
	before := len(r.api.sentTo(ana))
	r.api.push(textUpdate(ana, "Ana", "how long does a refund take"))
	r.waitSent(ana, "Was this helpful?")
	sent := r.api.sentTo(ana)[before:]
	for _, m := range sent {
		if strings.Contains(m.Text, "virtual assistant") {
			t.Errorf("the greeting was sent again after the chat came back: %q", texts(sent))
		}
	}
	if n := a.ChatsInMemory(); n != 1 {
		t.Errorf("%d chats in memory after Ana's message, want 1", n)
	}
}

func TestNamesReadAsWrittenOnTelegram(t *testing.T) {
	r := newRig(t)
	r.start(r.options())
	const jean = 1007
	const name = "Jean-Luc [Verify](https://evil.example)"
	r.api.push(textUpdate(jean, name, "/start"))
	r.waitSent(jean, "virtual assistant")
	conv := r.conversation(jean).ID
	ms, err := r.engine.Messages(context.Background(), conv, 0)
	if err != nil || len(ms) == 0 {
		t.Fatalf("messages %+v, %v", ms, err)
	}
	if want := "Hi " + bot.EscapeMarkdown(name) + "!"; !strings.HasPrefix(ms[0].Text, want) {
		t.Errorf("stored greeting %q, want it to start with %q (the name escaped for the web)", ms[0].Text, want)
	}
	if got := r.api.sentTo(jean)[0].Text; !strings.HasPrefix(got, "Hi "+name+"! ") {
		t.Errorf("Telegram got %q, want the name as written, without escapes", got)
	}
}

func TestArticlesReadFormattedAndLongRepliesArriveWhole(t *testing.T) {
	r := newRig(t)
	r.start(r.options())
	ctx := context.Background()
	const ana = 1011
	r.api.push(textUpdate(ana, "Ana", "/start"))
	r.waitSent(ana, "virtual assistant")
	conv := r.conversation(ana)
	// An article longer than a Telegram message, as a shop may write one.
	long := "Here is **everything** about your order:\n\n" + strings.Repeat("Your lamp ships from Berlin and arrives within two days. ", 120) + "\n\nThat is **all**."
	err := r.engine.Act(ctx, conv.ID, func(a *bot.Act) error {
		_, err := a.Say(bot.Message{From: bot.FromBot, Text: long})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	end := r.waitSent(ana, "That is all.")
	var parts []sentMessage
	for _, m := range r.api.sentTo(ana) {
		if strings.Contains(m.Text, "Berlin") || strings.Contains(m.Text, "everything") || m.ID == end.ID {
			parts = append(parts, m)
		}
	}
	if len(parts) < 2 {
		t.Fatalf("a %d-character reply came in %d message(s)", len(long), len(parts))
	}
	var text strings.Builder
	for _, p := range parts {
		text.WriteString(p.Text)
		if strings.Contains(p.Text, "**") {
			t.Errorf("Markdown shown literally: %.60q", p.Text)
		}
	}
	if got := strings.Count(text.String(), "Berlin"); got != 120 {
		t.Errorf("%d of 120 sentences arrived", got)
	}
	if !strings.Contains(parts[0].HTML, "<b>everything</b>") {
		t.Errorf("first part not formatted: %.80q", parts[0].HTML)
	}
}
