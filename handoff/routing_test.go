package handoff_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

func TestRouting(t *testing.T) {
	type agent struct {
		id       string
		teams    []string
		max      int
		presence handoff.Presence // "" offline
		load     int              // conversations it already has
		disabled bool
	}
	cases := []struct {
		name      string
		agents    []agent // come online in this order, a second apart
		dedicated string
		tags      []string
		want      string // "" means the ticket waits
	}{
		{
			name:      "the customer's dedicated agent gets the conversation when online and free",
			agents:    []agent{{id: "ann", presence: "online", load: 3}, {id: "bob", presence: "online"}},
			dedicated: "ann", want: "ann",
		},
		{
			name:      "an offline dedicated agent is passed over for the least busy one online",
			agents:    []agent{{id: "ann"}, {id: "bob", presence: "online", load: 1}, {id: "cyd", presence: "online"}},
			dedicated: "ann", want: "cyd",
		},
		{
			name:      "a dedicated agent who is away is passed over",
			agents:    []agent{{id: "ann", presence: "away"}, {id: "bob", presence: "online"}},
			dedicated: "ann", want: "bob",
		},
		{
			name:      "a dedicated agent at capacity is passed over",
			agents:    []agent{{id: "ann", presence: "online", max: 2, load: 2}, {id: "bob", presence: "online", load: 4}},
			dedicated: "ann", want: "bob",
		},
		{
			name:      "a dedicated agent at capacity with nobody else online means waiting",
			agents:    []agent{{id: "ann", presence: "online", max: 1, load: 1}},
			dedicated: "ann", want: "",
		},
		{
			name:   "an agent of the topic's team is preferred to a less busy outsider",
			agents: []agent{{id: "ann", presence: "online"}, {id: "bob", teams: []string{"payments"}, presence: "online", load: 2}},
			tags:   []string{"refund", "billing"}, want: "bob",
		},
		{
			name: "the least busy agent of the team gets it",
			agents: []agent{
				{id: "ann", teams: []string{"payments"}, presence: "online", load: 2},
				{id: "bob", teams: []string{"payments", "logistics"}, presence: "online", load: 1},
				{id: "cyd", presence: "online"},
			},
			tags: []string{"billing"}, want: "bob",
		},
		{
			name:   "with the team offline anyone free gets it",
			agents: []agent{{id: "ann", teams: []string{"payments"}}, {id: "bob", presence: "online", load: 1}},
			tags:   []string{"billing"}, want: "bob",
		},
		{
			name:   "with the team at capacity anyone free gets it",
			agents: []agent{{id: "ann", teams: []string{"payments"}, presence: "online", max: 1, load: 1}, {id: "bob", presence: "online", load: 3}},
			tags:   []string{"billing"}, want: "bob",
		},
		{
			name:   "among equally busy agents the one idle longest gets it",
			agents: []agent{{id: "cyd", presence: "online"}, {id: "ann", presence: "online"}, {id: "bob", presence: "online"}},
			want:   "cyd",
		},
		{
			name:   "agents at capacity get nothing and the ticket waits",
			agents: []agent{{id: "ann", presence: "online", max: 1, load: 1}, {id: "bob", presence: "online", load: 5}},
			want:   "",
		},
		{
			name:   "with nobody online the ticket waits",
			agents: []agent{{id: "ann", presence: "away"}, {id: "bob"}},
			want:   "",
		},
		{
			name:   "a disabled agent gets nothing even if its console still beats",
			agents: []agent{{id: "ann", presence: "online", disabled: true}},
			want:   "",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, handoff.Options{Teams: map[string]string{"billing": "payments", "shipping": "logistics"}})
			for _, a := range tc.agents {
				r.agent(a.id, handoff.RoleAgent, a.max, a.teams...)
				for i := range a.load {
					r.assignedTicket(fmt.Sprintf("load-%s-%d", a.id, i), a.id)
				}
				if a.presence != "" {
					if err := r.queue.Heartbeat(r.ctx, a.id, a.presence); err != nil {
						t.Fatal(err)
					}
				}
				if a.disabled {
					ag := r.agentRecord(a.id)
					ag.Disabled = true
					if err := r.db.SaveAgent(r.ctx, &ag); err != nil {
						t.Fatal(err)
					}
				}
				r.clock.Add(time.Second)
			}
			got := r.enqueue("con_1", bot.PriorityNormal, tc.dedicated, tc.tags...)
			if got.Agent != tc.want {
				t.Errorf("ticket went to %q, want %q", got.Agent, tc.want)
			}
			if stored := r.ticket("con_1"); stored != got {
				t.Errorf("stored ticket %+v differs from returned %+v", stored, got)
			}
			wantStatus := handoff.StatusAssigned
			if tc.want == "" {
				wantStatus = handoff.StatusQueued
			}
			if got.Status != wantStatus || got.Offered != (tc.want != "") {
				t.Errorf("ticket status %s offered %v, want %s offered %v", got.Status, got.Offered, wantStatus, tc.want != "")
			}
			// Routing only offers the conversation: until the agent
			// accepts it, it waits in the queue as the customer sees it.
			if state, owner := r.conversationState("con_1"); state != bot.StateQueued || owner != "" {
				t.Errorf("conversation is %s/%q, want queued until accepted", state, owner)
			}
			if tc.want == "" {
				return
			}
			if _, err := r.queue.Claim(r.ctx, "con_1", tc.want); err != nil {
				t.Fatalf("%s accepting the offer: %v", tc.want, err)
			}
			if state, owner := r.conversationState("con_1"); state != bot.StateAgent || owner != tc.want {
				t.Errorf("accepted conversation is %s/%q, want agent/%q", state, owner, tc.want)
			}
		})
	}
}

