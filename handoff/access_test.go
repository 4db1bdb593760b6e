package handoff_test

import (
	"fmt"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// TestTheAccessRules walks role × act × ownership.
func TestTheAccessRules(t *testing.T) {
	agent := &handoff.Agent{ID: "agt_ann", Role: handoff.RoleAgent}
	other := &handoff.Agent{ID: "agt_bob", Role: handoff.RoleAgent}
	super := &handoff.Agent{ID: "agt_sue", Role: handoff.RoleSupervisor}
	admin := &handoff.Agent{ID: "agt_ada", Role: handoff.RoleAdmin}
	disabled := &handoff.Agent{ID: "agt_dan", Role: handoff.RoleAdmin, Disabled: true}

	owned := handoff.Situation{Conversation: &bot.Conversation{State: bot.StateAgent, Agent: "agt_ann"},
		Ticket: &handoff.Ticket{Status: handoff.StatusAssigned, Agent: "agt_ann"}}
	waiting := handoff.Situation{Conversation: &bot.Conversation{State: bot.StateQueued},
		Ticket: &handoff.Ticket{Status: handoff.StatusQueued}}
	withBot := handoff.Situation{Conversation: &bot.Conversation{State: bot.StateBot}}
	sameCustomer := withBot
	sameCustomer.HasCustomer = true
	resolvedByAnn := handoff.Situation{Conversation: &bot.Conversation{State: bot.StateBot},
		Ticket: &handoff.Ticket{Status: handoff.StatusResolved, Agent: "agt_ann"}}
	offeredToAnn := handoff.Situation{Conversation: &bot.Conversation{State: bot.StateQueued},
		Ticket: &handoff.Ticket{Status: handoff.StatusAssigned, Agent: "agt_ann", Offered: true}}

	// want lists, per situation and act, who may: a = agent (Ann, the
	// owner where there is one), o = another agent, s = supervisor,
	// d = admin.
	cases := []struct {
		sit  string
		s    handoff.Situation
		act  handoff.Access
		want string
	}{
		{"owned by Ann", owned, handoff.AccessRead, "asd"},
		{"owned by Ann", owned, handoff.AccessNote, "asd"},
		{"owned by Ann", owned, handoff.AccessReply, "a"},
		{"owned by Ann", owned, handoff.AccessEditCustomer, "asd"},
		{"waiting", waiting, handoff.AccessRead, "aosd"},
		{"waiting", waiting, handoff.AccessReply, ""},
		{"waiting", waiting, handoff.AccessEditCustomer, "sd"},
		{"with the bot", withBot, handoff.AccessRead, "sd"},
		{"with the bot", withBot, handoff.AccessReply, ""},
		{"with the bot, Ann helps the customer", sameCustomer, handoff.AccessRead, "asd"},
		{"with the bot, Ann helps the customer", sameCustomer, handoff.AccessEditCustomer, "asd"},
		{"resolved by Ann", resolvedByAnn, handoff.AccessRead, "asd"},
		{"resolved by Ann", resolvedByAnn, handoff.AccessReply, ""},
		{"offered to Ann", offeredToAnn, handoff.AccessRead, "asd"},
		{"offered to Ann", offeredToAnn, handoff.AccessReply, ""},
		{"anywhere", withBot, handoff.AccessManageAgents, "d"},
		{"anywhere", withBot, handoff.AccessManageData, "d"},
	}
	for _, c := range cases {
		for key, a := range map[byte]*handoff.Agent{'a': agent, 'o': other, 's': super, 'd': admin} {
			s := c.s
			if key == 'o' && s.HasCustomer {
				s.HasCustomer = false // the other agent is not helping the customer
			}
			want := false
			for i := range len(c.want) {
				want = want || c.want[i] == key
			}
			t.Run(fmt.Sprintf("%s %s by %c", c.sit, c.act, key), func(t *testing.T) {
				if got := handoff.May(a, c.act, s); got != want {
					t.Errorf("May = %v, want %v", got, want)
				}
			})
		}
		if handoff.May(disabled, c.act, c.s) {
			t.Errorf("a disabled admin may %s (%s)", c.act, c.sit)
		}
	}
}

func TestSegments(t *testing.T) {
	for in, want := range map[string]string{"VIP": "vip", " b2b ": "b2b", "": "", "trade-2": "trade-2"} {
		if got, err := handoff.Segment(in); err != nil || got != want {
			t.Errorf("Segment(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"very important", "<b>", "-x", "a-very-long-segment-name-over-32-chars"} {
		if _, err := handoff.Segment(bad); bot.ErrorCode(err) != bot.CodeInvalid {
			t.Errorf("Segment(%q): %v, want invalid", bad, err)
		}
	}
}
