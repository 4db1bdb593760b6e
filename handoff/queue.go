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

// Owner records who owns a conversation in the conversation log: the bot
// (StateBot), the waiting queue (StateQueued, agentID "") or one agent
// (StateAgent). Only the owner speaks, so the bot engine, which implements
// it, must see the change before SetOwner returns.
//
// The Queue calls SetOwner after the ticket change is stored, with the
// Queue's lock held and, from Enqueue, on the goroutine that called
// Enqueue: SetOwner must not call the Queue, nor wait for a lock that a
// caller of Enqueue may hold.
type Owner interface {
	SetOwner(ctx context.Context, conversationID string, state bot.State, agentID string) error
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
	Log        *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// waitSamples is how many recent waits the position estimate averages.
const waitSamples = 20

// Queue is the agent queue: it turns hand-offs into tickets, routes them
// to agents, and carries out what agents do with them. Every change to a
// ticket is stored before the call returns and before its event is
// published; presence, recent waits and subscriptions live in memory.
//
// One mutex serialises the Queue's changes, and each change is a
// compare-and-set on the stored ticket, so a conversation has one owner
// at a time even when callers race. Queue implements bot.Handoff.
type Queue struct {
	store  Store
	owner  Owner
	opts   Options
	events bot.Feed[Event]

	mu           sync.Mutex
	presence     map[string]*presence
	lastAssigned map[string]time.Time // agent id -> last time given a ticket
	waits        []time.Duration      // recent queued-to-assigned waits, oldest first
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
	return &Queue{store: st, owner: owner, opts: opts,
		presence: map[string]*presence{}, lastAssigned: map[string]time.Time{}}
}

func (q *Queue) now() time.Time { return q.opts.Now().UTC() }

// Subscribe returns a subscription to every queue event. buffer bounds
// how many events may wait for the subscriber; one that falls further
// behind is dropped (see Subscription.Lagged), so a slow console never
// holds up the queue.
func (q *Queue) Subscribe(buffer int) *Subscription { return q.events.Subscribe("", buffer) }

// errNoChange aborts a ticket update that would change nothing.
var errNoChange = errors.New("no change")

// errConflict: the stored ticket changed between reading and writing it,
// which only another process sharing the store can cause.
var errConflict = errors.New("ticket changed concurrently; try again")

// update applies fn to the conversation's open ticket as one
// compare-and-set. If fn returns errNoChange, nothing is written and
// update returns the ticket as stored with changed false.
func (q *Queue) update(ctx context.Context, conversationID string, fn func(*Ticket) error) (t Ticket, changed bool, err error) {
	var unchanged Ticket
	t, err = q.store.UpdateTicket(ctx, conversationID, func(t *Ticket) error {
		unchanged = *t
		return fn(t)
	})
	if errors.Is(err, errNoChange) {
		return unchanged, false, nil
	}
	return t, err == nil, err
}

// EnqueueOptions refine a hand-off.
type EnqueueOptions struct {
	// Tags of the article the conversation is about, mapped to a team
	// through Options.Teams (the first tag with a team wins).
	Tags []string
}

// Enqueue hands a conversation, already in bot.StateQueued, to people.
// It implements bot.Handoff; see EnqueueWith.
func (q *Queue) Enqueue(ctx context.Context, c bot.Conversation, cust bot.Customer) error {
	_, err := q.EnqueueWith(ctx, c, cust, EnqueueOptions{})
	return err
}

// EnqueueWith hands a conversation to people and returns its ticket. A new
// ticket takes the conversation's hand-off reason and priority, the team
// of its topic and the customer's dedicated agent, and is routed at once
// (see the routing rules on dispatch). If the conversation already has an
// open ticket, that ticket is kept, its priority raised to the
// conversation's if higher, and its owner restored in the conversation:
// handing off twice never makes a second ticket nor takes a conversation
// from its agent. When EnqueueWith returns nil, the ticket is stored.
func (q *Queue) EnqueueWith(ctx context.Context, c bot.Conversation, cust bot.Customer, eo EnqueueOptions) (Ticket, error) {
	team := q.teamFor(eo.Tags, cust)
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	open, err := q.store.OpenTickets(ctx)
	if err != nil {
		return Ticket{}, fmt.Errorf("enqueue %s: %w", c.ID, err)
	}
	var cur *Ticket
	for i := range open {
		if open[i].ConversationID == c.ID {
			cur = &open[i]
		}
	}
	var t Ticket
	if cur == nil {
		t = Ticket{
			ID: bot.NewID("tkt_"), ConversationID: c.ID, CustomerID: c.CustomerID,
			Reason: c.HandoffReason, Priority: c.Priority, Team: team,
			DedicatedAgent: cust.DedicatedAgent, Status: StatusQueued, Tier: 1,
			Created: now, QueuedAt: now,
		}
	} else {
		t = *cur
		t.Priority = max(t.Priority, c.Priority)
		if t.Team == "" {
			t.Team = team
		}
	}
	if t.Waiting() && !q.opts.ManualAssign {
		cands, err := q.candidates(ctx, open, now)
		if err != nil {
			return Ticket{}, fmt.Errorf("enqueue %s: %w", c.ID, err)
		}
		waiting := []Ticket{t}
		for _, o := range open {
			if o.Waiting() && o.ID != t.ID {
				waiting = append(waiting, o)
			}
		}
		if agent := plan(waiting, cands)[t.ID]; agent != "" {
			t.Agent, t.Status, t.AssignedAt = agent, StatusAssigned, now
		}
	}
	stored, changed, err := q.update(ctx, c.ID, func(s *Ticket) error {
		switch {
		case cur == nil && s.ID != "", cur != nil && (s.ID != cur.ID || s.Agent != cur.Agent || s.Status != cur.Status):
			return errConflict
		case cur != nil && *s == t:
			return errNoChange
		}
		*s = t
		return nil
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("enqueue %s: %w", c.ID, err)
	}
	if cur == nil {
		q.opts.Log.Info("ticket queued", "conversation", c.ID, "customer", c.CustomerID, "reason", t.Reason, "priority", t.Priority, "team", t.Team)
		queued := stored
		queued.Agent, queued.Status, queued.AssignedAt = "", StatusQueued, time.Time{}
		q.events.Publish("", Event{Kind: EventQueued, Ticket: &queued, At: now})
	}
	switch {
	case stored.Status == StatusAssigned && (cur == nil || cur.Status == StatusQueued):
		if err := q.assigned(ctx, stored, now); err != nil {
			return stored, fmt.Errorf("enqueue %s: %w", c.ID, err)
		}
	case stored.Status == StatusAssigned:
		if err := q.owner.SetOwner(ctx, c.ID, bot.StateAgent, stored.Agent); err != nil {
			return stored, fmt.Errorf("enqueue %s: restore owner %s: %w", c.ID, stored.Agent, err)
		}
	case changed && cur != nil:
		// A re-hand-off raised a waiting ticket's priority: move it up.
		if err := q.dispatch(ctx); err != nil {
			return stored, fmt.Errorf("enqueue %s: %w", c.ID, err)
		}
	}
	return stored, nil
}

// teamFor returns the team of the first tag that has one.
func (q *Queue) teamFor(tags []string, cust bot.Customer) string {
	if len(tags) == 0 && q.opts.ArticleTags != nil && len(cust.Topics) > 0 {
		tags = q.opts.ArticleTags(cust.Topics[0].ArticleID)
	}
	for _, tag := range tags {
		if team, ok := q.opts.Teams[tag]; ok {
			return team
		}
	}
	return ""
}

// assigned finishes an assignment from the waiting queue that is already
// stored: the conversation changes owner, the wait is remembered for
// estimates, and the event goes out. q.mu must be held.
func (q *Queue) assigned(ctx context.Context, t Ticket, now time.Time) error {
	if err := q.owner.SetOwner(ctx, t.ConversationID, bot.StateAgent, t.Agent); err != nil {
		return fmt.Errorf("set owner %s: %w", t.Agent, err)
	}
	q.lastAssigned[t.Agent] = now
	q.waits = append(q.waits, t.AssignedAt.Sub(t.QueuedAt))
	if len(q.waits) > waitSamples {
		q.waits = q.waits[len(q.waits)-waitSamples:]
	}
	q.opts.Log.Info("ticket assigned", "conversation", t.ConversationID, "agent", t.Agent)
	q.events.Publish("", Event{Kind: EventAssigned, Ticket: &t, Agent: t.Agent, At: now})
	return nil
}

// Claim gives the conversation to the agent. Exactly one of any number of
// agents claiming the same waiting conversation at once succeeds; the
// others get ErrAlreadyClaimed, as does anyone claiming a conversation
// another agent owns. Claiming one's own conversation again succeeds and
// changes nothing. An agent may claim only first-tier tickets
// (ErrForbidden); supervisors may claim any waiting one. When Claim
// returns nil, the agent's ownership is stored and the conversation is
// in bot.StateAgent.
func (q *Queue) Claim(ctx context.Context, conversationID, agentID string) (Ticket, error) {
	a, err := usableAgent(ctx, q.store, agentID)
	if err != nil {
		return Ticket{}, fmt.Errorf("claim %s: %w", conversationID, err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	t, changed, err := q.update(ctx, conversationID, func(t *Ticket) error {
		switch {
		case t.ID == "":
			return ErrNotFound
		case t.Agent == agentID:
			return errNoChange
		case t.Agent != "":
			return ErrAlreadyClaimed
		case !CanActOn(a, t):
			return ErrForbidden
		}
		t.Agent, t.Status, t.AssignedAt = agentID, StatusAssigned, now
		return nil
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("claim %s: %w", conversationID, err)
	}
	if !changed {
		// Repeat the owner change: a claim whose SetOwner failed is
		// completed by claiming again.
		if err := q.owner.SetOwner(ctx, conversationID, bot.StateAgent, agentID); err != nil {
			return t, fmt.Errorf("claim %s: set owner: %w", conversationID, err)
		}
		return t, nil
	}
	if err := q.assigned(ctx, t, now); err != nil {
		return t, fmt.Errorf("claim %s: %w", conversationID, err)
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
	open, err := q.store.OpenTickets(ctx)
	if err != nil {
		return Place{}, fmt.Errorf("position of %s: %w", conversationID, err)
	}
	i := slices.IndexFunc(open, func(t Ticket) bool { return t.ConversationID == conversationID })
	if i < 0 {
		return Place{}, fmt.Errorf("position of %s: %w", conversationID, ErrNotFound)
	}
	t := open[i]
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

	p := Place{Open: q.opts.Hours.Open(now)}
	if t.Waiting() {
		p.Position = 1
		for _, o := range open {
			if o.Waiting() && o.Tier == t.Tier && queueOrder(o, t) < 0 {
				p.Position++
			}
		}
		p.Wait = time.Duration(p.Position) * per
	}
	if !p.Open {
		p.OpensAt = q.opts.Hours.NextOpen(now)
		if t.Waiting() && !p.OpensAt.IsZero() {
			p.Wait += p.OpensAt.Sub(now)
		}
	}
	return p, nil
}
