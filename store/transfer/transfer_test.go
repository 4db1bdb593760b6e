package transfer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/adapters/webhook"
	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/kbtest"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/stats"
	"github.com/frontdesk/frontdesk/store/bolt"
	"github.com/frontdesk/frontdesk/store/postgres"
	"github.com/frontdesk/frontdesk/store/records"
	"github.com/frontdesk/frontdesk/store/storetest"
	"github.com/frontdesk/frontdesk/store/transfer"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// shop is a bbolt file filled as a running shop fills it: through the
// engine, the agent queue and the stores.
type shop struct {
	db    *bolt.DB
	files string // the attachments directory beside it
	token string // an agent's session token
	// convs: a web conversation handed off, claimed, answered, resolved
	// and handed off again; a Telegram one; a verified customer's.
	web, tg, verified string
	typedEmail        string // the customer who typed the verified customer's email
	// followup: a hand-off resolved, its follow-up scheduled.
	followup string
	linkCode string // made for the web customer
	att      bot.Attachment
	photo    []byte // the attachment's bytes
}

// followupDelay is when a resolved conversation's follow-up is due.
const followupDelay = time.Hour

// photo is a small PNG, as a customer sends one.
var photo = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 300)...)

var shopKB = kbtest.Shop

// stack is an engine with its agent queue on a store.
type stack struct {
	engine *bot.Engine
	queue  *handoff.Queue
	agents *handoff.Agents
}

func newStack(k *kb.KB, st interface {
	bot.Store
	handoff.Store
}) stack {
	engine := bot.NewEngine(k, st, bot.NewBus(), bot.Options{Followup: bot.FollowupOptions{Delay: followupDelay}})
	queue := handoff.NewQueue(st, engine, handoff.Options{ManualAssign: true})
	engine.SetHandoff(queue)
	return stack{engine, queue, handoff.NewAgents(st, handoff.AgentsOptions{})}
}

func say(t testing.TB, e *bot.Engine, conv, text, clientID string) {
	t.Helper()
	if _, err := e.Handle(ctx, bot.Inbound{ConversationID: conv, Text: text, ClientID: clientID}); err != nil {
		t.Fatalf("say %q in %s: %v", text, conv, err)
	}
}

