package main

import (
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/store/bolt"
	"github.com/frontdesk/frontdesk/store/postgres"
)

// secret is the password the tests put in --to URLs: it must never be
// printed.
const secret = "hunter2-s3cret"

// TestMigrateRefusesWhatIsNotAPostgresURL: usage errors (exit 2) that
// never repeat the URL, which may hold a password.
func TestMigrateRefusesWhatIsNotAPostgresURL(t *testing.T) {
	file := filepath.Join(t.TempDir(), "frontdesk.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "--from", file}, "migrate needs --to"},
		{[]string{"migrate", "--from", file, "--to", "mysql://shop:" + secret + "@db/shop"}, "got a mysql: URL"},
		{[]string{"migrate", "--from", file, "--to", "host=db user=shop password=" + secret}, "want a postgres:// URL"},
		{[]string{"migrate", "--from", file, "--to", "shop:" + secret + "@db/shop"}, "want a postgres:// URL"},
		{[]string{"migrate", file, "--to", "postgres://db/shop"}, "the file goes with --from"},
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			out, errOut, err := runCmd(t, tc.args...)
			if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a usage error with %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error()+out+errOut, secret) {
				t.Errorf("the password was printed: %v\n%s%s", err, out, errOut)
			}
		})
	}
}

// withPassword returns dsn with secret as its password (the test server
// trusts local connections, so it is never checked).
func withPassword(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), secret)
	return u.String()
}

