package handoff_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

func TestSLAFor(t *testing.T) {
	sla := map[int]time.Duration{0: 5 * time.Minute, 1: 2 * time.Minute, 3: 0}
	cases := []struct {
		name     string
		priority int
		want     time.Duration
	}{
		{"a priority with an entry gets it", 1, 2 * time.Minute},
		{"a priority without one gets the next lower entry's", 2, 2 * time.Minute},
		{"an entry of zero means no SLA", 3, 0},
		{"a priority above a zero entry has no SLA either", 7, 0},
		{"a priority below every entry has no SLA", -1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := handoff.SLAFor(sla, tc.priority); got != tc.want {
				t.Errorf("SLAFor(%d) = %v, want %v", tc.priority, got, tc.want)
			}
		})
	}
	if got := handoff.SLAFor(handoff.DefaultSLA(), bot.PriorityVIP+bot.PriorityHigh); got != time.Minute {
		t.Errorf("a frustrated VIP's default SLA is %v, want 1m", got)
	}
}

func TestCheckSLA(t *testing.T) {
	r := newRig(t, handoff.Options{})
	normal := r.enqueue("normal", bot.PriorityNormal, "")
	vip := r.enqueue("vip", bot.PriorityVIP, "")
	sub := r.queue.Subscribe(10)
	defer sub.Close()
	check := func(after time.Duration) []string {
		t.Helper()
		bumped, err := r.queue.CheckSLA(r.ctx, start.Add(after))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tk := range bumped {
			ids = append(ids, tk.ConversationID)
		}
		return ids
	}

	if got := check(time.Minute); len(got) != 0 {
		t.Errorf("after exactly a minute nothing is late, got %v", got)
	}
	if got := check(61 * time.Second); len(got) != 1 || got[0] != "vip" {
		t.Errorf("after 61s only the VIP is late, got %v", got)
	}
	if got := check(4 * time.Minute); len(got) != 0 {
		t.Errorf("a breach is reported once; after 4m got %v", got)
	}
	if got := check(6 * time.Minute); len(got) != 1 || got[0] != "normal" {
		t.Errorf("after 6m the normal ticket is late, got %v", got)
	}
	if tk := r.ticket("vip"); !tk.SLABreached || tk.Priority != vip.Priority+1 {
		t.Errorf("the late VIP ticket: breached %v priority %d, want true and %d", tk.SLABreached, tk.Priority, vip.Priority+1)
	}
	if tk := r.ticket("normal"); !tk.SLABreached || tk.Priority != normal.Priority+1 {
		t.Errorf("the late normal ticket: breached %v priority %d, want true and %d", tk.SLABreached, tk.Priority, normal.Priority+1)
	}
	es := drain(sub)
	if len(es) != 2 || es[0].Kind != handoff.EventSLABreach || es[0].Ticket.ConversationID != "vip" {
		t.Errorf("events %v, want two SLA breaches, the VIP's first", kinds(es))
	}
}

func TestSLACountsOnlyBusinessHours(t *testing.T) {
	r := newRig(t, handoff.Options{Hours: handoff.MustParseHours("mon-fri 09:00-17:00", "", "UTC")})
	friday := time.Date(2026, 11, 27, 16, 58, 0, 0, time.UTC)
	r.clock.Set(friday)
	r.enqueue("con_1", bot.PriorityNormal, "")
	monday := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   time.Time
		late bool
	}{
		{friday.Add(time.Hour), false},       // closed: the clock stops at 2m
		{monday.Add(3 * time.Minute), false}, // 2m on Friday + 3m on Monday = 5m
		{monday.Add(3*time.Minute + time.Second), true},
	} {
		bumped, err := r.queue.CheckSLA(r.ctx, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		if late := len(bumped) == 1; late != tc.late {
			t.Errorf("at %v: late %v, want %v", tc.at, late, tc.late)
		}
	}
}

func TestAssignedTicketsHaveNoWaitingSLA(t *testing.T) {
	r := newRig(t, handoff.Options{})
	r.agent("ann", handoff.RoleAgent, 0)
	r.online("ann")
	r.enqueue("con_1", bot.PriorityNormal, "")
	if _, err := r.queue.Claim(r.ctx, "con_1", "ann"); err != nil {
		t.Fatal(err) // accepted: ann has it (an unopened offer still counts)
	}
	if bumped, _ := r.queue.CheckSLA(r.ctx, start.Add(time.Hour)); len(bumped) != 0 {
		t.Errorf("an assigned ticket was reported late: %v", bumped)
	}
}

func TestRunChecksUntilCancelled(t *testing.T) {
	r := newRig(t, handoff.Options{CheckEvery: time.Millisecond, PresenceTimeout: time.Minute})
	r.agent("ann", handoff.RoleAgent, 0)
	if err := r.queue.Heartbeat(r.ctx, "ann", handoff.PresenceAway); err != nil {
		t.Fatal(err)
	}
	r.enqueue("con_1", bot.PriorityNormal, "")
	sub := r.queue.Subscribe(10)
	defer sub.Close()
	r.clock.Add(time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.queue.Run(ctx)
		close(done)
	}()
	seen := map[handoff.EventKind]bool{}
	timeout := time.After(5 * time.Second)
	for !seen[handoff.EventSLABreach] || !seen[handoff.EventPresence] {
		select {
		case e := <-sub.C():
			seen[e.Kind] = true
		case <-timeout:
			t.Fatalf("Run did not report the breach and the timed-out agent; saw %v", seen)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}
