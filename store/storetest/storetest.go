// Package storetest is the contract of Frontdesk's stores as tests: the
// behaviour bot.Store, bot.Tx and handoff.Store promise (and the store
// methods the CLI and the console use beside them), run against every
// backend (store/bolt, store/postgres) so the two cannot drift. A backend
// calls Run from a test with a function that opens an empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/adapters/telegram"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// Store is what the suite tests: the interfaces the core declares and the
// methods every backend offers beside them.
type Store interface {
	bot.Store
	handoff.Store
	SaveCustomer(ctx context.Context, c *bot.Customer) error
	CustomerByEmail(ctx context.Context, email string) (*bot.Customer, error)
	UpdateCustomer(ctx context.Context, id string, fn func(*bot.Customer) error) (*bot.Customer, error)
	ListCustomers(ctx context.Context, limit int) ([]bot.Customer, error)
	SaveConversation(ctx context.Context, c *bot.Conversation) error
	Append(ctx context.Context, m bot.Message) (bot.Message, bool, error)
	telegram.Store
	Close() error
}

// Run runs the suite, each test on a store open returns: empty, and
// closed by open's cleanup (Close may be called before).
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"AppendNumbersMessagesAndStoresARetryOnce", appendNumbersAndDedups},
		{"AppendToAnUnknownConversationFails", appendToUnknown},
		{"ConcurrentAppendsAreGapless", concurrentAppends},
		{"SaveConversationNeverLowersLastSeq", saveNeverLowersLastSeq},
		{"ConversationsAreListedNewestFirst", conversationsNewestFirst},
		{"IdentitiesAndEmailFollowTheCustomer", identitiesFollow},
		{"ListCustomersMostRecentFirst", listCustomers},
		{"ConcurrentUpdatesOfACustomerAreAllKept", concurrentCustomerUpdates},
		{"AnActIsAllOrNothing", actAllOrNothing},
		{"ViewIsReadOnly", viewReadOnly},
		{"MessagesInATransaction", txMessages},
		{"AgentEmailsAreUnique", agentEmails},
		{"DeleteSessions", deleteSessions},
		{"UpdateTicket", updateTicket},
		{"ATicketAndItsConversationChangeInOneAct", ticketInAct},
		{"ConcurrentClaimsHaveOneWinner", claimRace},
		{"ClosedTicketsNewestFirst", closedTickets},
		{"TelegramDeliveryState", telegramState},
		{"ClosedStoreSaysSo", closedStore},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

// NewConversation stores a new web conversation of the customer.
func NewConversation(t testing.TB, s Store, customer string) *bot.Conversation {
	t.Helper()
	now := time.Now().UTC()
	c := &bot.Conversation{ID: bot.NewID("con_"), CustomerID: customer, Channel: bot.Web, State: bot.StateBot, Created: now, Updated: now}
	if err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func appendNumbersAndDedups(t *testing.T, s Store) {
	conv := NewConversation(t, s, "cus_1")
	first, dup, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "hello", ClientID: "x"})
	if err != nil || dup || first.Seq != 1 {
		t.Fatalf("first append = %+v dup=%v err=%v", first, dup, err)
	}
	again, dup, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "hello again", ClientID: "x"})
	if err != nil || !dup || again.Seq != 1 || again.Text != "hello" {
		t.Fatalf("retry = %+v dup=%v err=%v, want dup of seq 1", again, dup, err)
	}
	for range 2 {
		if _, dup, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "same"}); err != nil || dup {
			t.Fatalf("append without client id: dup=%v err=%v", dup, err)
		}
	}
	ms, err := s.Messages(ctx, conv.ID, 1)
	if err != nil || len(ms) != 2 || ms[0].Seq != 2 || ms[1].Seq != 3 {
		t.Errorf("messages after 1 = %+v (%v), want seqs 2 and 3", ms, err)
	}
	got, err := s.Conversation(ctx, conv.ID)
	if err != nil || got.LastSeq != 3 || got.Last == nil || got.Last.Text != "same" {
		t.Errorf("conversation after 3 appends = %+v (%v), want LastSeq 3 and the last preview", got, err)
	}
	other := NewConversation(t, s, "cus_2")
	if _, dup, _ := s.Append(ctx, bot.Message{ConversationID: other.ID, Text: "hello", ClientID: "x"}); dup {
		t.Error("a client id was shared across conversations")
	}
	if ms, err := s.Messages(ctx, "con_unknown", 0); err != nil || len(ms) != 0 {
		t.Errorf("messages of an unknown conversation = %v, %v; want none", ms, err)
	}
}

