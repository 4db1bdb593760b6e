package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// Owner runs acts on conversations: the bot engine implements it. The
// Queue changes a ticket and its conversation's owner (and the notice the
// customer sees) in one act, through bot.Act.
type Owner interface {
	Act(ctx context.Context, conversationID string, fn func(a *bot.Act) error) error
}

// OwnerOf is who owns a conversation whose latest ticket is t: the agent
// of an assigned ticket the agent has accepted, the queue while it waits
// or is only offered to an agent, the bot once it is closed. A
// conversation's owner is only ever written from its ticket by this rule,
// in the ticket's act, so the two cannot disagree; and so the customer is
// told a person joined only once one has accepted the conversation.
func OwnerOf(t Ticket) (bot.State, string) {
	switch {
	case t.Status == StatusAssigned && !t.Offered:
		return bot.StateAgent, t.Agent
	case t.Status == StatusQueued, t.Status == StatusAssigned:
		return bot.StateQueued, ""
	}
	return bot.StateBot, ""
}

// Options configure a Queue. The zero value is usable: no teams,
// automatic assignment, default SLAs, always open, the real clock.
type Options struct {
	// Teams maps an article tag to the team that handles its topic.
	Teams map[string]string
	// ArticleTags, if set, returns an article's tags. When Enqueue is not
	// given tags, the team is found from the tags of the article the
	// customer was last answered with.
	ArticleTags func(articleID string) []string
	// ManualAssign turns automatic assignment off: tickets wait until an
	// agent claims them.
	ManualAssign bool
	// SLA is how long a ticket of a priority may wait (see SLAFor);
	// nil means DefaultSLA.
	SLA map[int]time.Duration
	// Hours are the business hours (zero: always open).
	Hours Hours
	// PresenceTimeout is how long without a heartbeat an agent counts as
	// offline (default 60 seconds).
	PresenceTimeout time.Duration
	// DefaultWait is the expected wait per queue position before any
	// ticket has been assigned (default 3 minutes).
	DefaultWait time.Duration
	// CheckEvery is how often Run checks SLAs and presence (default 5
	// seconds).
	CheckEvery time.Duration
	// Relay, if set, carries the queue's events to and from the other
	// nodes sharing the store (see Relay); nil: this node's subscribers
	// get this node's events.
	Relay Relay
	// Presence keeps agents' presence; nil: in this process's memory
	// (MemoryPresence). Nodes sharing a store share it too, so that
	// routing on any node sees the agents online on every node.
	Presence PresenceStore
	Log      *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// waitSamples is how many recent waits the position estimate averages.
const waitSamples = 20

// Queue is the agent queue: it turns hand-offs into tickets, routes them
// to agents, and carries out what agents do with them. Every change to a
// ticket is one act with its conversation's owner and the customer's
// notice, stored before the call returns and before its events are
// published; presence lives in Options.Presence (memory by default),
// events go through Options.Relay when set, and recent waits live in
// memory.
//
// Each change is a compare-and-set on the ticket inside its act's
// transaction, so a conversation has one owner at a time even when callers
// race; no lock is held while the disk works. The mutex guards only the
// in-memory state. Queue implements bot.Handoff.
type Queue struct {
	store  Store
	owner  Owner
	opts   Options
	events bot.Feed[Event]

	// beat orders heartbeats, so that presence events follow the
	// presence they report.
	beat  sync.Mutex
	mu    sync.Mutex
	waits []time.Duration // recent queued-to-assigned waits, oldest first
}

var _ bot.Handoff = (*Queue)(nil)

// NewQueue returns a queue keeping tickets and reading agents in st and
// recording conversation owners with owner. It starts no goroutine; call
// Run for the SLA and presence timers.
func NewQueue(st Store, owner Owner, opts Options) *Queue {
	if opts.SLA == nil {
		opts.SLA = DefaultSLA()
	}
	if opts.PresenceTimeout <= 0 {
		opts.PresenceTimeout = 60 * time.Second
	}
	if opts.DefaultWait <= 0 {
		opts.DefaultWait = 3 * time.Minute
	}
	if opts.CheckEvery <= 0 {
		opts.CheckEvery = 5 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Presence == nil {
		opts.Presence = new(MemoryPresence)
	}
	return &Queue{store: st, owner: owner, opts: opts}
}

func (q *Queue) now() time.Time { return q.opts.Now().UTC() }

// Subscribe returns a subscription to every queue event (of every node,
// with a Relay). buffer bounds how many events may wait for the
// subscriber; one that falls further behind is dropped (see
// Subscription.Lagged), so a slow console never holds up the queue.
func (q *Queue) Subscribe(buffer int) *Subscription {
	if q.opts.Relay != nil {
		return q.opts.Relay.Subscribe(buffer)
	}
	return q.events.Subscribe("", buffer)
}

// announce publishes e once a's act is durable: to every node through
// the relay, else to this node's subscribers.
func (q *Queue) announce(a *bot.Act, e Event) error {
	if q.opts.Relay != nil {
		return q.opts.Relay.Announce(a.Tx(), e)
	}
	a.OnCommit(func() { q.events.Publish("", e) })
	return nil
}

// publish publishes e, which no act made, now.
func (q *Queue) publish(e Event) {
	if q.opts.Relay != nil {
		q.opts.Relay.Publish(e)
		return
	}
	q.events.Publish("", e)
}

// errNoChange aborts a ticket update that would change nothing.
var errNoChange = errors.New("no change")

// change is one act on a conversation's open ticket and its owner. Inside
// the act's transaction it loads the open ticket (a zero Ticket with only
// ConversationID when there is none), lets fn change it, stores it, sets
// the conversation's owner from it (OwnerOf) with the customer's notice,
// and publishes fn's events once the act is durable. If fn returns
// errNoChange nothing is written and change returns the ticket as stored
// with changed false; any other error is returned as it is.
func (q *Queue) change(ctx context.Context, conversationID string,
	fn func(a *bot.Act, tt TicketTx, t *Ticket) ([]Event, error)) (t Ticket, changed bool, err error) {
	err = q.owner.Act(ctx, conversationID, func(a *bot.Act) error {
		changed = false
		tt := q.store.TicketsIn(a.Tx())
		cur, err := tt.OpenTicket(conversationID)
		switch {
		case errors.Is(err, ErrNotFound):
			cur = &Ticket{ConversationID: conversationID}
		case err != nil:
			return err
		}
		t = *cur
		next := *cur
		events, err := fn(a, tt, &next)
		if err != nil {
			return err
		}
		if err := tt.PutTicket(&next); err != nil {
			return err
		}
		state, agent := OwnerOf(next)
		name := ""
		if agent != "" {
			if ag, err := tt.Agent(agent); err == nil {
				name = ag.Name
			}
		}
		if err := a.SetOwner(state, agent, name); err != nil {
			return err
		}
		if q.opts.Relay == nil {
			a.OnCommit(func() {
				for _, e := range events {
					q.events.Publish("", e)
				}
			})
		} else {
			for _, e := range events {
				if err := q.opts.Relay.Announce(a.Tx(), e); err != nil {
					return err
				}
			}
		}
		t, changed = next, true
		return nil
	})
	if errors.Is(err, errNoChange) {
		return t, false, nil
	}
	return t, changed, err
}

// EnqueueOptions refine a hand-off.
type EnqueueOptions struct {
	// Tags of the article the conversation is about, mapped to a team
	// through Options.Teams (the first tag with a team wins).
	Tags []string
}

// HandOff implements bot.Handoff: inside the turn's act that moved the
// conversation to the queue, it opens the conversation's ticket, and
// routes it once the act is durable.
func (q *Queue) HandOff(a *bot.Act, cust *bot.Customer) error {
	tt := q.store.TicketsIn(a.Tx())
	_, err := q.open(a, tt, cust, nil)
	return err
}

// Enqueue hands a conversation to people in an act of its own. It is
// EnqueueWith without options.
func (q *Queue) Enqueue(ctx context.Context, c bot.Conversation, cust bot.Customer) error {
	_, err := q.EnqueueWith(ctx, c, cust, EnqueueOptions{})
	return err
}

// EnqueueWith hands a conversation to people in one act and returns its
// ticket as it stands after routing: the conversation takes c's hand-off
// reason and priority and waits in the queue, and its ticket is opened
// (see open). When EnqueueWith returns nil, the ticket is stored.
func (q *Queue) EnqueueWith(ctx context.Context, c bot.Conversation, cust bot.Customer, eo EnqueueOptions) (Ticket, error) {
	err := q.owner.Act(ctx, c.ID, func(a *bot.Act) error {
		conv := a.Conversation()
		conv.HandoffReason = c.HandoffReason
		conv.Priority = max(conv.Priority, c.Priority)
		if conv.State != bot.StateQueued && conv.State != bot.StateAgent {
			if err := a.SetOwner(bot.StateQueued, "", ""); err != nil {
				return err
			}
		}
		_, err := q.open(a, q.store.TicketsIn(a.Tx()), &cust, eo.Tags)
		return err
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("enqueue %s: %w", c.ID, err)
	}
	t, err := q.store.Ticket(ctx, c.ID)
	if err != nil {
		return Ticket{}, fmt.Errorf("enqueue %s: %w", c.ID, err)
	}
	return *t, nil
}

// open opens the ticket of a's conversation, which waits for a person.
// A new ticket takes the conversation's hand-off reason and priority, the
// team of its topic and the customer's dedicated agent. If the
// conversation already has an open ticket, that ticket is kept, its
// priority raised to the conversation's if higher, and the conversation
// keeps the owner the ticket names: handing off twice never makes a second
// ticket nor takes a conversation from its agent. Once the act is durable
// the new ticket is announced and routed (see dispatch).
func (q *Queue) open(a *bot.Act, tt TicketTx, cust *bot.Customer, tags []string) (Ticket, error) {
	c := a.Conversation()
	now := q.now()
	cur, err := tt.OpenTicket(c.ID)
	var t Ticket
	switch {
	case errors.Is(err, ErrNotFound):
		t = Ticket{
			ID: bot.NewID("tkt_"), ConversationID: c.ID, CustomerID: c.CustomerID,
			Reason: c.HandoffReason, Priority: c.Priority, Team: q.teamFor(tags, cust),
			DedicatedAgent: cust.DedicatedAgent, Status: StatusQueued, Tier: 1,
			Created: now, QueuedAt: now,
		}
	case err != nil:
		return Ticket{}, err
	default:
		t = *cur
		t.Priority = max(t.Priority, c.Priority)
		if t.Team == "" {
			t.Team = q.teamFor(tags, cust)
		}
	}
	if cur == nil {
		queued := t
		if err := q.announce(a, Event{Kind: EventQueued, Ticket: &queued, At: now}); err != nil {
			return Ticket{}, err
		}
		// A free agent takes a new ticket in the same act, so the
		// customer is never told about a queue they are not in.
		agent, err := q.route(a, tt, t, now)
		if err != nil {
			return Ticket{}, err
		}
		if agent != "" {
			t.Agent, t.Status, t.AssignedAt, t.Offered = agent, StatusAssigned, now, true
			assigned := t
			if err := q.announce(a, Event{Kind: EventAssigned, Ticket: &assigned, Agent: agent, At: now}); err != nil {
				return Ticket{}, err
			}
			a.After(func(context.Context) { q.assigned(assigned, now) })
		}
	}
	if err := tt.PutTicket(&t); err != nil {
		return Ticket{}, err
	}
	state, agent := OwnerOf(t)
	name := ""
	if ag, err := tt.Agent(agent); agent != "" && err == nil {
		name = ag.Name
	}
	if err := a.SetOwner(state, agent, name); err != nil {
		return Ticket{}, err
	}
	if cur == nil {
		a.After(func(ctx context.Context) {
			q.opts.Log.Info("ticket queued", "conversation", t.ConversationID, "customer", t.CustomerID, "reason", t.Reason, "priority", t.Priority, "team", t.Team)
		})
	}
	if t.Waiting() {
		a.After(func(ctx context.Context) {
			if err := q.dispatch(ctx); err != nil {
				q.opts.Log.Error("route hand-off", "conversation", t.ConversationID, "err", err)
			}
		})
	}
	return t, nil
}

// teamFor returns the team of the first tag that has one.
func (q *Queue) teamFor(tags []string, cust *bot.Customer) string {
	if len(tags) == 0 && q.opts.ArticleTags != nil && cust != nil && len(cust.Topics) > 0 {
		tags = q.opts.ArticleTags(cust.Topics[0].ArticleID)
	}
	for _, tag := range tags {
		if team, ok := q.opts.Teams[tag]; ok {
			return team
		}
	}
	return ""
}

// assigned notes an assignment from the waiting queue that is durable:
// the wait is remembered for estimates and the agent's turn in routing.
func (q *Queue) assigned(t Ticket, now time.Time) {
	if err := q.opts.Presence.Assigned(context.Background(), t.Agent, now); err != nil {
		q.opts.Log.Warn("note assignment", "agent", t.Agent, "err", err)
	}
	q.mu.Lock()
	q.waits = append(q.waits, t.AssignedAt.Sub(t.QueuedAt))
	if len(q.waits) > waitSamples {
		q.waits = q.waits[len(q.waits)-waitSamples:]
	}
	q.mu.Unlock()
	q.opts.Log.Info("ticket assigned", "conversation", t.ConversationID, "agent", t.Agent)
}

// Claim gives the conversation to the agent. A conversation routing
// offered to the agent (Ticket.Offered) is accepted: the customer is told
// the agent joined, and an EventAccepted follows. Exactly one of any number of
// agents claiming the same waiting conversation at once succeeds; the
// others get ErrAlreadyClaimed, as does anyone claiming a conversation
// another agent owns. Claiming one's own conversation again succeeds and
// changes nothing. An agent may claim only first-tier tickets
// (ErrForbidden); supervisors may claim any waiting one. When Claim
// returns nil, the agent's ownership is stored and the conversation is
// in bot.StateAgent, in one act.
func (q *Queue) Claim(ctx context.Context, conversationID, agentID string) (Ticket, error) {
	a, err := usableAgent(ctx, q.store, agentID)
	if err != nil {
		return Ticket{}, fmt.Errorf("claim %s: %w", conversationID, err)
	}
	now := q.now()
	accepted := false
	t, changed, err := q.change(ctx, conversationID, func(_ *bot.Act, _ TicketTx, t *Ticket) ([]Event, error) {
		accepted = false
		switch {
		case t.ID == "":
			return nil, ErrNotFound
		case t.Agent == agentID && t.Offered:
			// Claiming a conversation offered to one accepts it.
			t.Offered, accepted = false, true
			ev := *t
			return []Event{{Kind: EventAccepted, Ticket: &ev, Agent: agentID, At: now}}, nil
		case t.Agent == agentID:
			return nil, errNoChange
		case t.Agent != "":
			return nil, ErrAlreadyClaimed
		case !CanActOn(a, t):
			return nil, ErrForbidden
		}
		t.Agent, t.Status, t.AssignedAt = agentID, StatusAssigned, now
		ev := *t
		return []Event{{Kind: EventAssigned, Ticket: &ev, Agent: agentID, At: now}}, nil
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("claim %s: %w", conversationID, err)
	}
	if changed && !accepted {
		q.assigned(t, now)
	}
	return t, nil
}

// Ticket returns the conversation's open ticket or, if none is open, its
// latest closed one; ErrNotFound if it was never handed off.
func (q *Queue) Ticket(ctx context.Context, conversationID string) (*Ticket, error) {
	t, err := q.store.Ticket(ctx, conversationID)
	if err != nil {
		return nil, fmt.Errorf("ticket of %s: %w", conversationID, err)
	}
	return t, nil
}

// Tickets returns the open tickets that match f, in queue order: higher
// priority first, then longer waiting.
func (q *Queue) Tickets(ctx context.Context, f Filter) ([]Ticket, error) {
	open, err := q.store.OpenTickets(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	out := open[:0]
	for _, t := range open {
		if f.match(&t) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, queueOrder)
	return out, nil
}

// Closed returns up to limit closed tickets (resolved or returned to the
// bot) that closed before before (any time when zero), the most recently
// closed first. A conversation handed off more than once has one entry
// per ticket.
func (q *Queue) Closed(ctx context.Context, before time.Time, limit int) ([]Ticket, error) {
	out, err := q.store.ClosedTickets(ctx, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list closed tickets: %w", err)
	}
	return out, nil
}

// Place is where a waiting conversation stands, for telling the customer.
type Place struct {
	// Position in the waiting queue of its tier, 1 for next; 0 when an
	// agent already has the conversation.
	Position int `json:"position"`
	// Wait is the expected time until an agent takes it: Position times
	// the average of recent waits (Options.DefaultWait before there are
	// any; the average restarts empty with the process), plus the time
	// until opening when closed.
	Wait time.Duration `json:"wait"`
	// Open reports whether it is business hours; if not, OpensAt says
	// when people are back.
	Open    bool      `json:"open"`
	OpensAt time.Time `json:"opens_at,omitzero"`
}

// Position returns where the conversation's open ticket stands in the
// waiting queue, or ErrNotFound if it has none.
func (q *Queue) Position(ctx context.Context, conversationID string) (Place, error) {
	places, err := q.Places(ctx)
	if err != nil {
		return Place{}, fmt.Errorf("position of %s: %w", conversationID, err)
	}
	p, ok := places[conversationID]
	if !ok {
		return Place{}, fmt.Errorf("position of %s: %w", conversationID, ErrNotFound)
	}
	return p, nil
}

// Places returns where every open ticket stands, by conversation, from
// one read of the queue: positions are counted per tier in queue order.
func (q *Queue) Places(ctx context.Context) (map[string]Place, error) {
	open, err := q.store.OpenTickets(ctx)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	now := q.now()
	per := q.opts.DefaultWait
	if len(q.waits) > 0 {
		var sum time.Duration
		for _, w := range q.waits {
			sum += w
		}
		per = sum / time.Duration(len(q.waits))
	}
	q.mu.Unlock()

	isOpen := q.opts.Hours.Open(now)
	var opensAt time.Time
	if !isOpen {
		opensAt = q.opts.Hours.NextOpen(now)
	}
	slices.SortFunc(open, queueOrder)
	ahead := map[int]int{} // tier -> waiting tickets seen so far
	out := make(map[string]Place, len(open))
	for _, t := range open {
		p := Place{Open: isOpen, OpensAt: opensAt}
		if t.Waiting() {
			ahead[t.Tier]++
			p.Position = ahead[t.Tier]
			p.Wait = time.Duration(p.Position) * per
			if !isOpen && !opensAt.IsZero() {
				p.Wait += opensAt.Sub(now)
			}
		}
		out[t.ConversationID] = p
	}
	return out, nil
}
