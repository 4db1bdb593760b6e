package handoff_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// claimAll has every agent claim the conversation at once and returns the
// winners and the errors of the others.
func claimAll(t *testing.T, r *rig, queues []*handoff.Queue, agents []string) (winners []string, errs []error) {
	t.Helper()
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i, id := range agents {
		q := queues[i%len(queues)]
		wg.Go(func() {
			<-start
			_, err := q.Claim(r.ctx, "con_1", id)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				winners = append(winners, id)
			} else {
				errs = append(errs, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return winners, errs
}

func TestExactlyOneOfManyAgentsClaimingAtOnceWins(t *testing.T) {
	for _, nQueues := range []int{1, 2} {
		name := "through one queue"
		if nQueues == 2 {
			name = "through two queues sharing the store, so only the store's compare-and-set decides"
		}
		t.Run(name, func(t *testing.T) {
			r := newRig(t, handoff.Options{ManualAssign: true})
			var agents []string
			for i := range 50 {
				id := fmt.Sprintf("agent%02d", i)
				r.agent(id, handoff.RoleAgent, 0)
				agents = append(agents, id)
			}
			r.enqueue("con_1", bot.PriorityNormal, "")
			queues := []*handoff.Queue{r.queue}
			if nQueues == 2 {
				queues = append(queues, handoff.NewQueue(r.db, r.owner, handoff.Options{ManualAssign: true, Now: r.clock.Now}))
			}
			sub := r.queue.Subscribe(100)
			defer sub.Close()

			winners, errs := claimAll(t, r, queues, agents)
			if len(winners) != 1 {
				t.Fatalf("%d agents won the claim (%v), want exactly 1", len(winners), winners)
			}
			for _, err := range errs {
				if !errors.Is(err, handoff.ErrAlreadyClaimed) {
					t.Errorf("a losing claim failed with %v, want ErrAlreadyClaimed", err)
				}
			}
			if tk := r.ticket("con_1"); tk.Agent != winners[0] || tk.Status != handoff.StatusAssigned {
				t.Errorf("ticket is %s with %q, want assigned to %s", tk.Status, tk.Agent, winners[0])
			}
			if state, owner := r.conversationState("con_1"); state != bot.StateAgent || owner != winners[0] {
				t.Errorf("conversation is %s/%q, want agent/%s", state, owner, winners[0])
			}
			if calls := r.owner.Calls(); len(calls) != 1 {
				t.Errorf("the conversation changed owner %d times: %v", len(calls), calls)
			}
			if nQueues == 1 {
				if got := kinds(drain(sub)); !slices.Equal(got, []handoff.EventKind{handoff.EventAssigned}) {
					t.Errorf("events %v, want one assigned", got)
				}
			}
		})
	}
}

func TestClaim(t *testing.T) {
	r := newRig(t, handoff.Options{ManualAssign: true})
	r.agent("ann", handoff.RoleAgent, 0)
	r.agent("bob", handoff.RoleAgent, 0)
	r.agent("sue", handoff.RoleSupervisor, 0)
	r.enqueue("con_1", bot.PriorityNormal, "")

	t.Run("an unknown conversation is not found", func(t *testing.T) {
		if _, err := r.queue.Claim(r.ctx, "nope", "ann"); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})
	t.Run("an unknown agent cannot claim", func(t *testing.T) {
		if _, err := r.queue.Claim(r.ctx, "con_1", "eve"); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})
	t.Run("claiming one's own conversation again succeeds", func(t *testing.T) {
		for range 2 {
			if _, err := r.queue.Claim(r.ctx, "con_1", "ann"); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("another agent cannot take it", func(t *testing.T) {
		if _, err := r.queue.Claim(r.ctx, "con_1", "bob"); !errors.Is(err, handoff.ErrAlreadyClaimed) {
			t.Errorf("got %v, want ErrAlreadyClaimed", err)
		}
	})
	t.Run("a supervisor cannot claim it either but must transfer it", func(t *testing.T) {
		if _, err := r.queue.Claim(r.ctx, "con_1", "sue"); !errors.Is(err, handoff.ErrAlreadyClaimed) {
			t.Errorf("got %v, want ErrAlreadyClaimed", err)
		}
	})
}

func TestQueuedAndAssignedTicketsSurviveARestart(t *testing.T) {
	r := newRig(t, handoff.Options{Teams: map[string]string{"billing": "payments"}})
	r.agent("ann", handoff.RoleAgent, 1)
	r.online("ann")
	assigned := r.enqueue("con_1", bot.PriorityHigh, "", "billing")
	r.clock.Add(time.Minute)
	queued := r.enqueue("con_2", bot.PriorityVIP, "ann")
	if assigned.Agent != "ann" || queued.Status != handoff.StatusQueued {
		t.Fatalf("setup: con_1 with %q, con_2 %s", assigned.Agent, queued.Status)
	}

	r.restart()

	if got := r.ticket("con_1"); got != assigned {
		t.Errorf("after restart the assigned ticket is\n%+v\nwant\n%+v", got, assigned)
	}
	if got := r.ticket("con_2"); got != queued {
		t.Errorf("after restart the queued ticket is\n%+v\nwant\n%+v", got, queued)
	}
	open, err := r.queue.Tickets(r.ctx, handoff.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 {
		t.Errorf("%d open tickets after restart, want 2", len(open))
	}
	// Ownership survived too: nobody else can take con_1.
	r.agent("bob", handoff.RoleAgent, 0)
	if _, err := r.queue.Claim(r.ctx, "con_1", "bob"); !errors.Is(err, handoff.ErrAlreadyClaimed) {
		t.Errorf("claiming ann's conversation after restart: %v, want ErrAlreadyClaimed", err)
	}
	// Presence did not survive: ann must beat again before she gets con_2,
	// and she does get it once she frees up.
	if r.queue.Presence("ann") != handoff.PresenceOffline {
		t.Error("presence survived the restart")
	}
	r.online("ann")
	if _, err := r.queue.Resolve(r.ctx, "con_1", "ann"); err != nil {
		t.Fatal(err)
	}
	if got := r.ticket("con_2"); got.Agent != "ann" {
		t.Errorf("con_2 is with %q, want ann", got.Agent)
	}
}

func TestHandingOffTwiceKeepsOneTicket(t *testing.T) {
	r := newRig(t, handoff.Options{})
	c, cust := r.conversation("con_1", bot.PriorityNormal, "")
	first, err := r.queue.EnqueueWith(r.ctx, c, cust, handoff.EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Priority = bot.PriorityHigh
	second, err := r.queue.EnqueueWith(r.ctx, c, cust, handoff.EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || second.Priority != bot.PriorityHigh {
		t.Errorf("second hand-off gave ticket %s priority %d, want %s priority %d", second.ID, second.Priority, first.ID, bot.PriorityHigh)
	}
	if open, _ := r.queue.Tickets(r.ctx, handoff.Filter{}); len(open) != 1 {
		t.Errorf("%d open tickets, want 1", len(open))
	}

	// Once an agent has it, another hand-off (say the bot's copy was
	// stale) does not take it from the agent; it restores the owner.
	r.agent("ann", handoff.RoleAgent, 0)
	r.online("ann")
	if got := r.ticket("con_1"); got.Agent != "ann" {
		t.Fatalf("ann should have been given the waiting ticket, it is with %q", got.Agent)
	}
	c.State, c.Agent = bot.StateQueued, ""
	if err := r.db.SaveConversation(r.ctx, &c); err != nil {
		t.Fatal(err)
	}
	third, err := r.queue.EnqueueWith(r.ctx, c, cust, handoff.EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if third.ID != first.ID || third.Agent != "ann" {
		t.Errorf("third hand-off: ticket %s with %q, want %s with ann", third.ID, third.Agent, first.ID)
	}
	if state, owner := r.conversationState("con_1"); state != bot.StateQueued || owner != "" {
		t.Errorf("conversation is %s/%q, want queued: offered to ann, not accepted", state, owner)
	}

	// After resolving, a new hand-off is a new ticket.
	if _, err := r.queue.Resolve(r.ctx, "con_1", "ann"); err != nil {
		t.Fatal(err)
	}
	fourth, err := r.queue.EnqueueWith(r.ctx, c, cust, handoff.EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fourth.ID == first.ID {
		t.Error("a hand-off after resolving reused the closed ticket")
	}
}

func TestLifecycle(t *testing.T) {
	r := newRig(t, handoff.Options{})
	r.agent("ann", handoff.RoleAgent, 0, "payments")
	r.agent("bob", handoff.RoleAgent, 0, "logistics")
	r.agent("cyd", handoff.RoleAgent, 0, "logistics")
	r.agent("sue", handoff.RoleSupervisor, 0)
	r.online("ann")
	r.enqueue("con_1", bot.PriorityNormal, "")
	if _, err := r.queue.Claim(r.ctx, "con_1", "ann"); err != nil {
		t.Fatal(err) // ann accepts the offer
	}
	sub := r.queue.Subscribe(64)
	defer sub.Close()
	expect := func(t *testing.T, want ...handoff.EventKind) []handoff.Event {
		t.Helper()
		es := drain(sub)
		if got := kinds(es); !slices.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
		return es
	}
	expectOwner := func(t *testing.T, state bot.State, agent string) {
		t.Helper()
		if s, a := r.conversationState("con_1"); s != state || a != agent {
			t.Errorf("conversation is %s/%q, want %s/%q", s, a, state, agent)
		}
	}

	t.Run("the first agent reply is recorded once, and only for the owner", func(t *testing.T) {
		if _, err := r.queue.RecordAgentReply(r.ctx, "con_1", "bob"); !errors.Is(err, handoff.ErrNotOwner) {
			t.Errorf("bob replying in ann's conversation: %v, want ErrNotOwner", err)
		}
		at := r.clock.Now()
		if _, err := r.queue.RecordAgentReply(r.ctx, "con_1", "ann"); err != nil {
			t.Fatal(err)
		}
		r.clock.Add(time.Minute)
		tk, err := r.queue.RecordAgentReply(r.ctx, "con_1", "ann")
		if err != nil {
			t.Fatal(err)
		}
		if !tk.FirstReplyAt.Equal(at) {
			t.Errorf("first reply at %v, want %v", tk.FirstReplyAt, at)
		}
	})
	t.Run("an agent cannot act on another agent's conversation", func(t *testing.T) {
		if _, err := r.queue.Resolve(r.ctx, "con_1", "bob"); !errors.Is(err, handoff.ErrForbidden) {
			t.Errorf("bob resolving ann's conversation: %v, want ErrForbidden", err)
		}
		if _, err := r.queue.Transfer(r.ctx, "con_1", "bob", handoff.Target{Agent: "bob"}); !errors.Is(err, handoff.ErrForbidden) {
			t.Errorf("bob taking ann's conversation: %v, want ErrForbidden", err)
		}
		expect(t)
	})
	t.Run("a transfer to an offline agent is refused", func(t *testing.T) {
		if _, err := r.queue.Transfer(r.ctx, "con_1", "ann", handoff.Target{Agent: "bob"}); !errors.Is(err, handoff.ErrUnavailable) {
			t.Errorf("got %v, want ErrUnavailable", err)
		}
		expectOwner(t, bot.StateAgent, "ann")
	})
	t.Run("a transfer to an online agent moves the conversation", func(t *testing.T) {
		r.online("bob")
		expect(t, handoff.EventPresence)
		tk, err := r.queue.Transfer(r.ctx, "con_1", "ann", handoff.Target{Agent: "bob"})
		if err != nil {
			t.Fatal(err)
		}
		if tk.Agent != "bob" || tk.Status != handoff.StatusAssigned {
			t.Errorf("ticket %s with %q, want assigned to bob", tk.Status, tk.Agent)
		}
		expectOwner(t, bot.StateAgent, "bob")
		expect(t, handoff.EventTransferred)
	})
	t.Run("a transfer to a team goes to that team only", func(t *testing.T) {
		r.online("cyd")
		drain(sub)
		tk, err := r.queue.Transfer(r.ctx, "con_1", "bob", handoff.Target{Team: "payments"})
		if err != nil {
			t.Fatal(err)
		}
		// ann is the only payments agent and is the busiest-free one.
		if tk.Team != "payments" || !tk.TeamOnly {
			t.Errorf("ticket team %q (only %v), want payments only", tk.Team, tk.TeamOnly)
		}
		if got := r.ticket("con_1"); got.Agent != "ann" || !got.Offered {
			t.Errorf("after the transfer to payments the ticket is with %q (offered %v), want offered to ann", got.Agent, got.Offered)
		}
		expectOwner(t, bot.StateQueued, "")
		expect(t, handoff.EventTransferred, handoff.EventAssigned)
		if _, err := r.queue.Claim(r.ctx, "con_1", "ann"); err != nil {
			t.Fatal(err)
		}
		expectOwner(t, bot.StateAgent, "ann")
		expect(t, handoff.EventAccepted)
	})
	t.Run("escalating sends it to supervisors with a higher priority", func(t *testing.T) {
		tk, err := r.queue.Escalate(r.ctx, "con_1", "ann")
		if err != nil {
			t.Fatal(err)
		}
		if tk.Tier != 2 || !tk.Escalated || tk.Priority != bot.PriorityNormal+1 || tk.Agent != "" {
			t.Errorf("escalated ticket: tier %d escalated %v priority %d agent %q", tk.Tier, tk.Escalated, tk.Priority, tk.Agent)
		}
		expectOwner(t, bot.StateQueued, "")
		es := expect(t, handoff.EventEscalated)
		if len(es) == 1 && es[0].Agent != "ann" {
			t.Errorf("escalation event names %q, want ann", es[0].Agent)
		}
		if _, err := r.queue.Claim(r.ctx, "con_1", "bob"); !errors.Is(err, handoff.ErrForbidden) {
			t.Errorf("an agent claiming an escalated ticket: %v, want ErrForbidden", err)
		}
		r.online("sue")
		if got := r.ticket("con_1"); got.Agent != "sue" {
			t.Errorf("the escalated ticket is with %q once a supervisor is online, want sue", got.Agent)
		}
		expect(t, handoff.EventPresence, handoff.EventAssigned)
	})
	t.Run("resolving closes the ticket and gives the conversation back to the bot", func(t *testing.T) {
		r.clock.Add(time.Minute)
		tk, err := r.queue.Resolve(r.ctx, "con_1", "sue")
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status != handoff.StatusResolved || !tk.ResolvedAt.Equal(r.clock.Now()) {
			t.Errorf("ticket %s resolved at %v", tk.Status, tk.ResolvedAt)
		}
		expectOwner(t, bot.StateBot, "")
		expect(t, handoff.EventResolved)
		if got := r.ticket("con_1"); got.Status != handoff.StatusResolved {
			t.Errorf("the conversation's latest ticket is %s, want resolved", got.Status)
		}
		if open, _ := r.queue.Tickets(r.ctx, handoff.Filter{}); len(open) != 0 {
			t.Errorf("%d open tickets after resolving, want 0", len(open))
		}
		if _, err := r.queue.Resolve(r.ctx, "con_1", "sue"); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("resolving again: %v, want ErrNotFound", err)
		}
	})
	t.Run("returning to the bot closes the ticket unresolved", func(t *testing.T) {
		r.enqueue("con_2", bot.PriorityNormal, "")
		owner := r.ticket("con_2").Agent
		tk, err := r.queue.ReturnToBot(r.ctx, "con_2", owner)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status != handoff.StatusReturned || !tk.ResolvedAt.IsZero() || tk.ClosedAt.IsZero() {
			t.Errorf("returned ticket: %s, resolved at %v, closed at %v", tk.Status, tk.ResolvedAt, tk.ClosedAt)
		}
		if s, _ := r.conversationState("con_2"); s != bot.StateBot {
			t.Errorf("conversation is %s, want bot", s)
		}
	})
}

func TestPosition(t *testing.T) {
	r := newRig(t, handoff.Options{Hours: handoff.MustParseHours("mon-fri 09:00-17:00", "", "UTC")})
	r.agent("ann", handoff.RoleAgent, 1)
	for _, id := range []string{"con_1", "con_2", "con_3"} {
		r.enqueue(id, bot.PriorityNormal, "")
		r.clock.Add(time.Second)
	}

	p, err := r.queue.Position(r.ctx, "con_2")
	if err != nil {
		t.Fatal(err)
	}
	if want := (handoff.Place{Position: 2, Wait: 6 * time.Minute, Open: true}); p != want {
		t.Errorf("before any assignment: %+v, want %+v", p, want)
	}

	// con_1 waited 4 minutes: that becomes the wait per position.
	r.clock.Set(start.Add(4 * time.Minute))
	r.online("ann")
	if p, _ = r.queue.Position(r.ctx, "con_3"); p.Position != 2 || p.Wait != 8*time.Minute {
		t.Errorf("after a 4-minute wait, con_3 is at %d waiting %v, want 2 and 8m0s", p.Position, p.Wait)
	}
	if p, _ = r.queue.Position(r.ctx, "con_1"); p.Position != 0 || p.Wait != 0 {
		t.Errorf("an assigned conversation is at %d waiting %v, want 0 and 0", p.Position, p.Wait)
	}

	// Friday evening: closed until Monday 09:00, which adds to the wait.
	friday := time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)
	r.clock.Set(friday)
	p, _ = r.queue.Position(r.ctx, "con_3")
	monday := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if p.Open || !p.OpensAt.Equal(monday) || p.Position != 2 || p.Wait != monday.Sub(friday)+8*time.Minute {
		t.Errorf("on Friday evening: %+v, want closed until %v", p, monday)
	}
	if _, err := r.queue.Position(r.ctx, "nope"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("position of an unknown conversation: %v, want ErrNotFound", err)
	}
}

func TestASlowSubscriberIsDroppedAndNeverBlocksTheQueue(t *testing.T) {
	r := newRig(t, handoff.Options{})
	slow := r.queue.Subscribe(1)
	fast := r.queue.Subscribe(100)
	defer fast.Close()
	for i := range 5 {
		r.enqueue(fmt.Sprintf("con_%d", i), bot.PriorityNormal, "")
	}
	if !slow.Lagged() {
		t.Error("the slow subscriber is not marked lagged")
	}
	if got := drain(slow); len(got) != 1 {
		t.Errorf("the slow subscriber got %d events before being dropped, want 1", len(got))
	}
	if _, ok := <-slow.C(); ok {
		t.Error("the slow subscriber's channel is open")
	}
	if got := drain(fast); len(got) != 5 {
		t.Errorf("the fast subscriber got %d events, want 5", len(got))
	}
	slow.Close() // harmless after being dropped
}

func TestPresence(t *testing.T) {
	r := newRig(t, handoff.Options{PresenceTimeout: time.Minute})
	r.agent("ann", handoff.RoleAgent, 0)
	sub := r.queue.Subscribe(10)
	defer sub.Close()

	if got := r.queue.Presence("ann"); got != handoff.PresenceOffline {
		t.Errorf("before any heartbeat ann is %s", got)
	}
	r.online("ann")
	r.clock.Add(59 * time.Second)
	if got := r.queue.Presence("ann"); got != handoff.PresenceOnline {
		t.Errorf("59s after a heartbeat ann is %s, want online", got)
	}
	if err := r.queue.Heartbeat(r.ctx, "ann", handoff.PresenceAway); err != nil {
		t.Fatal(err)
	}
	if got := r.queue.Presences(); got["ann"] != handoff.PresenceAway {
		t.Errorf("presences %v, want ann away", got)
	}
	r.clock.Add(61 * time.Second)
	if got := r.queue.Presence("ann"); got != handoff.PresenceOffline {
		t.Errorf("61s after the last heartbeat ann is %s, want offline", got)
	}
	r.queue.CheckPresence(r.clock.Now())
	var got []handoff.Presence
	for _, e := range drain(sub) {
		got = append(got, e.Presence)
	}
	if want := []handoff.Presence{handoff.PresenceOnline, handoff.PresenceAway, handoff.PresenceOffline}; !slices.Equal(got, want) {
		t.Errorf("presence events %v, want %v", got, want)
	}
	if err := r.queue.Heartbeat(r.ctx, "ann", "busy"); !errors.Is(err, handoff.ErrInvalid) {
		t.Errorf("heartbeat with an unknown presence: %v, want ErrInvalid", err)
	}
	if err := r.agents.Disable(r.ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	if err := r.queue.Heartbeat(r.ctx, "ann", handoff.PresenceOnline); !errors.Is(err, handoff.ErrDisabled) {
		t.Errorf("heartbeat of a disabled agent: %v, want ErrDisabled", err)
	}
}
