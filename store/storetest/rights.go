package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/records"
)

// exported is a customer export, read through its JSON (the format is
// the contract: store/bolt's and store/postgres's are the same).
type exported struct {
	Format          string         `json:"format"`
	Customer        bot.Customer   `json:"customer"`
	LinkedCustomers []bot.Customer `json:"linked_customers"`
	Conversations   []struct {
		bot.Conversation
		Messages []bot.Message    `json:"messages"`
		Tickets  []handoff.Ticket `json:"tickets"`
	} `json:"conversations"`
	Ratings []struct {
		ConversationID string `json:"conversation_id"`
		Rating         int    `json:"rating"`
		Comment        string `json:"comment"`
	} `json:"ratings"`
}

func exportOf(t *testing.T, s Records, id string) (exported, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := s.ExportCustomer(ctx, id, &buf); err != nil {
		t.Fatal(err)
	}
	var e exported
	if err := json.Unmarshal(buf.Bytes(), &e); err != nil {
		t.Fatalf("the export is not JSON: %v", err)
	}
	return e, buf.String()
}

func export(t *testing.T, s Records, _ func() []byte) {
	SeedPerson(t, s, zelda)
	SeedPerson(t, s, otto)
	exp, text := exportOf(t, s, zelda.ID)
	if exp.Format != "frontdesk-customer-export/1" || exp.Customer.Name != zelda.Name || exp.Customer.Email != zelda.Email || len(exp.Customer.Identities) != 1 {
		t.Errorf("profile: %+v (format %q)", exp.Customer, exp.Format)
	}
	if exp.LinkedCustomers == nil || len(exp.LinkedCustomers) != 0 {
		t.Errorf("linked customers %v, want an empty list", exp.LinkedCustomers)
	}
	if len(exp.Conversations) != 1 {
		t.Fatalf("%d conversations, want 1", len(exp.Conversations))
	}
	c := exp.Conversations[0]
	if n := 2*zelda.Messages + 1; len(c.Messages) != n || c.Messages[0].Seq != 1 || !strings.Contains(c.Messages[0].Text, zelda.Sentence) || !c.Messages[n-1].Internal {
		t.Errorf("messages: %d (want %d), first %+v", len(c.Messages), n, c.Messages[0])
	}
	if len(c.Tickets) != 1 || c.Tickets[0].ID != "tkt_"+zelda.ID {
		t.Errorf("tickets: %+v", c.Tickets)
	}
	if len(exp.Ratings) != 1 || exp.Ratings[0].Comment != zelda.Comment || exp.Ratings[0].Rating != 4 || exp.Ratings[0].ConversationID != c.ID {
		t.Errorf("ratings: %+v", exp.Ratings)
	}
	if strings.Contains(text, otto.Sentence) || strings.Contains(text, otto.Email) {
		t.Error("the export holds another customer's data")
	}
	var buf bytes.Buffer
	if err := s.ExportCustomer(ctx, "cus_nobody", &buf); !errors.Is(err, bot.ErrNotFound) || buf.Len() > 0 {
		t.Errorf("unknown customer: %v, %d bytes written", err, buf.Len())
	}
}