func appendToUnknown(t *testing.T, s Store) {
	_, _, err := s.Append(ctx, bot.Message{ConversationID: "con_nope", Text: "hi"})
	if !errors.Is(err, bot.ErrNotFound) || bot.ErrorCode(err) != bot.CodeNotFound {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	if _, err := s.Conversation(ctx, "con_nope"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("conversation: %v, want ErrNotFound", err)
	}
	if _, err := s.Customer(ctx, "cus_nope"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("customer: %v, want ErrNotFound", err)
	}
}

func concurrentAppends(t *testing.T, s Store) {
	conv := NewConversation(t, s, "cus_1")
	var wg sync.WaitGroup
	seqs := make([]int64, 20)
	for i := range seqs {
		wg.Go(func() {
			m, _, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, Text: fmt.Sprint(i), ClientID: fmt.Sprint(i)})
			if err != nil {
				t.Error(err)
			}
			seqs[i] = m.Seq
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, q := range seqs {
		if q < 1 || q > 20 || seen[q] {
			t.Fatalf("sequence numbers %v are not 1..20 each once", seqs)
		}
		seen[q] = true
	}
	ms, err := s.Messages(ctx, conv.ID, 0)
	if err != nil || len(ms) != 20 {
		t.Fatalf("%d messages stored (%v), want 20", len(ms), err)
	}
	for i, m := range ms {
		if m.Seq != int64(i+1) || m.Text != fmt.Sprint(indexOf(seqs, m.Seq)) {
			t.Errorf("message %d = seq %d %q, out of order or not the one appended", i, m.Seq, m.Text)
		}
	}
}

func indexOf(seqs []int64, seq int64) int {
	for i, q := range seqs {
		if q == seq {
			return i
		}
	}
	return -1
}

func saveNeverLowersLastSeq(t *testing.T, s Store) {
	conv := NewConversation(t, s, "cus_1")
	stale := *conv
	if _, _, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "a"}); err != nil {
		t.Fatal(err)
	}
	stale.State = bot.StateQueued
	if err := s.SaveConversation(ctx, &stale); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Conversation(ctx, conv.ID)
	if got.LastSeq != 1 || got.State != bot.StateQueued {
		t.Errorf("after saving a stale copy: %+v, want LastSeq 1 and the new state", got)
	}
	stale.CustomerID = "cus_other"
	if err := s.SaveConversation(ctx, &stale); err == nil {
		t.Error("a conversation moved to another customer")
	}
	if got, _ := s.Conversation(ctx, conv.ID); got.CustomerID != "cus_1" {
		t.Errorf("the conversation belongs to %s", got.CustomerID)
	}
}

func conversationsNewestFirst(t *testing.T, s Store) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"con_a", "con_c", "con_b"} {
		c := &bot.Conversation{ID: id, CustomerID: "cus_1", Created: base.Add(time.Duration(i) * time.Hour)}
		if err := s.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	NewConversation(t, s, "cus_10") // a customer id that shares a prefix
	cs, err := s.Conversations(ctx, "cus_1")
	if err != nil || len(cs) != 3 || cs[0].ID != "con_b" || cs[1].ID != "con_c" || cs[2].ID != "con_a" {
		t.Errorf("conversations = %+v, %v; want con_b, con_c, con_a", cs, err)
	}
}

