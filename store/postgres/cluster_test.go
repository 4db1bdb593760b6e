package postgres_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/internal/wait"
	"github.com/frontdesk/frontdesk/store/postgres"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// node is one Frontdesk node on the shared database: its own pool, bus
// and engine, as "frontdesk serve" would have them.
type node struct {
	db  *postgres.DB
	bus *postgres.Bus
	eng *bot.Engine
}

func newNode(t *testing.T, dsn string) *node {
	t.Helper()
	db := open(t, dsn)
	bus, err := db.NewBus(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	return &node{db: db, bus: bus, eng: bot.NewEngine(nil, db, bus, bot.Options{})}
}

// next waits for the subscription's next event: a conversation's
// (bot.Subscription) or the queue's (handoff.Subscription).
func next[E any](t *testing.T, s interface {
	C() <-chan E
	Lagged() bool
}) E {
	t.Helper()
	select {
	case e, ok := <-s.C():
		if !ok {
			t.Fatalf("subscription closed (lagged=%v)", s.Lagged())
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	var zero E
	return zero
}

// cutBuses ends every bus's listening connection to the database of db,
// as a network fault or a server restart would.
func cutBuses(t *testing.T, db *postgres.DB) {
	t.Helper()
	if _, err := db.Pool().Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", postgres.BusApplicationName); err != nil {
		t.Fatal(err)
	}
}

// listensAgain waits until bus has listened again after a cut.
func listensAgain(t *testing.T, bus *postgres.Bus) {
	t.Helper()
	wait.For(t, 10*time.Second, "the bus to listen again", func() bool { return bus.Reconnects.Load() > 0 })
}

func say(t *testing.T, n *node, conv string, m bot.Message) {
	t.Helper()
	err := n.eng.Act(ctx, conv, func(a *bot.Act) error { _, err := a.Say(m); return err })
	if err != nil {
		t.Fatal(err)
	}
}

// A customer on node A, an agent on node B: each sees what the other
// sends, in order, once.
func TestEventsCrossNodes(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	conv := storetest.NewConversation(t, a.db, "cus_1")
	onA := a.bus.Subscribe(conv.ID, 16)
	onB := b.bus.Subscribe(conv.ID, 16)
	allB := b.bus.Subscribe("", 16)

	say(t, a, conv.ID, bot.Message{From: bot.FromCustomer, Text: "where is my order?"})
	for _, s := range []bot.Subscription{onA, onB, allB} {
		e := next(t, s)
		if e.Kind != bot.EventMessage || e.Message.Seq != 1 || e.Message.Text != "where is my order?" || e.Channel != bot.Web {
			t.Fatalf("event = %+v, want the customer's message, seq 1, on the web channel", e)
		}
	}

	err := b.eng.Act(ctx, conv.ID, func(act *bot.Act) error {
		if err := act.SetOwner(bot.StateAgent, "ann", "Ann"); err != nil {
			return err
		}
		_, err := act.AgentSay(bot.AgentMessage{AgentID: "ann", AgentName: "Ann", Text: "It left today."})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Ann from our team has joined the conversation.", "It left today."} {
		if e := next(t, onA); e.Kind != bot.EventMessage || e.Message.Text != want {
			t.Fatalf("on node A: %+v, want message %q", e, want)
		}
	}
	if e := next(t, onA); e.Kind != bot.EventState || e.State != bot.StateAgent || e.Agent != "Ann" {
		t.Fatalf("on node A: %+v, want the state event after the act's messages", e)
	}
	// Typing crosses nodes too, and nothing came twice.
	b.bus.Publish(bot.Event{Kind: bot.EventTyping, ConversationID: conv.ID, From: bot.FromAgent, Agent: "Ann"})
	if e := next(t, onA); e.Kind != bot.EventTyping || e.Agent != "Ann" {
		t.Fatalf("on node A: %+v, want typing", e)
	}
	select {
	case e := <-onA.C():
		t.Fatalf("an extra event: %+v", e)
	case <-time.After(200 * time.Millisecond):
	}
}

// Both nodes writing one conversation at once: the seqs are 1..n, each
// once, and every node's subscribers get them all, in order.
func TestSeqIsGaplessWithTwoNodesWriting(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	conv := storetest.NewConversation(t, a.db, "cus_1")
	const perNode = 25
	subs := []bot.Subscription{a.bus.Subscribe(conv.ID, 2*perNode), b.bus.Subscribe(conv.ID, 2*perNode)}
	var wg sync.WaitGroup
	for i, n := range []*node{a, b} {
		for w := range 5 {
			wg.Go(func() {
				for j := range perNode / 5 {
					err := n.eng.Act(ctx, conv.ID, func(act *bot.Act) error {
						_, err := act.Say(bot.Message{From: bot.FromCustomer, Text: fmt.Sprintf("node%d-%d-%d", i, w, j)})
						return err
					})
					if err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	ms, err := a.db.Messages(ctx, conv.ID, 0)
	if err != nil || len(ms) != 2*perNode {
		t.Fatalf("%d messages stored (%v), want %d", len(ms), err, 2*perNode)
	}
	texts := map[string]bool{}
	for i, m := range ms {
		if m.Seq != int64(i+1) || texts[m.Text] {
			t.Fatalf("message %d: seq %d %q; want gapless seqs, each text once", i, m.Seq, m.Text)
		}
		texts[m.Text] = true
	}
	if c, _ := b.db.Conversation(ctx, conv.ID); c.LastSeq != 2*perNode {
		t.Errorf("LastSeq %d, want %d", c.LastSeq, 2*perNode)
	}
	for n, s := range subs {
		for i := range 2 * perNode {
			if e := next(t, s); e.Message == nil || e.Message.Seq != int64(i+1) || e.Message.Text != ms[i].Text {
				t.Fatalf("node %d's subscriber got %+v as event %d, want seq %d", n, e, i, i+1)
			}
		}
	}
}

// Agents on two nodes claiming one waiting ticket: exactly one wins.
func TestAClaimRaceAcrossNodesHasOneWinner(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	for round := range 5 {
		conv := storetest.NewConversation(t, a.db, "cus_1")
		if _, err := a.db.UpdateTicket(ctx, conv.ID, func(tk *handoff.Ticket) error {
			tk.ID, tk.Status = bot.NewID("tkt_"), handoff.StatusQueued
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		errTaken := errors.New("taken")
		var mu sync.Mutex
		var winners []string
		var wg sync.WaitGroup
		for i, n := range []*node{a, b, a, b, a, b} {
			agent := fmt.Sprintf("agent%d", i)
			wg.Go(func() {
				// The claim as the queue makes it: ticket and owner in one act.
				err := n.eng.Act(ctx, conv.ID, func(act *bot.Act) error {
					tt := n.db.TicketsIn(act.Tx())
					tk, err := tt.OpenTicket(conv.ID)
					if err != nil {
						return err
					}
					if tk.Status != handoff.StatusQueued {
						return errTaken
					}
					tk.Status, tk.Agent = handoff.StatusAssigned, agent
					if err := tt.PutTicket(tk); err != nil {
						return err
					}
					return act.SetOwner(bot.StateAgent, agent, agent)
				})
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, agent)
					mu.Unlock()
				case !errors.Is(err, errTaken):
					t.Errorf("claim by %s: %v", agent, err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: winners %v, want exactly one", round, winners)
		}
		tk, _ := b.db.Ticket(ctx, conv.ID)
		c, _ := b.db.Conversation(ctx, conv.ID)
		if tk.Agent != winners[0] || c.Agent != winners[0] {
			t.Errorf("round %d: ticket agent %q, owner %q; want the winner %s", round, tk.Agent, c.Agent, winners[0])
		}
	}
}

// A customer's retry (same client id) reaching both nodes at once is
// stored once.
func TestClientIDsAreIdempotentAcrossNodes(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	conv := storetest.NewConversation(t, a.db, "cus_1")
	var wg sync.WaitGroup
	got := make([]bot.Message, 10)
	dups := make([]bool, 10)
	for i := range got {
		n := []*node{a, b}[i%2]
		wg.Go(func() {
			var err error
			got[i], dups[i], err = n.db.Append(ctx, bot.Message{ConversationID: conv.ID, From: bot.FromCustomer, Text: fmt.Sprint("try ", i), ClientID: "c1"})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	stored := 0
	for i := range got {
		if !dups[i] {
			stored++
		}
		if got[i].Seq != 1 || got[i].Text != got[0].Text {
			t.Errorf("try %d answered %+v, want the one stored message", i, got[i])
		}
	}
	if ms, _ := b.db.Messages(ctx, conv.ID, 0); stored != 1 || len(ms) != 1 {
		t.Errorf("%d tries stored, %d messages; want 1 and 1", stored, len(ms))
	}
}

// When a node's listening connection is lost, its subscribers are dropped
// as lagged (they may have missed notifications) and catch up from the
// store; once it listens again, new subscribers get new messages.
func TestALostListenerLagsSubscribersWhoCatchUpFromTheStore(t *testing.T) {
	dsn := pgtest.DB(t)
	writer := open(t, dsn)
	b := newNode(t, dsn)
	conv := storetest.NewConversation(t, writer, "cus_1")
	sub := b.bus.Subscribe(conv.ID, 16)
	cutBuses(t, writer)
	if _, _, err := writer.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "sent while B was deaf"}); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-sub.C():
		for ok {
			_, ok = <-sub.C()
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscriber was not dropped")
	}
	if !sub.Lagged() {
		t.Fatal("the subscriber was closed, but not as lagged")
	}
	listensAgain(t, b.bus)
	// The client catches up by seq, then follows again.
	sub = b.bus.Subscribe(conv.ID, 16)
	ms, err := b.db.Messages(ctx, conv.ID, 0)
	if err != nil || len(ms) != 1 || ms[0].Text != "sent while B was deaf" {
		t.Fatalf("catch-up read %+v, %v", ms, err)
	}
	if _, _, err := writer.Append(ctx, bot.Message{ConversationID: conv.ID, Text: "after"}); err != nil {
		t.Fatal(err)
	}
	if e := next(t, sub); e.Message == nil || e.Message.Seq != 2 || e.Message.Text != "after" {
		t.Fatalf("after reconnecting: %+v, want seq 2", e)
	}
}

// The real queue on two nodes: agents on both claim one waiting
// conversation at once; exactly one gets it, the others are told it is
// taken, and ticket and owner agree.
func TestTheQueueOnTwoNodesGivesAConversationToOneAgent(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	qa := handoff.NewQueue(a.db, a.eng, handoff.Options{ManualAssign: true})
	qb := handoff.NewQueue(b.db, b.eng, handoff.Options{ManualAssign: true})
	agents := []string{"ann", "bob", "cy", "dee"}
	for _, id := range agents {
		if err := a.db.SaveAgent(ctx, &handoff.Agent{ID: id, Name: id, Email: id + "@example.com", Role: handoff.RoleAgent}); err != nil {
			t.Fatal(err)
		}
	}
	cust := &bot.Customer{ID: "cus_1", Name: "Ana"}
	if err := a.db.SaveCustomer(ctx, cust); err != nil {
		t.Fatal(err)
	}
	conv := storetest.NewConversation(t, a.db, cust.ID)
	watch := a.bus.Subscribe(conv.ID, 16)
	if err := qb.Enqueue(ctx, *conv, *cust); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var winners []string
	var wg sync.WaitGroup
	for i, id := range agents {
		q := []*handoff.Queue{qa, qb}[i%2]
		wg.Go(func() {
			_, err := q.Claim(ctx, conv.ID, id)
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, id)
				mu.Unlock()
			case !errors.Is(err, handoff.ErrAlreadyClaimed):
				t.Errorf("claim by %s: %v", id, err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("winners %v, want exactly one", winners)
	}
	c, _ := a.db.Conversation(ctx, conv.ID)
	tk, _ := b.db.Ticket(ctx, conv.ID)
	if c.State != bot.StateAgent || c.Agent != winners[0] || tk.Agent != winners[0] {
		t.Errorf("conversation %s/%s, ticket agent %s; want %s everywhere", c.State, c.Agent, tk.Agent, winners[0])
	}
	// Node A's subscriber saw the hand-off made on node B, and the claim.
	var states []bot.State
	for len(states) < 2 {
		if e := next(t, watch); e.Kind == bot.EventState {
			states = append(states, e.State)
		}
	}
	if states[0] != bot.StateQueued || states[1] != bot.StateAgent {
		t.Errorf("states seen on node A: %v, want queued then agent", states)
	}
}

// Two nodes queueing the same Telegram messages for a chat at once (as
// two pollers would in the moment a role moves): each is queued once.
func TestTelegramMessagesAreQueuedOnceAcrossNodes(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := open(t, dsn), open(t, dsn)
	if _, err := a.TelegramTrack(ctx, "con_1", 42); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	oks := make([]bool, 8)
	for i := range oks {
		db := []*postgres.DB{a, b}[i%2]
		wg.Go(func() {
			oks[i] = db.TelegramQueue(ctx, "con_1", 5, [][]byte{[]byte(fmt.Sprint("up to 5 by ", i))}) == nil
		})
	}
	wg.Wait()
	n := 0
	for _, ok := range oks {
		if ok {
			n++
		}
	}
	var queued []string
	b.TelegramOutbox(ctx, func(_ uint64, data []byte) error { queued = append(queued, string(data)); return nil })
	if n != 1 || len(queued) != 1 {
		t.Errorf("%d queues succeeded, outbox %q; want one of each", n, queued)
	}
}