// fillDataDir stores, through the stores, a customer with a conversation
// handed off to an agent, a Telegram chat and an API key, and an
// attachment file beside the database.
func fillDataDir(t *testing.T, dir string) (conv string) {
	t.Helper()
	ctx := context.Background()
	db, err := bolt.Open(filepath.Join(dir, "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	agents := handoff.NewAgents(db, handoff.AgentsOptions{})
	ann, err := agents.Add(ctx, handoff.NewAgent{Name: "Ann", Email: "ann@example.com", Role: handoff.RoleAgent, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	engine := bot.NewEngine(nil, db, bot.NewBus(), bot.Options{})
	queue := handoff.NewQueue(db, engine, handoff.Options{ManualAssign: true})
	engine.SetHandoff(queue)
	s, err := engine.Start(ctx, bot.Identity{Channel: bot.Telegram, ID: "31337"}, bot.Profile{Name: "Tom", Email: "tom@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	conv = s.Conversation.ID
	if _, err := engine.Handle(ctx, bot.Inbound{ConversationID: conv, Text: "I need a person please"}); err != nil {
		t.Fatal(err)
	}
	if _, err := queue.Claim(ctx, conv, ann.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := queue.Reply(ctx, bot.AgentMessage{ConversationID: conv, AgentID: ann.ID, Text: "Hi Tom, Ann here."}); err != nil {
		t.Fatal(err)
	}
	if err := db.TelegramDone(ctx, 41, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TelegramTrack(ctx, conv, 31337); err != nil {
		t.Fatal(err)
	}
	key, _, err := bot.NewAPIKey("shop backend", bot.ScopeRead, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	att := filepath.Join(attachmentsDir(dir), conv)
	if err := os.MkdirAll(att, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(att, "att_1"), []byte("a photo"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Left by a conversation deleted before its files were pruned.
	if err := os.MkdirAll(filepath.Join(attachmentsDir(dir), "con_dead"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(attachmentsDir(dir), "con_dead", "att_2"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	return conv
}

// TestMigrateCopiesAStoppedShopOnce: refused while serve runs on the data
// directory; once it stops, the copy lands in PostgreSQL with what it
// copied and what it did not printed; a second run is refused with how to
// start over. The password is never printed.
func TestMigrateCopiesAStoppedShopOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	conv := fillDataDir(t, dir)
	dsn := pgtest.DB(t)
	to := withPassword(t, dsn)
	from := filepath.Join(dir, "frontdesk.db")

	_, stop := serveStoppableIn(t, dir)
	out, errOut, err := runCmd(t, "migrate", "--from", from, "--to", to)
	if err == nil || errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "frontdesk serve") {
		t.Fatalf("migrate while serve runs: %v, want a refusal naming serve", err)
	}
	if strings.Contains(err.Error()+out+errOut, secret) {
		t.Errorf("the password was printed: %v\n%s%s", err, out, errOut)
	}
	stop()

	out, errOut, err = runCmd(t, "migrate", "--from", from, "--to", to)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut)
	}
	t.Logf("migrate printed:\n%s", out)
	for _, want := range []string{
		"customers       1 (1 channel identity, 1 email address)",
		"conversations   1, with ",
		"tickets         1 (1 open)",
		"agents          1, with 0 sessions",
		"Telegram        offset 42, 1 chat, 0 queued requests, 1 handled update, 0 blocked chats",
		"attachments     1 file, 7 bytes (each file's size and SHA-256 checked)",
		"API keys        1\n",
		"left out, as belonging to nothing the file still holds: attachment files of deleted conversations (1)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, secret) {
		t.Errorf("the password was printed:\n%s%s", out, errOut)
	}
	if strings.Contains(out, "not copied yet") {
		t.Errorf("a current file left parts behind:\n%s", out)
	}

	// What PostgreSQL holds is the shop: the conversation, owned by Ann,
	// its messages, its open ticket.
	ctx := context.Background()
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	c, err := pg.Conversation(ctx, conv)
	if err != nil || c.State != bot.StateAgent || c.Agent == "" {
		t.Fatalf("copied conversation = %+v (%v), want Ann's", c, err)
	}
	msgs, err := pg.Messages(ctx, conv, 0)
	if err != nil || int64(len(msgs)) != c.LastSeq || msgs[len(msgs)-1].Text != "Hi Tom, Ann here." {
		t.Errorf("copied messages = %d (%v), LastSeq %d", len(msgs), err, c.LastSeq)
	}
	if tk, err := pg.Ticket(ctx, conv); err != nil || tk.Agent != c.Agent || !tk.Open() {
		t.Errorf("copied ticket = %+v (%v)", tk, err)
	}
	if keys, err := pg.APIKeys(ctx); err != nil || len(keys) != 1 || keys[0].Name != "shop backend" {
		t.Errorf("copied API keys = %+v (%v)", keys, err)
	}
	if f, _, err := pg.Attachment(ctx, conv, "att_1"); err != nil {
		t.Errorf("copied attachment: %v", err)
	} else if data, _ := io.ReadAll(f); string(data) != "a photo" {
		t.Errorf("copied attachment = %q", data)
	}
	if !regexp.MustCompile(`in \d+\.\d\d s`).MatchString(out) {
		t.Errorf("output does not say how long it took:\n%s", out)
	}

	_, errOut, err = runCmd(t, "migrate", "--from", from, "--to", to)
	if err == nil || !strings.Contains(err.Error(), "already holds a shop") || !strings.Contains(err.Error(), "dropdb") {
		t.Fatalf("second migrate: %v, want a refusal saying how to empty the database", err)
	}
	t.Logf("the second migrate said: %v", err)
	if strings.Contains(err.Error()+errOut, secret) {
		t.Errorf("the password was printed: %v", err)
	}
	if n, err := pg.Counts(ctx); err != nil || n.Customers != 1 || n.Messages != int64(len(msgs)) {
		t.Errorf("after the refused run the database holds %+v (%v)", n, err)
	}
}

// TestMigrateNeedsTheFile: a --from that does not exist is an error, and
// no database is made there.
func TestMigrateNeedsTheFile(t *testing.T) {
	from := filepath.Join(t.TempDir(), "data", "frontdesk.db")
	_, _, err := runCmd(t, "migrate", "--from", from, "--to", "postgres://shop:"+secret+"@127.0.0.1:1/shop")
	if err == nil || !strings.Contains(err.Error(), "no database to copy") || strings.Contains(err.Error(), secret) {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(from); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("migrate made %s: %v", from, err)
	}
}