func TestWaitingTicketsAreServedByPriorityThenAge(t *testing.T) {
	r := newRig(t, handoff.Options{})
	r.agent("ann", handoff.RoleAgent, 1)
	// Nobody is online: everything waits.
	r.enqueue("old-normal", bot.PriorityNormal, "")
	r.clock.Add(time.Minute)
	r.enqueue("vip", bot.PriorityVIP, "")
	r.clock.Add(time.Minute)
	r.enqueue("new-normal", bot.PriorityNormal, "")
	r.clock.Add(time.Minute)
	r.enqueue("frustrated", bot.PriorityHigh, "")

	waiting, err := r.queue.Tickets(r.ctx, handoff.Filter{Status: handoff.StatusQueued})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, tk := range waiting {
		order = append(order, tk.ConversationID)
	}
	want := []string{"vip", "frustrated", "old-normal", "new-normal"}
	if !slices.Equal(order, want) {
		t.Fatalf("queue order %v, want %v", order, want)
	}
	for i, id := range want {
		p, err := r.queue.Position(r.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Position != i+1 {
			t.Errorf("%s is at position %d, want %d", id, p.Position, i+1)
		}
	}

	// Ann, who takes one conversation at a time, comes online: she gets
	// the head of the queue, and each time she frees up, the next one.
	r.online("ann")
	for _, id := range want {
		tk := r.ticket(id)
		if tk.Agent != "ann" {
			t.Fatalf("ann should have %s now; it is %s with %q", id, tk.Status, tk.Agent)
		}
		if _, err := r.queue.Resolve(r.ctx, id, "ann"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTeamComesFromTheTagsOfTheCustomersLastTopic(t *testing.T) {
	r := newRig(t, handoff.Options{
		Teams:       map[string]string{"returns": "logistics"},
		ArticleTags: func(id string) []string { return map[string][]string{"return-label": {"shipping", "returns"}}[id] },
	})
	r.agent("ann", handoff.RoleAgent, 0)
	r.agent("bob", handoff.RoleAgent, 0, "logistics")
	r.online("ann", "bob")
	c, cust := r.conversation("con_1", bot.PriorityNormal, "")
	cust.Topics = []bot.Topic{{ArticleID: "return-label", Title: "Print a return label"}, {ArticleID: "other"}}
	if err := r.queue.Enqueue(r.ctx, c, cust); err != nil {
		t.Fatal(err)
	}
	if tk := r.ticket("con_1"); tk.Team != "logistics" || tk.Agent != "bob" {
		t.Errorf("ticket is for team %q with %q, want logistics with bob", tk.Team, tk.Agent)
	}
}

func TestManualAssignmentLeavesTicketsForAgentsToClaim(t *testing.T) {
	r := newRig(t, handoff.Options{ManualAssign: true})
	r.agent("ann", handoff.RoleAgent, 0)
	r.online("ann")
	if tk := r.enqueue("con_1", bot.PriorityNormal, "ann"); tk.Status != handoff.StatusQueued || tk.Agent != "" {
		t.Fatalf("with manual assignment the ticket should wait, got %s with %q", tk.Status, tk.Agent)
	}
	if _, err := r.queue.Claim(r.ctx, "con_1", "ann"); err != nil {
		t.Fatal(err)
	}
	if state, owner := r.conversationState("con_1"); state != bot.StateAgent || owner != "ann" {
		t.Errorf("after the claim the conversation is %s/%q, want agent/ann", state, owner)
	}
}

func TestATicketTransferredToATeamWaitsForThatTeam(t *testing.T) {
	r := newRig(t, handoff.Options{})
	r.agent("ann", handoff.RoleAgent, 0)
	r.agent("bob", handoff.RoleAgent, 0)
	r.agent("pat", handoff.RoleAgent, 0, "payments")
	r.online("ann", "bob")
	first := r.enqueue("con_1", bot.PriorityNormal, "").Agent
	if _, err := r.queue.Transfer(r.ctx, "con_1", first, handoff.Target{Team: "payments"}); err != nil {
		t.Fatal(err)
	}
	if tk := r.ticket("con_1"); tk.Status != handoff.StatusQueued || tk.Agent != "" {
		t.Fatalf("with nobody of payments online the ticket should wait; it is %s with %q", tk.Status, tk.Agent)
	}
	r.online("pat")
	if tk := r.ticket("con_1"); tk.Agent != "pat" {
		t.Errorf("once pat of payments is online the ticket is with %q, want pat", tk.Agent)
	}
}

func TestAnOfferGoesBackToTheQueueWhenItsAgentLeavesBeforeAccepting(t *testing.T) {
	r := newRig(t, handoff.Options{})
	r.agent("ann", handoff.RoleAgent, 0)
	r.online("ann")
	if got := r.enqueue("con_1", bot.PriorityNormal, ""); got.Agent != "ann" || !got.Offered {
		t.Fatalf("ticket %+v, want offered to ann", got)
	}
	sub := r.queue.Subscribe(16)
	defer sub.Close()
	if err := r.queue.Heartbeat(r.ctx, "ann", handoff.PresenceAway); err != nil {
		t.Fatal(err)
	}
	got := r.ticket("con_1")
	if got.Status != handoff.StatusQueued || got.Agent != "" || got.Offered {
		t.Errorf("after ann went away the ticket is %s with %q (offered %v), want waiting again", got.Status, got.Agent, got.Offered)
	}
	if !slices.Contains(kinds(drain(sub)), handoff.EventWithdrawn) {
		t.Error("no withdrawn event")
	}
	if state, _ := r.conversationState("con_1"); state != bot.StateQueued {
		t.Errorf("conversation is %s, want queued", state)
	}
	// Back online, ann is offered it again; an accepted conversation
	// stays hers when she steps away.
	r.online("ann")
	if got := r.ticket("con_1"); got.Agent != "ann" || !got.Offered {
		t.Fatalf("back online: ticket %+v, want offered to ann", got)
	}
	if _, err := r.queue.Claim(r.ctx, "con_1", "ann"); err != nil {
		t.Fatal(err)
	}
	if err := r.queue.Heartbeat(r.ctx, "ann", handoff.PresenceAway); err != nil {
		t.Fatal(err)
	}
	if got := r.ticket("con_1"); got.Agent != "ann" || got.Offered || got.Status != handoff.StatusAssigned {
		t.Errorf("accepted ticket after ann went away: %+v, want still hers", got)
	}
}

func TestNothingIsOfferedOutsideBusinessHoursUntilTheyBegin(t *testing.T) {
	hours := handoff.MustParseHours("mon-fri 09:00-17:00", "", "UTC")
	r := newRig(t, handoff.Options{Hours: hours, PresenceTimeout: 100 * time.Hour, CheckEvery: 5 * time.Millisecond})
	saturday := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	r.clock.Set(saturday)
	r.agent("ann", handoff.RoleAgent, 0)
	r.online("ann")
	if got := r.enqueue("con_1", bot.PriorityNormal, ""); got.Agent != "" || got.Status != handoff.StatusQueued {
		t.Fatalf("on Saturday the ticket went to %q (%s), want it waiting", got.Agent, got.Status)
	}
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() { r.queue.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(30 * time.Millisecond)
	if got := r.ticket("con_1"); got.Agent != "" {
		t.Fatalf("still Saturday, the ticket went to %q", got.Agent)
	}
	// Monday morning: Run hands out what waited.
	r.clock.Set(time.Date(2026, 11, 30, 9, 0, 30, 0, time.UTC))
	deadline := time.Now().Add(5 * time.Second)
	for r.ticket("con_1").Agent != "ann" {
		if time.Now().After(deadline) {
			t.Fatal("at opening time the waiting ticket was not offered to ann")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := r.ticket("con_1"); !got.Offered {
		t.Errorf("ticket %+v, want offered", got)
	}
}

func TestAnUnopenedOfferCountsTowardsTheSLA(t *testing.T) {
	r := newRig(t, handoff.Options{PresenceTimeout: 100 * time.Hour})
	r.agent("ann", handoff.RoleAgent, 0)
	r.online("ann")
	r.enqueue("con_1", bot.PriorityNormal, "")
	bumped, err := r.queue.CheckSLA(r.ctx, r.clock.Now().Add(6*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(bumped) != 1 || !r.ticket("con_1").SLABreached {
		t.Errorf("an offer left unopened past its SLA: bumped %v", bumped)
	}
}

func TestOffersToAnAgentWhoIsNotOnlineGoBackToTheQueue(t *testing.T) {
	r := newRig(t, handoff.Options{CheckEvery: 5 * time.Millisecond})
	r.agent("ann", handoff.RoleAgent, 0)
	r.online("ann")
	r.enqueue("con_1", bot.PriorityNormal, "")
	// A restart: presence lives in memory, the offer on disk.
	r.restart()
	if got := r.ticket("con_1"); got.Agent != "ann" || !got.Offered {
		t.Fatalf("after the restart: %+v, want still offered to ann", got)
	}
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() { r.queue.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for got := r.ticket("con_1"); got.Agent != "" || got.Status != handoff.StatusQueued; got = r.ticket("con_1") {
		if time.Now().After(deadline) {
			t.Fatalf("ticket %+v: the offer to ann, not online, was not withdrawn", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
