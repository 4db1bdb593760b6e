package storetest

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/adapters/webhook"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/records"
)

// Records is what RunRecords tests beside Store: the state frontdesk
// serve keeps besides chats and the queue (API keys, the webhook outbox,
// link codes),
// the data rights (export, erasure), retention and the readiness check.
type Records interface {
	Store
	bot.APIKeyStore
	bot.LinkStore
	webhook.Store
	OutboxLen(ctx context.Context) (int, error)
	ExportCustomer(ctx context.Context, id string, w io.Writer) error
	ForgetCustomer(ctx context.Context, id string) (bot.Erased, error)
	Expire(ctx context.Context, before time.Time) (bot.Erased, error)
	Tallies(ctx context.Context) (map[string]records.Tally, error)
	Ping(ctx context.Context) error
}

// Opener opens an empty store for a test (closed by the opener's
// cleanup, Close may be called before) and returns with it raw, which
// returns everything the store keeps as bytes (a file as it is on disk,
// every row of every table), so that a test can look for text that must
// be gone.
type Opener func(t *testing.T) (s Records, raw func() []byte)

// RunRecords runs the records' part of the contract on stores open
// returns.
func RunRecords(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s Records, raw func() []byte)
	}{
		{"APIKeysAreKeptListedOldestFirstAndRevoked", apiKeys},
		{"TheOutboxIsWrittenWithTheAct", outboxInAct},
		{"TheOutboxIsReadInPagesAndUpdated", outboxPages},
		{"ExportHoldsEverythingAboutTheCustomer", export},
		{"ForgetLeavesNoTraceOfTheCustomer", forget},
		{"ForgetTakesTheRecordsLinkedIntoTheCustomer", forgetLinked},
		{"ForgetRefusesWhilePeopleHaveAConversation", forgetInHandoff},
		{"ExpireDeletesOnlyOldConversationsNobodyHandles", expire},
		{"ExpireDeletesManyInBoundedActs", expireMany},
		{"PingAnswersUntilClosed", ping},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, raw := open(t)
			tc.fn(t, s, raw)
		})
	}
}

func tallies(t *testing.T, s Records) map[string]records.Tally {
	t.Helper()
	out, err := s.Tallies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Person is a customer to seed: what they are called and what they
// wrote, so that a test can look for it afterwards.
type Person struct {
	ID, Name, Email, Sentence, Comment string
	State                              bot.State // of the conversation; "" is the bot
	At                                 time.Time // when the conversation started
	Messages                           int       // customer messages, each answered by the bot
}

// SeedPerson stores p as a customer with one conversation: the customer's
// messages (each carrying the sentence) appended one act at a time, as a
// chat does; bot replies, an agent's private note naming them, a ticket
// (closed unless p.State is with people), a survey rating with a
// comment. It returns the conversation id.
func SeedPerson(t *testing.T, s Store, p Person) string {
	t.Helper()
	if p.At.IsZero() {
		p.At = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	}
	if p.State == "" {
		p.State = bot.StateBot
	}
	cust := &bot.Customer{ID: p.ID, Identities: []bot.Identity{{Channel: bot.Web, ID: "hash-of-" + p.ID}},
		FirstSeen: p.At, LastSeen: p.At}
	if err := s.SaveCustomer(ctx, cust); err != nil {
		t.Fatal(err)
	}
	conv := &bot.Conversation{ID: "con_" + p.ID, CustomerID: p.ID, Channel: bot.Web, State: bot.StateBot, Created: p.At, Updated: p.At}
	if err := s.SaveConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	at := p.At
	for i := range p.Messages {
		at = at.Add(time.Minute)
		if _, _, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromCustomer, ClientID: fmt.Sprint("c", i),
			Text: fmt.Sprintf("%s (message %d)", p.Sentence, i), Time: at}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromBot, Text: "Standard delivery takes 2 to 4 working days.", Time: at}); err != nil {
			t.Fatal(err)
		}
		if i == min(3, p.Messages-1) {
			if _, err := s.UpdateCustomer(ctx, p.ID, func(c *bot.Customer) error {
				c.Name, c.Email = p.Name, p.Email
				c.Topics = []bot.Topic{{ArticleID: "delivery-times", Title: "Delivery times", At: at}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromAgent, Agent: "agt_1", Internal: true,
		Text: "Note: " + p.Name + " is a regular, " + p.Email, Time: at}); err != nil {
		t.Fatal(err)
	}
	ticket := handoff.Ticket{ID: "tkt_" + p.ID, ConversationID: conv.ID, CustomerID: p.ID, Reason: "requested",
		Status: handoff.StatusQueued, Tier: 1, Created: at, QueuedAt: at}
	if p.State == bot.StateBot || p.State == bot.StateClosed {
		ticket.Status, ticket.ClosedAt, ticket.ResolvedAt = handoff.StatusResolved, at, at
	}
	if _, err := s.UpdateTicket(ctx, conv.ID, func(tk *handoff.Ticket) error { *tk = ticket; return nil }); err != nil {
		t.Fatal(err)
	}
	c, err := s.Conversation(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.State, c.Rating, c.RatingComment, c.SurveyState = p.State, 4, p.Comment, "done"
	if p.State == bot.StateAgent {
		c.Agent = "agt_1"
	}
	if err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	return conv.ID
}

var (
	zelda = Person{ID: "cus_zelda", Name: "Zelda Quarrington", Email: "zelda.q@example.org", Messages: 6,
		Sentence: "my violet lampshade from the Wexford warehouse arrived in three pieces",
		Comment:  "Quarrington family thanks you kindly"}
	otto = Person{ID: "cus_otto", Name: "Otto Brandvold", Email: "otto.b@example.net", Messages: 6,
		Sentence: "the brass floor lamp flickers whenever the kettle boils"}
)
