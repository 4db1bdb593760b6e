package handoff

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// candidate is an online, enabled agent as routing sees it.
type candidate struct {
	agent Agent
	load  int       // assigned open tickets
	idle  time.Time // since when the agent has had no new ticket
}

// online returns the agents online at now, each with the time since
// which it has had no new ticket.
func (q *Queue) online(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	ps, err := q.opts.Presence.Present(ctx, now, q.opts.PresenceTimeout)
	if err != nil {
		return nil, fmt.Errorf("read presence: %w", err)
	}
	return onlineOf(ps), nil
}

// onlineOf returns the online agents of ps, each with the time since
// which it has had no new ticket.
func onlineOf(ps map[string]AgentPresence) map[string]time.Time {
	out := map[string]time.Time{}
	for id, p := range ps {
		if p.Status != PresenceOnline {
			continue
		}
		idle := p.Since
		if p.LastAssigned.After(idle) {
			idle = p.LastAssigned
		}
		out[id] = idle
	}
	return out
}

// candidates returns the agents who are online and enabled, with their
// load counted from the open tickets.
func candidates(agents []Agent, online map[string]time.Time, open []Ticket) []candidate {
	load := map[string]int{}
	for _, t := range open {
		if t.Status == StatusAssigned {
			load[t.Agent]++
		}
	}
	var out []candidate
	for _, a := range agents {
		idle, ok := online[a.ID]
		if a.Disabled || !ok {
			continue
		}
		out = append(out, candidate{agent: a, load: load[a.ID], idle: idle})
	}
	return out
}

// route returns the agent a new waiting ticket goes to right away, inside
// its hand-off's act a, or "" when it must wait (see plan).
func (q *Queue) route(a *bot.Act, tt TicketTx, t Ticket, now time.Time) (string, error) {
	if q.opts.ManualAssign || !q.opts.Hours.Open(now) {
		return "", nil
	}
	ps, err := q.opts.Presence.PresentIn(a.Tx(), now, q.opts.PresenceTimeout)
	if err != nil {
		return "", fmt.Errorf("read presence: %w", err)
	}
	online := onlineOf(ps)
	if len(online) == 0 {
		return "", nil
	}
	open, err := tt.OpenTickets()
	if err != nil {
		return "", err
	}
	var agents []Agent
	for id := range online {
		if a, err := tt.Agent(id); err == nil {
			agents = append(agents, *a)
		}
	}
	waiting := []Ticket{t}
	for _, o := range open {
		if o.Waiting() && o.ID != t.ID {
			waiting = append(waiting, o)
		}
	}
	return plan(waiting, candidates(agents, online, open))[t.ID], nil
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

// dispatch offers waiting tickets to free online agents, following plan,
// unless assignment is manual or it is outside business hours. An offer
// reserves the ticket for the agent (Ticket.Offered); the customer hears
// that a person joined only once the agent accepts it (Queue.Claim). It runs whenever work or capacity appears:
// a hand-off, an agent coming online, a ticket leaving an agent. It plans
// on a snapshot and makes each assignment an act that checks, in its
// transaction, that the ticket still waits and the agent still has room,
// so dispatches, claims and transfers may run at once.
func (q *Queue) dispatch(ctx context.Context) error {
	if q.opts.ManualAssign {
		return nil
	}
	now := q.now()
	if !q.opts.Hours.Open(now) {
		// Outside business hours nothing is handed out: an agent who
		// looks in then claims by hand.
		return nil
	}
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
	online, err := q.online(ctx, now)
	if err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	if len(online) == 0 {
		return nil
	}
	agents, err := q.store.Agents(ctx)
	if err != nil {
		return fmt.Errorf("dispatch: load agents: %w", err)
	}
	cands := candidates(agents, online, open)
	if len(cands) == 0 {
		return nil
	}
	assign := plan(waiting, cands)
	slices.SortFunc(waiting, queueOrder)
	for _, w := range waiting {
		if agent := assign[w.ID]; agent != "" {
			if err := q.assign(ctx, w, agent, now); err != nil {
				return fmt.Errorf("dispatch %s: %w", w.ConversationID, err)
			}
		}
	}
	return nil
}

// assign gives the waiting ticket w to the agent, in one act, if it still
// waits and the agent is still enabled and under capacity.
func (q *Queue) assign(ctx context.Context, w Ticket, agentID string, now time.Time) error {
	t, changed, err := q.change(ctx, w.ConversationID, func(_ *bot.Act, tt TicketTx, t *Ticket) ([]Event, error) {
		if t.ID != w.ID || !t.Waiting() {
			return nil, errNoChange
		}
		a, err := tt.Agent(agentID)
		if err != nil || a.Disabled {
			return nil, errNoChange
		}
		open, err := tt.OpenTickets()
		if err != nil {
			return nil, err
		}
		load := 0
		for _, o := range open {
			if o.Status == StatusAssigned && o.Agent == agentID {
				load++
			}
		}
		if load >= a.Capacity() {
			return nil, errNoChange
		}
		t.Agent, t.Status, t.AssignedAt, t.Offered = agentID, StatusAssigned, now, true
		ev := *t
		return []Event{{Kind: EventAssigned, Ticket: &ev, Agent: agentID, At: now}}, nil
	})
	if err == nil && changed {
		q.assigned(t, now)
	}
	return err
}
