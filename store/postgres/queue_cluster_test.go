package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/store/postgres"
	"github.com/frontdesk/frontdesk/store/storetest"
)

// queueNode is a node with its agent queue, wired as on a cluster: the
// queue's events go through the node's bus, presence is in the database.
func queueNode(t *testing.T, n *node, opts handoff.Options) *handoff.Queue {
	t.Helper()
	opts.Relay, opts.Presence = n.bus.QueueRelay(), n.db.Presence()
	return handoff.NewQueue(n.db, n.eng, opts)
}

func saveAgents(t *testing.T, db *postgres.DB, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := db.SaveAgent(ctx, &handoff.Agent{ID: id, Name: id, Email: id + "@example.com", Role: handoff.RoleAgent}); err != nil {
			t.Fatal(err)
		}
	}
}

// waiting returns a new conversation of a new customer, to hand off.
func waiting(t *testing.T, db *postgres.DB) (bot.Conversation, bot.Customer) {
	t.Helper()
	cust := bot.Customer{ID: bot.NewID("cus_"), Name: "Ana"}
	if err := db.SaveCustomer(ctx, &cust); err != nil {
		t.Fatal(err)
	}
	return *storetest.NewConversation(t, db, cust.ID), cust
}

// quiet asserts that no queue event comes for a while.
func quiet(t *testing.T, s *handoff.Subscription) {
	t.Helper()
	select {
	case e, ok := <-s.C():
		t.Fatalf("an extra queue event: %+v (open=%v)", e, ok)
	case <-time.After(300 * time.Millisecond):
	}
}