func fillShop(t *testing.T, k *kb.KB) *shop {
	t.Helper()
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := newStack(k, db)
	sh := &shop{db: db, files: filepath.Join(dir, "attachments")}

	ann, err := s.agents.Add(ctx, handoff.NewAgent{Name: "Ann", Email: "Ann@Example.com", Role: handoff.RoleAgent, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.agents.Add(ctx, handoff.NewAgent{Name: "Bob", Email: "bob@example.com", Role: handoff.RoleAdmin, Password: "another good one"}); err != nil {
		t.Fatal(err)
	}
	if sh.token, _, err = s.agents.Login(ctx, "ann@example.com", "correct horse battery", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}

	// A web customer asks, is handed off, claimed, answered, resolved,
	// and asks for a person again: two tickets, one closed, one open.
	web, err := s.engine.Start(ctx, bot.Identity{Channel: bot.Web, ID: "visitor-1"}, bot.Profile{Name: "Wendy", Email: "wendy@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	sh.web = web.Conversation.ID
	say(t, s.engine, sh.web, "How long does delivery take?", "w1")
	say(t, s.engine, sh.web, "I want to talk to a person", "w2")
	if _, err := s.queue.Claim(ctx, sh.web, ann.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.queue.Reply(ctx, bot.AgentMessage{ConversationID: sh.web, AgentID: ann.ID, Text: "Hello Wendy, I am on it."}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.queue.Resolve(ctx, sh.web, ann.ID); err != nil {
		t.Fatal(err)
	}
	say(t, s.engine, sh.web, "Actually, a human please", "w3")

	// A Telegram customer, with the channel's delivery state.
	tg, err := s.engine.Start(ctx, bot.Identity{Channel: bot.Telegram, ID: "4242"}, bot.Profile{Name: "Tom"})
	if err != nil {
		t.Fatal(err)
	}
	sh.tg = tg.Conversation.ID
	say(t, s.engine, sh.tg, "Can I return a gift?", "")
	if err := db.TelegramDone(ctx, 700, [][]byte{[]byte(`{"chat_id":4242,"text":"hi"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := db.TelegramDone(ctx, 701, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TelegramTrack(ctx, sh.tg, 4242); err != nil {
		t.Fatal(err)
	}
	if err := db.TelegramQueue(ctx, sh.tg, 3, [][]byte{[]byte(`{"chat_id":4242,"text":"answer"}`), []byte(`{"chat_id":4242,"text":"more"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := db.TelegramSent(ctx, 1); err != nil { // the first was sent
		t.Fatal(err)
	}
	if err := db.TelegramSetBlocked(ctx, 5151, true); err != nil {
		t.Fatal(err)
	}

	// A verified customer keeps their email address against a visitor
	// who types it later (the file's email index says so; a new act in
	// PostgreSQL would hand it to the newest).
	v, _, err := s.engine.PutVerified(ctx, bot.Verified{ExternalID: "shop-17", Name: "Vera", Email: "vera@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := s.engine.Identify(ctx, bot.Identity{Channel: bot.Web, ID: "visitor-2"}, bot.Verified{ExternalID: "shop-17"})
	if err != nil {
		t.Fatal(err)
	}
	if vs.ID != v.ID {
		t.Fatalf("identify: customer %s, want %s", vs.ID, v.ID)
	}
	vsess, err := s.engine.Start(ctx, bot.Identity{Channel: bot.Web, ID: "visitor-2"}, bot.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	sh.verified = vsess.Conversation.ID
	say(t, s.engine, sh.verified, "Where is my order?", "v1")
	typed, err := s.engine.Start(ctx, bot.Identity{Channel: bot.Web, ID: "visitor-3"}, bot.Profile{Name: "Eve", Email: "VERA@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	sh.typedEmail = typed.Customer.ID
	if c, err := db.CustomerByEmail(ctx, "vera@example.com"); err != nil || c.ID != v.ID {
		t.Fatalf("the file finds vera@ as %v (%v), want the verified %s", c, err, v.ID)
	}
	fillMore(t, s, sh, ann.ID, web.Customer.ID)
	return sh
}

// fillMore adds what the dashboards, links, customer API, webhooks and
// attachments keep: a follow-up scheduled, a link code and a channel
// link, an API key, a webhook event waiting, a file sent in a chat, day
// totals rolled up (one of them only left of a conversation retention
// deleted, which a tally counts) and a conversation changed since.
func fillMore(t *testing.T, s stack, sh *shop, agent, customer string) {
	t.Helper()
	db := sh.db
	fay, err := s.engine.Start(ctx, bot.Identity{Channel: bot.Web, ID: "visitor-4"}, bot.Profile{Name: "Fay"})
	if err != nil {
		t.Fatal(err)
	}
	sh.followup = fay.Conversation.ID
	say(t, s.engine, sh.followup, "I want to talk to a person", "f1")
	if _, err := s.queue.Claim(ctx, sh.followup, agent); err != nil {
		t.Fatal(err)
	}
	if _, err := s.queue.Resolve(ctx, sh.followup, agent); err != nil {
		t.Fatal(err)
	}
	if due, err := db.DueFollowups(ctx, time.Now().Add(2*followupDelay)); err != nil || !slices.Contains(due, sh.followup) {
		t.Fatalf("follow-ups due = %v (%v), want %s's", due, err, sh.followup)
	}

	if sh.linkCode, err = s.engine.CreateLinkCode(ctx, customer); err != nil {
		t.Fatal(err)
	}
	if err := db.SetChannelLink(ctx, bot.Telegram, "https://t.me/shop_bot?start="); err != nil {
		t.Fatal(err)
	}
	key, _, err := bot.NewAPIKey("shop backend", bot.ScopeRead, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(tx bot.Tx) error {
		return tx.(interface{ AppendOutbox([]byte) error }).AppendOutbox([]byte(`{"type":"conversation.closed","conversation":"` + sh.web + `"}`))
	})
	if err != nil {
		t.Fatal(err)
	}

	files, err := attachment.Open(sh.files, attachment.DefaultMaxSize)
	if err != nil {
		t.Fatal(err)
	}
	sh.photo = photo
	if sh.att, err = files.Save(sh.web, "receipt.png", bytes.NewReader(photo)); err != nil {
		t.Fatal(err)
	}

	// A conversation of long ago, rolled up into its day's totals, then
	// deleted by retention: its day total stays, with a tally.
	old := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	err = db.Update(ctx, func(tx bot.Tx) error {
		c := &bot.Conversation{ID: "con_0ld", CustomerID: customer, Channel: bot.Web, State: bot.StateBot, Created: old, Updated: old, LastSeq: 2, Rating: 4}
		if err := tx.PutConversation(c); err != nil {
			return err
		}
		if err := tx.PutMessage(bot.Message{ConversationID: c.ID, Seq: 1, From: bot.FromCustomer, Text: "Do you ship abroad?", Time: old}); err != nil {
			return err
		}
		return tx.PutMessage(bot.Message{ConversationID: c.ID, Seq: 2, From: bot.FromBot, Text: "Yes.", Time: old})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Rollup(ctx); err != nil {
		t.Fatal(err)
	}
	if e, err := db.Expire(ctx, old.Add(24*time.Hour)); err != nil || e.Conversations != 1 {
		t.Fatalf("expire = %+v, %v; want the old conversation deleted", e, err)
	}
	// Changed since the rollup: the file's next rollup adds this.
	say(t, s.engine, sh.verified, "Thanks, and where is the invoice?", "v2")
}

// rawDays reads the day totals as stored, without rolling up.
func rawDays(t *testing.T, db *bolt.DB) map[string]stats.Day {
	t.Helper()
	out := map[string]stats.Day{}
	err := db.Dump(ctx, func(d *bolt.Dump) error {
		return d.StatsDays(func(day string, total stats.Day) error { out[day] = total; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawPGDays reads the day totals of the database as stored, without
// rolling up.
func rawPGDays(t *testing.T, dsn string) map[string]stats.Day {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT day, data FROM stats_days")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]stats.Day{}
	var day string
	var d stats.Day
	_, err = pgx.ForEachRow(rows, []any{&day, &d}, func() error { out[day] = d; d = stats.Day{}; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshot is everything a store holds that the copy must keep, read
// through the store's own methods.
type snapshot struct {
	Customers     map[string]bot.Customer
	ByIdentity    map[string]string
	ByEmail       map[string]string
	Conversations map[string][]bot.Conversation
	Messages      map[string][]bot.Message
	Tickets       map[string]handoff.Ticket
	Open, Closed  []handoff.Ticket
	Agents        []handoff.Agent
	AgentByEmail  map[string]string
	Session       handoff.Session
	TgOffset      int64
	TgChats       []string
	TgOutbox      []string
	TgBlocked     map[int64]bool
	TgSeen        map[int64]bool
	APIKeys       []bot.APIKey
	Webhooks      []string
	ChannelLinks  map[bot.Channel]string
	Due           []string // follow-ups due within two delays
	Tallies       map[string]records.Tally
	Stats         map[string]stats.Day // rolled up
	Attachment    string               // the file, its type and time
}

// more is what both stores serve beside storetest.Store.
type more interface {
	bot.APIKeyStore
	bot.LinkStore
	bot.DueFollowups
	webhook.Store
	Stats(ctx context.Context, from, to time.Time) (map[string]stats.Day, error)
}

func read(t *testing.T, st storetest.Store, sh *shop) snapshot {
	t.Helper()
	token := sh.token
	var s snapshot
	custs, err := st.ListCustomers(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Customers, s.ByIdentity, s.ByEmail = map[string]bot.Customer{}, map[string]string{}, map[string]string{}
	s.Conversations, s.Messages, s.Tickets = map[string][]bot.Conversation{}, map[string][]bot.Message{}, map[string]handoff.Ticket{}
	for _, c := range custs {
		s.Customers[c.ID] = c
		for _, id := range c.Identities {
			var got *bot.Customer
			err := st.View(ctx, func(tx bot.Tx) (err error) { got, err = tx.CustomerByIdentity(id); return err })
			if err != nil {
				t.Fatalf("customer by identity %v: %v", id, err)
			}
			s.ByIdentity[string(id.Channel)+"/"+id.ID] = got.ID
		}
		if c.Email != "" {
			got, err := st.CustomerByEmail(ctx, strings.ToUpper(c.Email))
			if err != nil {
				t.Fatalf("customer by email %s: %v", c.Email, err)
			}
			s.ByEmail[c.Email] = got.ID
		}
		convs, err := st.Conversations(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		s.Conversations[c.ID] = convs
		for _, conv := range convs {
			if s.Messages[conv.ID], err = st.Messages(ctx, conv.ID, 0); err != nil {
				t.Fatal(err)
			}
			switch tk, err := st.Ticket(ctx, conv.ID); {
			case err == nil:
				s.Tickets[conv.ID] = *tk
			case !errors.Is(err, bot.ErrNotFound):
				t.Fatal(err)
			}
		}
	}
	if s.Open, err = st.OpenTickets(ctx); err != nil {
		t.Fatal(err)
	}
	sort.Slice(s.Open, func(i, j int) bool { return s.Open[i].ID < s.Open[j].ID })
	if s.Closed, err = st.ClosedTickets(ctx, time.Time{}, 100); err != nil {
		t.Fatal(err)
	}
	if s.Agents, err = st.Agents(ctx); err != nil {
		t.Fatal(err)
	}
	s.AgentByEmail = map[string]string{}
	for _, a := range s.Agents {
		got, err := st.AgentByEmail(ctx, strings.ToUpper(a.Email))
		if err != nil {
			t.Fatal(err)
		}
		s.AgentByEmail[a.Email] = got.ID
	}
	hash := sha256.Sum256([]byte(token))
	sess, err := st.Session(ctx, hash[:])
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	s.Session = *sess
	if s.TgOffset, err = st.TelegramOffset(ctx); err != nil {
		t.Fatal(err)
	}
	err = st.TelegramChats(ctx, func(conv string, chat, cursor int64) error {
		s.TgChats = append(s.TgChats, fmt.Sprintf("%s %d %d", conv, chat, cursor))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.TelegramOutbox(ctx, func(id uint64, data []byte) error {
		s.TgOutbox = append(s.TgOutbox, fmt.Sprintf("%d %s", id, data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.TgBlocked, s.TgSeen = map[int64]bool{}, map[int64]bool{}
	for _, chat := range []int64{4242, 5151} {
		if s.TgBlocked[chat], err = st.TelegramBlocked(ctx, chat); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []int64{699, 700, 701, 702} {
		if s.TgSeen[u], err = st.TelegramSeen(ctx, u); err != nil {
			t.Fatal(err)
		}
	}

	m := st.(more)
	if s.APIKeys, err = m.APIKeys(ctx); err != nil {
		t.Fatal(err)
	}
	err = m.Outbox(ctx, 0, 0, func(seq uint64, data []byte) { s.Webhooks = append(s.Webhooks, fmt.Sprintf("%d %s", seq, data)) })
	if err != nil {
		t.Fatal(err)
	}
	if s.ChannelLinks, err = m.ChannelLinks(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Due, err = m.DueFollowups(ctx, time.Now().Add(2*followupDelay)); err != nil {
		t.Fatal(err)
	}
	var blobs attachment.Blobs
	switch db := st.(type) {
	case *bolt.DB:
		s.Tallies, err = db.Tallies(ctx)
		if err == nil {
			blobs, err = attachment.OpenDir(sh.files)
		}
	case *postgres.DB:
		blobs = db
		s.Tallies, err = db.Tallies(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	if s.Stats, err = m.Stats(ctx, time.Time{}, time.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	files := attachment.New(blobs, attachment.DefaultMaxSize)
	f, typ, err := files.Open(ctx, sh.web, sh.att.ID)
	if err != nil {
		t.Fatalf("open the attachment: %v", err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, at, err := blobs.Attachment(ctx, sh.web, sh.att.ID)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	s.Attachment = fmt.Sprintf("%s %d bytes %x kept %s", typ, len(data), sum, at.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano))
	return s
}

// TestCopyKeepsEverything fills a bbolt file through the engine, the
// queue and the stores, copies it into PostgreSQL and reads both back
// through their stores: the same records, found the same ways. Then the
// shop goes on in PostgreSQL where it stopped.
func TestCopyKeepsEverything(t *testing.T) {
	k := shopKB(t)
	sh := fillShop(t, k)
	dsn := pgtest.DB(t)
	dst, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()

	// Files of a conversation retention deleted (not yet pruned) and an
	// upload cut short are no attachments of the shop.
	for _, p := range []string{"con_dead/att_1", sh.web + "/.upload-123"} {
		if err := os.MkdirAll(filepath.Join(sh.files, filepath.Dir(p)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sh.files, p), photo, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	rep, err := transfer.Copy(ctx, sh.db, sh.files, dst)
	if err != nil {
		t.Fatal(err)
	}
	// The day totals arrive as they are: the deleted conversation's
	// day, and without the change made since the rollup.
	stored := rawDays(t, sh.db)
	if _, ok := stored["2025-01-10"]; !ok {
		t.Fatalf("the file's day totals %v lack the deleted conversation's day", stored)
	}
	if copied := rawPGDays(t, dsn); !reflect.DeepEqual(copied, stored) {
		t.Errorf("day totals as copied:\nbbolt:      %+v\npostgresql: %+v", stored, copied)
	}
	want := read(t, sh.db, sh)
	got := read(t, dst, sh)
	if len(want.Customers) != 5 || len(want.Messages[sh.web]) < 8 || len(want.Closed) != 2 || len(want.Open) != 1 ||
		len(want.APIKeys) != 1 || len(want.Webhooks) != 1 || len(want.ChannelLinks) != 1 || len(want.Due) != 2 ||
		want.Tallies["2025-01-10"].Conversations != 1 || want.Stats["2025-01-10"].Conversations != 1 {
		t.Fatalf("the shop is not what the test means to copy: %d customers, %d web messages, %d closed and %d open tickets, %d follow-ups due",
			len(want.Customers), len(want.Messages[sh.web]), len(want.Closed), len(want.Open), len(want.Due))
	}
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	for i := range wv.NumField() {
		if !reflect.DeepEqual(wv.Field(i).Interface(), gv.Field(i).Interface()) {
			t.Errorf("%s differ:\nbbolt:      %+v\npostgresql: %+v", wv.Type().Field(i).Name, wv.Field(i).Interface(), gv.Field(i).Interface())
		}
	}
	if got.ByEmail["vera@example.com"] == sh.typedEmail {
		t.Error("vera@example.com finds the customer who typed it, not the verified one")
	}

	// The report counts what the database holds.
	c := rep.Counts
	var msgs int64
	for _, ms := range want.Messages {
		msgs += int64(len(ms))
	}
	if c.Customers != 5 || c.Conversations != 5 || c.Messages != msgs || c.Tickets != 3 || c.OpenTickets != 1 ||
		c.Agents != 2 || c.Sessions != 1 || c.TelegramOffset != 702 || c.TelegramChats != 1 || c.TelegramRequests != 2 ||
		c.TelegramUpdates != 2 || c.TelegramBlocked != 1 || c.MessagesPer[sh.web] != int64(len(want.Messages[sh.web])) ||
		c.LinkCodes != 1 || c.ChannelLinks != 1 || c.Followups != 2 || c.APIKeys != 1 || c.WebhookEvents != 1 ||
		c.StatsDays != int64(len(stored)) || c.StatsContributions != 4 || c.StatsDirty != 1 || c.Tallies != 1 ||
		c.Attachments != 1 || c.AttachmentBytes != int64(len(photo)) {
		t.Errorf("report counts = %+v", c)
	}
	wantLeft := []bolt.Part{{Name: "attachment files of deleted conversations", Records: 1},
		{Name: "entries of the attachments directory that are no attachment (unfinished uploads, other names)", Records: 1}}
	if len(rep.NotCopied) != 0 || !reflect.DeepEqual(rep.LeftOut, wantLeft) {
		t.Errorf("not copied = %+v, left out = %+v; want nothing and %+v", rep.NotCopied, rep.LeftOut, wantLeft)
	}

	// Rolling up again in PostgreSQL changes nothing: each copied
	// conversation is counted once.
	if err := dst.Rollup(ctx); err != nil {
		t.Fatal(err)
	}
	if again, err := dst.Stats(ctx, time.Time{}, time.Now().Add(48*time.Hour)); err != nil || !reflect.DeepEqual(again, want.Stats) {
		t.Errorf("day totals after another rollup = %+v (%v), want %+v", again, err, want.Stats)
	}

	// The shop goes on in PostgreSQL: the agent's session still logs
	// them in, the next message takes the next seq, the queue knows the
	// open ticket, new Telegram requests queue behind the copied ones.
	s := newStack(k, dst)
	a, _, err := s.agents.Authenticate(ctx, sh.token)
	if err != nil || a.Email != "ann@example.com" {
		t.Fatalf("authenticate with the copied session: %v, %v", a, err)
	}
	last := want.Messages[sh.web][len(want.Messages[sh.web])-1].Seq
	m, err := s.engine.Handle(ctx, bot.Inbound{ConversationID: sh.web, Text: "Are you there?", ClientID: "w4"})
	if err != nil || m.Seq != last+1 {
		t.Fatalf("next message = seq %d (%v), want %d", m.Seq, err, last+1)
	}
	if again, err := s.engine.Handle(ctx, bot.Inbound{ConversationID: sh.web, Text: "Actually, a human please", ClientID: "w3"}); err != nil || again.Seq == m.Seq || again.Seq > last {
		t.Errorf("a retry of a copied client id = seq %d (%v), want the copied message's", again.Seq, err)
	}
	if tk, err := s.queue.Claim(ctx, sh.web, a.ID); err != nil || tk.ID != want.Tickets[sh.web].ID {
		t.Errorf("claim the copied open ticket: %+v, %v", tk, err)
	}
	if cust, err := s.engine.RedeemLinkCode(ctx, sh.linkCode, bot.Identity{Channel: bot.Telegram, ID: "8080"}); err != nil || cust.ID != want.Conversations[cust.ID][0].CustomerID {
		t.Errorf("redeem the copied link code: %+v, %v", cust, err)
	}
	err = dst.Update(ctx, func(tx bot.Tx) error {
		return tx.(interface{ AppendOutbox([]byte) error }).AppendOutbox([]byte(`{"type":"next"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	dst.Outbox(ctx, 0, 0, func(seq uint64, _ []byte) { seqs = append(seqs, seq) })
	if copied := want.Webhooks[0]; len(seqs) != 2 || fmt.Sprint(seqs[0]) != copied[:strings.IndexByte(copied, ' ')] || seqs[1] <= seqs[0] {
		t.Errorf("webhook outbox seqs after a new event = %v, want the copied %q's and a later one", seqs, copied)
	}
	if err := dst.TelegramDone(ctx, 702, [][]byte{[]byte("next")}); err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	dst.TelegramOutbox(ctx, func(id uint64, _ []byte) error { ids = append(ids, id); return nil })
	if len(ids) != 3 || ids[0] != 2 || ids[1] != 3 || ids[2] <= 3 {
		t.Errorf("outbox ids after a new request = %v, want 2 3 and a later one", ids)
	}
}

// TestCopyRefusesAShop: a second copy into the same database is refused
// and changes nothing.
func TestCopyRefusesAShop(t *testing.T) {
	sh := fillShop(t, shopKB(t))
	dst, err := postgres.Open(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := transfer.Copy(ctx, sh.db, sh.files, dst); err != nil {
		t.Fatal(err)
	}
	before, err := dst.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = transfer.Copy(ctx, sh.db, sh.files, dst)
	if !errors.Is(err, transfer.ErrNotEmpty) || !strings.Contains(err.Error(), "customers") {
		t.Fatalf("second copy: %v, want ErrNotEmpty naming the customers table", err)
	}
	after, err := dst.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("a refused copy changed the database:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestCopyCutShortLeavesNothing: the copy's connection is killed in the
// middle (as when the machine running migrate dies); the database is
// left empty, and the copy run again succeeds.
func TestCopyCutShortLeavesNothing(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Enough messages that the copy is still writing when it is cut.
	const convs, per = 300, 20
	err = db.Update(ctx, func(tx bot.Tx) error {
		now := time.Now().UTC()
		for i := range convs {
			cust := &bot.Customer{ID: fmt.Sprintf("cus_%03d", i), FirstSeen: now, LastSeen: now}
			if err := tx.PutCustomer(cust); err != nil {
				return err
			}
			c := &bot.Conversation{ID: fmt.Sprintf("con_%03d", i), CustomerID: cust.ID, Channel: bot.Web, State: bot.StateBot, Created: now, Updated: now, LastSeq: per}
			if err := tx.PutConversation(c); err != nil {
				return err
			}
			for seq := int64(1); seq <= per; seq++ {
				m := bot.Message{ConversationID: c.ID, Seq: seq, From: bot.FromCustomer, Text: "message " + base64.StdEncoding.EncodeToString([]byte{byte(seq)}), Time: now}
				if err := tx.PutMessage(m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DB(t)
	dst, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()

	// The killer waits for a transaction that has written, and ends its
	// session.
	killed := make(chan error, 1)
	go func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			killed <- err
			return
		}
		defer conn.Close(ctx)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			var n int
			err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL`).Scan(&n)
			if err != nil || n > 0 {
				killed <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
		killed <- errors.New("no copy to kill within 20 s")
	}()
	_, err = transfer.Copy(ctx, db, "", dst)
	if kerr := <-killed; kerr != nil {
		t.Fatal(kerr)
	}
	if err == nil {
		t.Fatal("the copy succeeded although its connection was killed")
	}
	c, err := dst.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Customers != 0 || c.Conversations != 0 || c.Messages != 0 {
		t.Fatalf("a copy cut short left %+v", c)
	}
	rep, err := transfer.Copy(ctx, db, "", dst)
	if err != nil {
		t.Fatalf("copy again: %v", err)
	}
	if rep.Messages != convs*per || rep.MessagesPer["con_123"] != per {
		t.Errorf("copy again: %d messages, %d in con_123; want %d and %d", rep.Messages, rep.MessagesPer["con_123"], convs*per, per)
	}
}
