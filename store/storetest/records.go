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

// person is a customer to seed: what they are called and what they
// wrote, so that a test can look for it afterwards.
type person struct {
	id, name, email, sentence, comment string
	state                              bot.State // of the conversation; "" is the bot
	at                                 time.Time // when the conversation started
	messages                           int       // customer messages, each answered by the bot
}

// seedPerson stores p as a customer with one conversation: the customer's
// messages (each carrying the sentence) appended one act at a time, as a
// chat does; bot replies, an agent's private note naming them, a ticket
// (closed unless p.state is with people), a survey rating with a
// comment. It returns the conversation id.
func seedPerson(t *testing.T, s Store, p person) string {
	t.Helper()
	if p.at.IsZero() {
		p.at = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	}
	if p.state == "" {
		p.state = bot.StateBot
	}
	cust := &bot.Customer{ID: p.id, Identities: []bot.Identity{{Channel: bot.Web, ID: "hash-of-" + p.id}},
		FirstSeen: p.at, LastSeen: p.at}
	if err := s.SaveCustomer(ctx, cust); err != nil {
		t.Fatal(err)
	}
	conv := &bot.Conversation{ID: "con_" + p.id, CustomerID: p.id, Channel: bot.Web, State: bot.StateBot, Created: p.at, Updated: p.at}
	if err := s.SaveConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	at := p.at
	for i := range p.messages {
		at = at.Add(time.Minute)
		if _, _, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromCustomer, ClientID: fmt.Sprint("c", i),
			Text: fmt.Sprintf("%s (message %d)", p.sentence, i), Time: at}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromBot, Text: "Standard delivery takes 2 to 4 working days.", Time: at}); err != nil {
			t.Fatal(err)
		}
		if i == min(3, p.messages-1) {
			if _, err := s.UpdateCustomer(ctx, p.id, func(c *bot.Customer) error {
				c.Name, c.Email = p.name, p.email
				c.Topics = []bot.Topic{{ArticleID: "delivery-times", Title: "Delivery times", At: at}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := s.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromAgent, Agent: "agt_1", Internal: true,
		Text: "Note: " + p.name + " is a regular, " + p.email, Time: at}); err != nil {
		t.Fatal(err)
	}
	ticket := handoff.Ticket{ID: "tkt_" + p.id, ConversationID: conv.ID, CustomerID: p.id, Reason: "requested",
		Status: handoff.StatusQueued, Tier: 1, Created: at, QueuedAt: at}
	if p.state == bot.StateBot || p.state == bot.StateClosed {
		ticket.Status, ticket.ClosedAt, ticket.ResolvedAt = handoff.StatusResolved, at, at
	}
	if _, err := s.UpdateTicket(ctx, conv.ID, func(tk *handoff.Ticket) error { *tk = ticket; return nil }); err != nil {
		t.Fatal(err)
	}
	c, err := s.Conversation(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.State, c.Rating, c.RatingComment, c.SurveyState = p.state, 4, p.comment, "done"
	if p.state == bot.StateAgent {
		c.Agent = "agt_1"
	}
	if err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	return conv.ID
}

var (
	zelda = person{id: "cus_zelda", name: "Zelda Quarrington", email: "zelda.q@example.org", messages: 6,
		sentence: "my violet lampshade from the Wexford warehouse arrived in three pieces",
		comment:  "Quarrington family thanks you kindly"}
	otto = person{id: "cus_otto", name: "Otto Brandvold", email: "otto.b@example.net", messages: 6,
		sentence: "the brass floor lamp flickers whenever the kettle boils"}
)