// A ticket queued by a customer on node A reaches the consoles of node
// B, and node A's, once each; a claim on node B reaches node A.
func TestQueueEventsCrossNodes(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	qa := queueNode(t, a, handoff.Options{ManualAssign: true})
	qb := queueNode(t, b, handoff.Options{ManualAssign: true})
	saveAgents(t, a.db, "bob", "cy")
	onA, onB := qa.Subscribe(16), qb.Subscribe(16)

	conv, cust := waiting(t, a.db)
	if err := qa.Enqueue(ctx, conv, cust); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*handoff.Subscription{"A": onA, "B": onB} {
		e := next(t, s)
		if e.Kind != handoff.EventQueued || e.Ticket == nil || e.Ticket.ConversationID != conv.ID || e.Ticket.Status != handoff.StatusQueued {
			t.Fatalf("node %s: %+v, want the queued ticket of %s", name, e, conv.ID)
		}
	}
	if _, err := qb.Claim(ctx, conv.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*handoff.Subscription{"A": onA, "B": onB} {
		if e := next(t, s); e.Kind != handoff.EventAssigned || e.Agent != "bob" || e.Ticket.Agent != "bob" {
			t.Fatalf("node %s: %+v, want bob's claim", name, e)
		}
		quiet(t, s)
	}
	// An act that fails announces nothing.
	if _, err := qa.Claim(ctx, conv.ID, "cy"); !errors.Is(err, handoff.ErrAlreadyClaimed) {
		t.Fatalf("cy's claim of bob's conversation: %v, want ErrAlreadyClaimed", err)
	}
	quiet(t, onB)
}

// An agent whose console is on node B is online for routing on node A:
// a ticket queued on node A is offered to her in the hand-off's act,
// and her console on node B is told.
func TestAnAgentOnNodeBIsOfferedATicketQueuedOnNodeA(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	qa := queueNode(t, a, handoff.Options{})
	qb := queueNode(t, b, handoff.Options{})
	saveAgents(t, a.db, "ann")
	onA, onB := qa.Subscribe(16), qb.Subscribe(16)

	if err := qb.Heartbeat(ctx, "ann", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	if e := next(t, onA); e.Kind != handoff.EventPresence || e.Agent != "ann" || e.Presence != handoff.PresenceOnline {
		t.Fatalf("node A: %+v, want ann online", e)
	}
	if p := qa.Presence("ann"); p != handoff.PresenceOnline {
		t.Fatalf("node A sees ann %s, want online", p)
	}
	if ps := qa.Presences(); len(ps) != 1 || ps["ann"] != handoff.PresenceOnline {
		t.Fatalf("node A's presences %v, want ann online", ps)
	}

	conv, cust := waiting(t, a.db)
	tk, err := qa.EnqueueWith(ctx, conv, cust, handoff.EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Agent != "ann" || !tk.Offered || tk.Status != handoff.StatusAssigned {
		t.Fatalf("ticket %+v, want offered to ann", tk)
	}
	var kinds []handoff.EventKind
	for len(kinds) < 3 {
		e := next(t, onB)
		kinds = append(kinds, e.Kind)
		if e.Kind == handoff.EventAssigned && (e.Agent != "ann" || e.Ticket.ConversationID != conv.ID) {
			t.Fatalf("node B: %+v, want the offer to ann", e)
		}
	}
	if !slices.Equal(kinds, []handoff.EventKind{handoff.EventPresence, handoff.EventQueued, handoff.EventAssigned}) {
		t.Fatalf("node B saw %v, want presence, queued, assigned", kinds)
	}
	// She accepts on node B.
	if tk, err := qb.Claim(ctx, conv.ID, "ann"); err != nil || tk.Offered {
		t.Fatalf("accept: %+v, %v", tk, err)
	}
	if c, _ := a.db.Conversation(ctx, conv.ID); c.State != bot.StateAgent || c.Agent != "ann" {
		t.Fatalf("conversation %s/%s, want ann's", c.State, c.Agent)
	}

	// Going offline on node B is seen on node A at once; a new ticket
	// waits.
	if err := qb.Heartbeat(ctx, "ann", handoff.PresenceOffline); err != nil {
		t.Fatal(err)
	}
	if p := qa.Presence("ann"); p != handoff.PresenceOffline {
		t.Fatalf("node A sees ann %s, want offline", p)
	}
	conv2, cust2 := waiting(t, a.db)
	if tk, err := qa.EnqueueWith(ctx, conv2, cust2, handoff.EnqueueOptions{}); err != nil || tk.Agent != "" || tk.Status != handoff.StatusQueued {
		t.Fatalf("with nobody online: %+v, %v; want it queued", tk, err)
	}
}

// A ticket waiting on node A goes to an agent the moment she comes
// online on node B, and the least busy agent is chosen whichever node
// each is connected to.
func TestRoutingCountsAgentsOfEveryNode(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	qa := queueNode(t, a, handoff.Options{})
	qb := queueNode(t, b, handoff.Options{})
	saveAgents(t, a.db, "ann", "bob")

	conv, cust := waiting(t, a.db)
	if err := qa.Enqueue(ctx, conv, cust); err != nil {
		t.Fatal(err)
	}
	if err := qb.Heartbeat(ctx, "ann", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	if tk, _ := a.db.Ticket(ctx, conv.ID); tk.Agent != "ann" || !tk.Offered {
		t.Fatalf("ticket %+v, want offered to ann as she came online", tk)
	}
	// Bob on node A is idle, ann on node B has one: the next goes to bob,
	// the one after to ann (fewest assigned, then longest idle).
	if err := qa.Heartbeat(ctx, "bob", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bob", "ann"} {
		c, cu := waiting(t, b.db)
		tk, err := qb.EnqueueWith(ctx, c, cu, handoff.EnqueueOptions{})
		if err != nil || tk.Agent != want {
			t.Fatalf("ticket %+v, %v; want it offered to %s", tk, err, want)
		}
	}
}

// A node that dies stops beating for its agents: once the presence
// timeout passes they are offline on every node, one offline event is
// published across the cluster, and the offers they never saw go back to
// the queue.
func TestPresenceExpiresWhenANodeDies(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	const timeout = time.Second
	opts := handoff.Options{PresenceTimeout: timeout, CheckEvery: 100 * time.Millisecond}
	qa, qb := queueNode(t, a, opts), queueNode(t, b, opts)
	saveAgents(t, a.db, "ann")
	onA := qa.Subscribe(16)
	lastBeat := time.Now() // no later than the beat's stamp
	if err := qb.Heartbeat(ctx, "ann", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	conv, cust := waiting(t, a.db)
	tk, err := qa.EnqueueWith(ctx, conv, cust, handoff.EnqueueOptions{})
	if err != nil || tk.Agent != "ann" || !tk.Offered {
		t.Fatalf("ticket %+v, %v; want offered to ann", tk, err)
	}
	for _, want := range []handoff.EventKind{handoff.EventPresence, handoff.EventQueued, handoff.EventAssigned} {
		if e := next(t, onA); e.Kind != want {
			t.Fatalf("%+v, want %s", e, want)
		}
	}
	// Node B dies: ann's heartbeats stop. Node A's timers (and node B's,
	// had it survived) sign her off.
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { qa.Run(runCtx); close(ran) }()
	defer func() { stop(); <-ran }()
	var offline, withdrawn int
	for offline == 0 || withdrawn == 0 {
		switch e := next(t, onA); e.Kind {
		case handoff.EventPresence:
			if e.Agent != "ann" || e.Presence != handoff.PresenceOffline {
				t.Fatalf("%+v, want ann offline", e)
			}
			offline++
			if since := time.Since(lastBeat); since < timeout {
				t.Fatalf("ann signed off %v after her last beat, before the %v timeout", since, timeout)
			}
		case handoff.EventWithdrawn:
			if e.Agent != "ann" || e.Ticket.ConversationID != conv.ID || e.Ticket.Status != handoff.StatusQueued {
				t.Fatalf("%+v, want ann's offer back in the queue", e)
			}
			withdrawn++
		default:
			t.Fatalf("unexpected %+v", e)
		}
	}
	// The other node's check finds nothing left to report.
	qb.CheckPresence(time.Now())
	quiet(t, onA)
	if p := qb.Presence("ann"); p != handoff.PresenceOffline {
		t.Fatalf("node B sees ann %s", p)
	}
	if tk, _ := b.db.Ticket(ctx, conv.ID); tk.Agent != "" || tk.Status != handoff.StatusQueued {
		t.Fatalf("ticket %+v, want it waiting again", tk)
	}
}

// When a node's listening connection is lost its queue subscribers are
// dropped as lagged (they may have missed events), reload the queue from
// the table and follow again.
func TestALostListenerLagsQueueSubscribers(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	qa := queueNode(t, a, handoff.Options{ManualAssign: true})
	qb := queueNode(t, b, handoff.Options{ManualAssign: true})
	sub := qb.Subscribe(16)
	cutBuses(t, a.db)
	conv, cust := waiting(t, a.db)
	if err := qa.Enqueue(ctx, conv, cust); err != nil {
		t.Fatal(err)
	}
	for e := range sub.C() {
		// Delivered before the connection went: fine, then it closes.
		_ = e
	}
	if !sub.Lagged() {
		t.Fatal("the queue subscriber was closed, but not as lagged")
	}
	listensAgain(t, b.bus)
	sub = qb.Subscribe(16)
	if ts, err := qb.Tickets(ctx, handoff.Filter{}); err != nil || len(ts) != 1 || ts[0].ConversationID != conv.ID {
		t.Fatalf("reload: %+v, %v", ts, err)
	}
	conv2, cust2 := waiting(t, a.db)
	if err := qa.Enqueue(ctx, conv2, cust2); err != nil {
		t.Fatal(err)
	}
	if e := next(t, sub); e.Kind != handoff.EventQueued || e.Ticket.ConversationID != conv2.ID {
		t.Fatalf("after reconnecting: %+v", e)
	}
}

// How long a queue event takes from one node to another: the time from
// the start of a hand-off on node A to the event at node B's subscriber,
// beside the hand-off's own duration. Run with -v for the figures.
func TestQueueEventLatencyAcrossNodes(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	qa := queueNode(t, a, handoff.Options{ManualAssign: true})
	qb := queueNode(t, b, handoff.Options{ManualAssign: true})
	onB := qb.Subscribe(16)
	const n = 50
	var acts, events []time.Duration
	for range n {
		conv, cust := waiting(t, a.db)
		start := time.Now()
		if err := qa.Enqueue(ctx, conv, cust); err != nil {
			t.Fatal(err)
		}
		acts = append(acts, time.Since(start))
		if e := next(t, onB); e.Kind != handoff.EventQueued || e.Ticket.ConversationID != conv.ID {
			t.Fatalf("%+v, want %s queued", e, conv.ID)
		}
		events = append(events, time.Since(start))
	}
	q := func(ds []time.Duration, p float64) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[int(p*float64(len(s)-1))].Round(100 * time.Microsecond)
	}
	t.Logf("%d hand-offs on node A: act p50 %v p95 %v; event at node B p50 %v p95 %v max %v (from the act's start)",
		n, q(acts, .5), q(acts, .95), q(events, .5), q(events, .95), q(events, 1))
}

// Routing a new ticket reads presence inside the hand-off's own
// transaction: a node whose pool is down to one connection, held by the
// act, still hands off (a second connection would never come).
func TestRoutingInAHandOffNeedsNoSecondConnection(t *testing.T) {
	u, err := url.Parse(pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	v := u.Query()
	v.Set("pool_max_conns", "1")
	u.RawQuery = v.Encode()
	n := newNode(t, u.String())
	q := queueNode(t, n, handoff.Options{})
	saveAgents(t, n.db, "ann")
	if err := q.Heartbeat(ctx, "ann", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	conv, cust := waiting(t, n.db)
	done := make(chan error, 1)
	var tk handoff.Ticket
	go func() {
		var err error
		tk, err = q.EnqueueWith(ctx, conv, cust, handoff.EnqueueOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil || tk.Agent != "ann" {
			t.Fatalf("ticket %+v, %v; want offered to ann", tk, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the hand-off hung: it waited for a second connection")
	}
}

// A queue event too big for a notification is not lost silently: every
// node's queue subscribers are dropped as lagged, to reload the queue.
func TestAQueueEventTooBigToNotifyMakesEveryNodeReload(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := newNode(t, dsn), newNode(t, dsn)
	huge := strings.Repeat("team", 2500)
	qa := queueNode(t, a, handoff.Options{ManualAssign: true, Teams: map[string]string{"billing": huge}})
	qb := queueNode(t, b, handoff.Options{ManualAssign: true})
	onA, onB := qa.Subscribe(16), qb.Subscribe(16)
	conv, cust := waiting(t, a.db)
	if _, err := qa.EnqueueWith(ctx, conv, cust, handoff.EnqueueOptions{Tags: []string{"billing"}}); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*handoff.Subscription{"A": onA, "B": onB} {
		select {
		case e, ok := <-s.C():
			if ok {
				t.Fatalf("node %s got %+v, want its subscription dropped", name, e)
			}
			if !s.Lagged() {
				t.Fatalf("node %s: closed, but not as lagged", name)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("node %s: the subscriber was not dropped", name)
		}
	}
	// The ticket is in the table for the reload.
	if ts, err := qb.Tickets(ctx, handoff.Filter{}); err != nil || len(ts) != 1 || ts[0].Team != huge {
		t.Fatalf("reload: %d tickets, %v", len(ts), err)
	}
}