func identitiesFollow(t *testing.T, s Store) {
	web := bot.Identity{Channel: bot.Web, ID: "w1"}
	tg := bot.Identity{Channel: bot.Telegram, ID: "42"}
	c := &bot.Customer{ID: "cus_1", Name: "Ana", Email: "Old@Example.com", Identities: []bot.Identity{web},
		Attrs: map[string]string{"plan": "gold"}}
	if err := s.SaveCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CustomerByEmail(ctx, " old@example.COM "); err != nil || got.ID != "cus_1" || got.Attrs["plan"] != "gold" {
		t.Errorf("customer by email in any case = %+v, %v", got, err)
	}
	c.Identities = []bot.Identity{tg}
	c.Email = "new@example.com"
	if err := s.SaveCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CustomerByIdentity(ctx, web); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a released identity still finds the customer: %v", err)
	}
	if _, err := s.CustomerByEmail(ctx, "old@example.com"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the old email still finds the customer: %v", err)
	}
	if got, err := s.CustomerByIdentity(ctx, tg); err != nil || got.ID != "cus_1" || got.Name != "Ana" {
		t.Errorf("new identity: %+v, %v", got, err)
	}
	err := s.SaveCustomer(ctx, &bot.Customer{ID: "cus_2", Identities: []bot.Identity{tg}})
	if !errors.Is(err, bot.ErrIdentityTaken) || bot.ErrorCode(err) != bot.CodeConflict {
		t.Errorf("err = %v, want ErrIdentityTaken", err)
	}
	if got, _ := s.CustomerByIdentity(ctx, tg); got == nil || got.ID != "cus_1" {
		t.Errorf("the identity moved to %+v", got)
	}
	if _, err := s.Customer(ctx, "cus_2"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the refused customer was stored: %v", err)
	}
	// The newest customer to give an address is found by it.
	if err := s.SaveCustomer(ctx, &bot.Customer{ID: "cus_3", Email: "NEW@example.com"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CustomerByEmail(ctx, "new@example.com"); err != nil || got.ID != "cus_3" {
		t.Errorf("shared email finds %+v, %v; want the newest, cus_3", got, err)
	}
}

func listCustomers(t *testing.T, s Store) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"cus_a", "cus_b", "cus_c"} {
		if err := s.SaveCustomer(ctx, &bot.Customer{ID: id, LastSeen: base.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.ListCustomers(ctx, 2)
	if err != nil || len(cs) != 2 || cs[0].ID != "cus_c" || cs[1].ID != "cus_b" {
		t.Errorf("list = %+v, %v", cs, err)
	}
}

func concurrentCustomerUpdates(t *testing.T, s Store) {
	if err := s.SaveCustomer(ctx, &bot.Customer{ID: "cus_1", Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := s.UpdateCustomer(ctx, "cus_1", func(c *bot.Customer) error {
				c.Tags = append(c.Tags, fmt.Sprint(i))
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c, err := s.UpdateCustomer(ctx, "cus_1", func(c *bot.Customer) error { c.Email = "b@example.com"; return nil })
	if err != nil || len(c.Tags) != 20 {
		t.Fatalf("after 20 concurrent updates: %+v, %v; want 20 tags", c, err)
	}
	if got, err := s.Customer(ctx, "cus_1"); err != nil || len(got.Tags) != 20 {
		t.Fatalf("stored after 20 concurrent updates: %+v, %v; want 20 tags", got, err)
	}
	if got, err := s.CustomerByEmail(ctx, "b@example.com"); err != nil || got.ID != "cus_1" {
		t.Errorf("the email index did not follow an update: %v", err)
	}
	if _, err := s.UpdateCustomer(ctx, "cus_nope", func(*bot.Customer) error { return nil }); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("update of an unknown customer: %v", err)
	}
}

func actAllOrNothing(t *testing.T, s Store) {
	conv := NewConversation(t, s, "cus_1")
	boom := errors.New("boom")
	ran := false
	err := s.Update(ctx, func(tx bot.Tx) error {
		c, err := tx.Conversation(conv.ID)
		if err != nil {
			return err
		}
		if err := tx.PutMessage(bot.Message{ConversationID: conv.ID, Seq: c.LastSeq + 1, Text: "lost"}); err != nil {
			return err
		}
		c.LastSeq++
		if err := tx.PutConversation(c); err != nil {
			return err
		}
		if err := tx.PutCustomer(&bot.Customer{ID: "cus_1", Name: "lost"}); err != nil {
			return err
		}
		tx.OnCommit(func() { ran = true })
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update = %v, want the act's error", err)
	}
	if ran {
		t.Error("a failed act's OnCommit ran")
	}
	if ms, _ := s.Messages(ctx, conv.ID, 0); len(ms) != 0 {
		t.Errorf("a failed act stored messages %+v", ms)
	}
	if c, _ := s.Conversation(ctx, conv.ID); c.LastSeq != 0 {
		t.Errorf("a failed act moved LastSeq to %d", c.LastSeq)
	}
	if _, err := s.Customer(ctx, "cus_1"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a failed act stored a customer: %v", err)
	}

	// A successful act: its OnCommit functions run, in order, before
	// Update returns, and its reads see its own writes.
	var order []int
	err = s.Update(ctx, func(tx bot.Tx) error {
		order = order[:0]
		if err := tx.PutMessage(bot.Message{ConversationID: conv.ID, Seq: 1, Text: "kept"}); err != nil {
			return err
		}
		if ms, err := tx.Messages(conv.ID, 0, 0); err != nil || len(ms) != 1 {
			return fmt.Errorf("the act does not see its own message: %v, %v", ms, err)
		}
		if err := tx.PutMessage(bot.Message{ConversationID: conv.ID, Seq: 1, Text: "again"}); err == nil {
			return errors.New("a taken seq was written again")
		}
		tx.OnCommit(func() { order = append(order, 1) })
		tx.OnCommit(func() { order = append(order, 2) })
		return nil
	})
	if err != nil || len(order) != 2 || order[0] != 1 || order[1] != 2 {
		t.Errorf("update = %v, OnCommit ran %v; want nil and [1 2]", err, order)
	}
}

func viewReadOnly(t *testing.T, s Store) {
	conv := NewConversation(t, s, "cus_1")
	err := s.View(ctx, func(tx bot.Tx) error {
		c, err := tx.Conversation(conv.ID)
		if err != nil {
			return err
		}
		if err := tx.PutConversation(c); err == nil {
			return errors.New("a view stored a conversation")
		}
		if err := tx.PutCustomer(&bot.Customer{ID: "cus_x"}); err == nil {
			return errors.New("a view stored a customer")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Customer(ctx, "cus_x"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a view's write was kept: %v", err)
	}
}

func txMessages(t *testing.T, s Store) {
	conv := NewConversation(t, s, "cus_1")
	for i := range 5 {
		if _, _, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, Text: fmt.Sprint(i), ClientID: fmt.Sprint("c", i)}); err != nil {
			t.Fatal(err)
		}
	}
	err := s.View(ctx, func(tx bot.Tx) error {
		ms, err := tx.Messages(conv.ID, 1, 2)
		if err != nil || len(ms) != 2 || ms[0].Seq != 2 || ms[1].Seq != 3 {
			return fmt.Errorf("messages after 1, at most 2 = %+v, %v", ms, err)
		}
		m, err := tx.MessageByClientID(conv.ID, "c3")
		if err != nil || m.Seq != 4 || m.Text != "3" {
			return fmt.Errorf("message by client id = %+v, %v", m, err)
		}
		if _, err := tx.MessageByClientID(conv.ID, "nope"); !errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("unknown client id: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func closedStore(t *testing.T, s Store) {
	s.Close()
	if _, err := s.Customer(ctx, "x"); !errors.Is(err, bot.ErrClosed) {
		t.Errorf("read after close: %v, want ErrClosed", err)
	}
	if err := s.Update(ctx, func(bot.Tx) error { return nil }); !errors.Is(err, bot.ErrClosed) {
		t.Errorf("update after close: %v, want ErrClosed", err)
	}
}