func forget(t *testing.T, s Records, raw func() []byte) {
	SeedPerson(t, s, zelda)
	SeedPerson(t, s, otto)
	// Zelda also wrote on Telegram, which knows her chat; the bot was
	// blocked there once; webhook events about both wait in the outbox;
	// where the store keeps files, she sent one.
	const chat = 4242
	if _, err := s.UpdateCustomer(ctx, zelda.ID, func(c *bot.Customer) error {
		c.Identities = append(c.Identities, bot.Identity{Channel: bot.Telegram, ID: "4242"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TelegramTrack(ctx, "con_"+zelda.ID, chat); err != nil {
		t.Fatal(err)
	}
	if err := s.TelegramSetBlocked(ctx, chat, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TelegramTrack(ctx, "con_"+otto.ID, 77); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, func(tx bot.Tx) error {
		for _, d := range []string{
			`{"key":"con_cus_zelda","body":"{\"customer_id\":\"cus_zelda\",\"text\":\"` + zelda.Sentence + `\"}"}`,
			`{"key":"customer:cus_zelda","customer_id":"cus_zelda"}`,
			`{"key":"con_cus_otto","body":"{\"customer_id\":\"cus_otto\"}"}`,
		} {
			if err := tx.(appender).AppendOutbox([]byte(d)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Person{zelda, otto} {
		if err := s.PutLinkCode(ctx, "code-of-"+p.ID, bot.LinkCode{CustomerID: p.ID, Expires: time.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	secret := []byte("\x89PNG " + zelda.Sentence + " in a photo")
	blobs, haveBlobs := any(s).(attachment.Blobs)
	if haveBlobs {
		if err := blobs.PutAttachment(ctx, "con_"+zelda.ID, "att_01", secret); err != nil {
			t.Fatal(err)
		}
		if err := blobs.PutAttachment(ctx, "con_"+otto.ID, "att_02", []byte("otto's file")); err != nil {
			t.Fatal(err)
		}
	}
	secrets := []string{zelda.Sentence, zelda.Name, zelda.Email, zelda.Comment, "hash-of-cus_zelda"}
	for _, sec := range secrets {
		if !bytes.Contains(raw(), []byte(sec)) {
			t.Fatalf("before forget the store does not hold %q as raw bytes: the test would prove nothing", sec)
		}
	}

	erased, err := s.ForgetCustomer(ctx, zelda.ID)
	if err != nil {
		t.Fatal(err)
	}
	msgs := 2*zelda.Messages + 1
	if want := (bot.Erased{Customers: 1, Conversations: 1, Messages: msgs}); erased != want {
		t.Errorf("erased %+v, want %+v", erased, want)
	}
	after := raw()
	for _, sec := range secrets {
		if bytes.Contains(after, []byte(sec)) {
			t.Errorf("after forget the store still holds %q", sec)
		}
	}
	t.Run("the customer is gone from every index", func(t *testing.T) {
		if _, err := s.Customer(ctx, zelda.ID); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("customer: %v", err)
		}
		if _, err := s.CustomerByEmail(ctx, zelda.Email); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("by email: %v", err)
		}
		for _, id := range []bot.Identity{{Channel: bot.Web, ID: "hash-of-cus_zelda"}, {Channel: bot.Telegram, ID: "4242"}} {
			if _, err := s.CustomerByIdentity(ctx, id); !errors.Is(err, bot.ErrNotFound) {
				t.Errorf("by %s identity: %v", id.Channel, err)
			}
		}
		if _, err := s.Conversation(ctx, "con_cus_zelda"); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("conversation: %v", err)
		}
		if ms, err := s.Messages(ctx, "con_cus_zelda", 0); err != nil || len(ms) > 0 {
			t.Errorf("messages: %d, %v", len(ms), err)
		}
		if _, err := s.Ticket(ctx, "con_cus_zelda"); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("ticket: %v", err)
		}
		if _, _, err := s.TelegramChat(ctx, "con_cus_zelda"); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("telegram chat: %v", err)
		}
		if _, err := s.TakeLinkCode(ctx, "code-of-cus_zelda"); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("link code: %v", err)
		}
		if b, err := s.TelegramBlocked(ctx, chat); err != nil || b {
			t.Errorf("telegram block mark: %v, %v", b, err)
		}
		if haveBlobs {
			if _, _, err := blobs.Attachment(ctx, "con_cus_zelda", "att_01"); bot.ErrorCode(err) != bot.CodeNotFound {
				t.Errorf("attachment: %v, want not found", err)
			}
		}
	})
	t.Run("nothing about the customer is sent afterwards", func(t *testing.T) {
		recs := readOutbox(t, s, 0, 0)
		if len(recs) != 1 || !strings.Contains(recs[0].data, "cus_otto") {
			t.Errorf("outbox %+v, want only otto's event", recs)
		}
	})
	t.Run("anonymous counts remain", func(t *testing.T) {
		got := tallies(t, s)["2026-03-01"]
		want := records.Tally{Conversations: 1, Messages: msgs, Handoffs: 1, Ratings: map[string]int{"4": 1}}
		if len(got.Ratings) != 1 || got.Ratings["4"] != 1 || got.Conversations != want.Conversations ||
			got.Messages != want.Messages || got.Handoffs != want.Handoffs {
			t.Errorf("tally %+v, want %+v", got, want)
		}
	})
	t.Run("the other customer keeps everything", func(t *testing.T) {
		ms, err := s.Messages(ctx, "con_cus_otto", 0)
		if err != nil || len(ms) != msgs {
			t.Fatalf("otto's messages: %d, %v", len(ms), err)
		}
		if c, err := s.CustomerByEmail(ctx, otto.Email); err != nil || c.Name != otto.Name {
			t.Errorf("otto: %+v, %v", c, err)
		}
		if tk, err := s.Ticket(ctx, "con_cus_otto"); err != nil || tk.ID != "tkt_cus_otto" {
			t.Errorf("otto's ticket: %+v, %v", tk, err)
		}
		if lc, err := s.TakeLinkCode(ctx, "code-of-cus_otto"); err != nil || lc.CustomerID != otto.ID {
			t.Errorf("otto's link code: %+v, %v", lc, err)
		}
		if ch, _, err := s.TelegramChat(ctx, "con_cus_otto"); err != nil || ch != 77 {
			t.Errorf("otto's chat: %d, %v", ch, err)
		}
		if haveBlobs {
			if _, _, err := blobs.Attachment(ctx, "con_cus_otto", "att_02"); err != nil {
				t.Errorf("otto's attachment: %v", err)
			}
		}
		if !bytes.Contains(after, []byte(otto.Sentence)) || !bytes.Contains(after, []byte(otto.Email)) {
			t.Error("otto's text went too")
		}
		if _, _, err := s.Append(ctx, bot.Message{ConversationID: "con_cus_otto", From: bot.FromCustomer, Text: "still there?"}); err != nil {
			t.Error(err)
		}
	})
	t.Run("forgetting again finds nobody", func(t *testing.T) {
		if _, err := s.ForgetCustomer(ctx, zelda.ID); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("second forget: %v, want ErrNotFound", err)
		}
	})
}

func forgetLinked(t *testing.T, s Records, raw func() []byte) {
	SeedPerson(t, s, zelda)
	old := otto // say Otto's record was Zelda's Telegram history, linked into her
	old.ID = "cus_zelda_tg"
	SeedPerson(t, s, old)
	bystander := otto
	bystander.ID, bystander.Sentence, bystander.Email = "cus_other", "a bystander's own words", "other@example.com"
	SeedPerson(t, s, bystander)
	link := func(id, k, v string) {
		if _, err := s.UpdateCustomer(ctx, id, func(c *bot.Customer) error {
			if c.Attrs == nil {
				c.Attrs = map[string]string{}
			}
			c.Attrs[k] = v
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	link(old.ID, bot.AttrMergedInto, zelda.ID)
	// cus_other is named as linked, but was never merged into Zelda: it
	// stays hers to keep.
	link(zelda.ID, bot.AttrLinkedFrom, old.ID+", cus_other, cus_gone")

	exp, _ := exportOf(t, s, zelda.ID)
	if len(exp.LinkedCustomers) != 1 || exp.LinkedCustomers[0].ID != old.ID || len(exp.Conversations) != 2 {
		t.Errorf("export: linked %+v, %d conversations; want %s and 2", exp.LinkedCustomers, len(exp.Conversations), old.ID)
	}
	erased, err := s.ForgetCustomer(ctx, zelda.ID)
	if err != nil {
		t.Fatal(err)
	}
	if erased.Customers != 2 || erased.Conversations != 2 {
		t.Errorf("erased %+v, want both records and both conversations", erased)
	}
	after := raw()
	for _, sec := range []string{zelda.Sentence, old.Sentence, old.Email} {
		if bytes.Contains(after, []byte(sec)) {
			t.Errorf("the store still holds %q", sec)
		}
	}
	if _, err := s.Customer(ctx, "cus_other"); err != nil || !bytes.Contains(after, []byte(bystander.Sentence)) {
		t.Errorf("a customer not merged into Zelda was erased: %v", err)
	}
}

func forgetInHandoff(t *testing.T, s Records, _ func() []byte) {
	for _, state := range []bot.State{bot.StateAgent, bot.StateQueued} {
		p := zelda
		p.ID, p.State, p.Messages = "cus_"+string(state), state, 2
		SeedPerson(t, s, p)
		_, err := s.ForgetCustomer(ctx, p.ID)
		if !errors.Is(err, bot.ErrInHandoff) {
			t.Fatalf("%s: got %v, want ErrInHandoff", state, err)
		}
		if ms, err := s.Messages(ctx, "con_"+p.ID, 0); err != nil || len(ms) != 5 {
			t.Errorf("%s: something was erased: %d messages, %v", state, len(ms), err)
		}
		if _, err := s.Customer(ctx, p.ID); err != nil {
			t.Errorf("%s: the customer was erased: %v", state, err)
		}
	}
	// A conversation back with the bot whose ticket is still open waits
	// for a Person too.
	p := otto
	p.Messages = 1
	SeedPerson(t, s, p)
	if _, err := s.UpdateTicket(ctx, "con_"+p.ID, func(tk *handoff.Ticket) error {
		tk.ID, tk.ConversationID, tk.CustomerID, tk.Status = "tkt_again", "con_"+p.ID, p.ID, handoff.StatusQueued
		tk.Created, tk.QueuedAt = time.Now(), time.Now()
		tk.ClosedAt, tk.ResolvedAt = time.Time{}, time.Time{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ForgetCustomer(ctx, p.ID); !errors.Is(err, bot.ErrInHandoff) {
		t.Errorf("with an open ticket: %v, want ErrInHandoff", err)
	}
	if _, err := s.ForgetCustomer(ctx, "cus_nobody"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("unknown customer: %v, want ErrNotFound", err)
	}
}
