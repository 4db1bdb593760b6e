package handoff

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// candidate is an online, enabled agent as routing sees it.
type candidate struct {
	agent Agent
	load  int       // assigned open tickets
	idle  time.Time // since when the agent has had no new ticket
}

// candidates returns the agents who are online and enabled, with their
// load counted from the open tickets. q.mu must be held.
func (q *Queue) candidates(ctx context.Context, open []Ticket, now time.Time) ([]candidate, error) {
	agents, err := q.store.Agents(ctx)
	if err != nil {
		return nil, fmt.Errorf("load agents: %w", err)
	}
	load := map[string]int{}
	for _, t := range open {
		if t.Status == StatusAssigned {
			load[t.Agent]++
		}
	}
	var out []candidate
	for _, a := range agents {
		if a.Disabled || q.presenceAt(a.ID, now) != PresenceOnline {
			continue
		}
		idle := q.presence[a.ID].since
		if at := q.lastAssigned[a.ID]; at.After(idle) {
			idle = at
		}
		out = append(out, candidate{agent: a, load: load[a.ID], idle: idle})
	}
	return out, nil
}

// plan decides which waiting tickets go to which agents now, serving the
// tickets in queue order. It returns ticket id -> agent id for the
// tickets that get an agent; cands' loads are updated as it goes.
//
// A ticket goes, in order of preference, to:
//  1. its dedicated agent, if online and under capacity;
//  2. else the least busy online agent of its team under capacity;
//  3. else (unless the ticket was transferred to its team) the least busy
//     online agent under capacity;
//  4. else it waits.
//
// "Least busy" is fewest assigned conversations, then longest without a
// new one, then agent id. Second-tier tickets go to supervisors and
// admins only.
func plan(waiting []Ticket, cands []candidate) map[string]string {
	waiting = slices.Clone(waiting)
	slices.SortFunc(waiting, queueOrder)
	out := map[string]string{}
	for _, t := range waiting {
		if i := pick(&t, cands); i >= 0 {
			out[t.ID] = cands[i].agent.ID
			cands[i].load++
		}
	}
	return out
}

// pick returns the index in cands of the agent to give t to, or -1.
func pick(t *Ticket, cands []candidate) int {
	free := func(c *candidate) bool {
		return c.load < c.agent.Capacity() && (t.Tier <= 1 || CanSupervise(&c.agent))
	}
	if t.DedicatedAgent != "" {
		for i := range cands {
			if c := &cands[i]; c.agent.ID == t.DedicatedAgent && free(c) {
				return i
			}
		}
	}
	best := func(ok func(*candidate) bool) int {
		b := -1
		for i := range cands {
			if c := &cands[i]; free(c) && ok(c) && (b < 0 || lessBusy(c, &cands[b])) {
				b = i
			}
		}
		return b
	}
	if t.Team != "" {
		if i := best(func(c *candidate) bool { return c.agent.InTeam(t.Team) }); i >= 0 || t.TeamOnly {
			return i
		}
	}
	return best(func(*candidate) bool { return true })
}

func lessBusy(a, b *candidate) bool {
	if a.load != b.load {
		return a.load < b.load
	}
	if c := a.idle.Compare(b.idle); c != 0 {
		return c < 0
	}
	return cmp.Less(a.agent.ID, b.agent.ID)
}

// dispatch gives waiting tickets to free online agents, following plan,
// unless assignment is manual. It runs whenever work or capacity appears:
// a hand-off, an agent coming online, a ticket leaving an agent. q.mu
// must be held.
func (q *Queue) dispatch(ctx context.Context) error {
	if q.opts.ManualAssign {
		return nil
	}
	now := q.now()
	open, err := q.store.OpenTickets(ctx)
	if err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	var waiting []Ticket
	for _, t := range open {
		if t.Waiting() {
			waiting = append(waiting, t)
		}
	}
	if len(waiting) == 0 {
		return nil
	}
	cands, err := q.candidates(ctx, open, now)
	if err != nil || len(cands) == 0 {
		return err
	}
	assign := plan(waiting, cands)
	slices.SortFunc(waiting, queueOrder)
	for _, w := range waiting {
		agent := assign[w.ID]
		if agent == "" {
			continue
		}
		t, changed, err := q.update(ctx, w.ConversationID, func(t *Ticket) error {
			if t.ID != w.ID || !t.Waiting() {
				return errNoChange
			}
			t.Agent, t.Status, t.AssignedAt = agent, StatusAssigned, now
			return nil
		})
		if err != nil {
			return fmt.Errorf("dispatch %s: %w", w.ConversationID, err)
		}
		if changed {
			if err := q.assigned(ctx, t, now); err != nil {
				return fmt.Errorf("dispatch %s: %w", w.ConversationID, err)
			}
		}
	}
	return nil
}
