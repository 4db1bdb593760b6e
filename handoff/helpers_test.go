package handoff_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/testclock"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// start is a Tuesday morning, in business hours.
var start = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// conversationOwner is the bot engine as the queue's Owner, over the
// conversation records in the bbolt file; it also remembers the owner
// changes that were committed.
type conversationOwner struct {
	engine *bot.Engine
	mu     sync.Mutex
	calls  []ownerCall
}

type ownerCall struct {
	Conversation string
	State        bot.State
	Agent        string
}

func (o *conversationOwner) Act(ctx context.Context, conversationID string, fn func(a *bot.Act) error) error {
	var before, after bot.Conversation
	err := o.engine.Act(ctx, conversationID, func(a *bot.Act) error {
		before = *a.Conversation()
		if err := fn(a); err != nil {
			return err
		}
		after = *a.Conversation()
		return nil
	})
	if err == nil && (before.State != after.State || before.Agent != after.Agent) {
		o.mu.Lock()
		o.calls = append(o.calls, ownerCall{conversationID, after.State, after.Agent})
		o.mu.Unlock()
	}
	return err
}

func (o *conversationOwner) Calls() []ownerCall {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]ownerCall(nil), o.calls...)
}

// rig is a queue and agents on a real bbolt file.
type rig struct {
	t      testing.TB
	ctx    context.Context
	path   string
	db     *bolt.DB
	clock  *testclock.Clock
	owner  *conversationOwner
	queue  *handoff.Queue
	agents *handoff.Agents
	opts   handoff.Options
}

func newRig(t testing.TB, opts handoff.Options) *rig {
	t.Helper()
	r := &rig{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "frontdesk.db"), clock: testclock.New(start), opts: opts}
	r.open()
	t.Cleanup(func() { r.db.Close() })
	return r
}

// open opens the file and builds the queue and agents on it, as a
// restarted process would.
func (r *rig) open() {
	r.t.Helper()
	db, err := bolt.Open(r.path)
	if err != nil {
		r.t.Fatal(err)
	}
	r.db = db
	r.owner = &conversationOwner{engine: bot.NewEngine(nil, db, bot.NewBus(), bot.Options{Now: r.clock.Now})}
	opts := r.opts
	opts.Now = r.clock.Now
	r.queue = handoff.NewQueue(db, r.owner, opts)
	r.agents = handoff.NewAgents(db, handoff.AgentsOptions{Now: r.clock.Now, PasswordCost: bcrypt.MinCost})
}

// restart closes the file and opens it again.
func (r *rig) restart() {
	r.t.Helper()
	if err := r.db.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.open()
}

// agent stores an agent with a readable id. Options: teams, capacity.
func (r *rig) agent(id string, role handoff.Role, maxChats int, teams ...string) handoff.Agent {
	r.t.Helper()
	a := handoff.Agent{ID: id, Name: id, Email: id + "@example.com", Role: role, Teams: teams, MaxChats: maxChats, Created: r.clock.Now()}
	if err := r.db.SaveAgent(r.ctx, &a); err != nil {
		r.t.Fatal(err)
	}
	return a
}

func (r *rig) online(ids ...string) {
	r.t.Helper()
	for _, id := range ids {
		if err := r.queue.Heartbeat(r.ctx, id, handoff.PresenceOnline); err != nil {
			r.t.Fatal(err)
		}
	}
}

// conversation stores a conversation handed off with the priority and
// returns it with its customer.
func (r *rig) conversation(id string, priority int, dedicated string) (bot.Conversation, bot.Customer) {
	r.t.Helper()
	cust := bot.Customer{ID: "cus_" + id, Name: "Customer " + id, DedicatedAgent: dedicated}
	if err := r.db.SaveCustomer(r.ctx, &cust); err != nil {
		r.t.Fatal(err)
	}
	c := bot.Conversation{ID: id, CustomerID: cust.ID, Channel: bot.Web, State: bot.StateQueued,
		HandoffReason: "requested", Priority: priority, Created: r.clock.Now(), Updated: r.clock.Now()}
	if err := r.db.SaveConversation(r.ctx, &c); err != nil {
		r.t.Fatal(err)
	}
	return c, cust
}

// enqueue hands off a new conversation and returns its ticket.
func (r *rig) enqueue(id string, priority int, dedicated string, tags ...string) handoff.Ticket {
	r.t.Helper()
	c, cust := r.conversation(id, priority, dedicated)
	t, err := r.queue.EnqueueWith(r.ctx, c, cust, handoff.EnqueueOptions{Tags: tags})
	if err != nil {
		r.t.Fatal(err)
	}
	return t
}

func (r *rig) ticket(conversationID string) handoff.Ticket {
	r.t.Helper()
	t, err := r.queue.Ticket(r.ctx, conversationID)
	if err != nil {
		r.t.Fatal(err)
	}
	return *t
}

func (r *rig) conversationState(id string) (bot.State, string) {
	r.t.Helper()
	c, err := r.db.Conversation(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return c.State, c.Agent
}

// drain returns the events waiting in the subscription.
func drain(s *handoff.Subscription) []handoff.Event {
	var out []handoff.Event
	for {
		select {
		case e, ok := <-s.C():
			if !ok {
				return out
			}
			out = append(out, e)
		default:
			return out
		}
	}
}

func kinds(es []handoff.Event) []handoff.EventKind {
	var out []handoff.EventKind
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

// assignedTicket stores an open ticket already assigned to the agent, to
// give the agent load, without going through routing.
func (r *rig) assignedTicket(conversationID, agentID string) {
	r.t.Helper()
	r.conversation(conversationID, bot.PriorityNormal, "")
	_, err := r.db.UpdateTicket(r.ctx, conversationID, func(t *handoff.Ticket) error {
		*t = handoff.Ticket{ID: "tkt_" + conversationID, ConversationID: conversationID, CustomerID: "cus_" + conversationID,
			Status: handoff.StatusAssigned, Agent: agentID, Tier: 1, Created: r.clock.Now(), QueuedAt: r.clock.Now(), AssignedAt: r.clock.Now()}
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) agentRecord(id string) handoff.Agent {
	r.t.Helper()
	a, err := r.db.Agent(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return *a
}
