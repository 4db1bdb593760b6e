package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/kb"
)

// Answerer is what the Engine needs of the knowledge base.
type Answerer interface {
	Decide(ctx context.Context, q string) (kb.Decision, error)
	Article(id string) (*kb.Article, bool)
}

// Handoff is told when a conversation needs a person; the agent queue
// implements it. The conversation is already in StateQueued and stored.
type Handoff interface {
	Enqueue(ctx context.Context, c Conversation, cust Customer) error
}

// Options configure an Engine. The zero value is usable.
type Options struct {
	// Greeting is the first message of a new customer's conversation.
	Greeting string
	// HumanPhrases ask for a person at once (default DefaultHumanPhrases).
	HumanPhrases []string
	// Handoff receives conversations that need a person (nil: they only
	// enter StateQueued).
	Handoff Handoff
	// VisitGap is how long a customer must be away for their return to be
	// a new visit, greeted again (default 30 minutes).
	VisitGap time.Duration
	// AgentName returns how an agent is shown to customers (default "our
	// team").
	AgentName func(agentID string) string
	Log       *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Engine runs conversations: it stores every message before anything else
// sees it, applies the dialogue policy, and publishes events on the bus.
// An Engine is safe for concurrent use; turns of one conversation are
// serialised.
type Engine struct {
	kb    Answerer
	store Store
	bus   *Bus
	opts  Options
	locks [64]sync.Mutex
}

// NewEngine returns an engine answering from a, storing in st and
// publishing on bus.
func NewEngine(a Answerer, st Store, bus *Bus, opts Options) *Engine {
	if opts.Greeting == "" {
		opts.Greeting = "Hi! I'm the virtual assistant. Ask me about orders, delivery, returns, payments or your account. If you'd rather talk to a person, just say so."
	}
	if opts.HumanPhrases == nil {
		opts.HumanPhrases = DefaultHumanPhrases
	}
	if opts.VisitGap == 0 {
		opts.VisitGap = 30 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Engine{kb: a, store: st, bus: bus, opts: opts}
}

// SetHandoff sets where conversations that need a person go. The queue
// and the engine need each other (the queue changes a conversation's owner
// through the engine), so the queue is set after both exist; call it
// before the engine handles any message.
func (e *Engine) SetHandoff(h Handoff) { e.opts.Handoff = h }

// Bus returns the engine's event bus.
func (e *Engine) Bus() *Bus { return e.bus }

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

func (e *Engine) lock(conversationID string) func() {
	h := fnv.New32a()
	h.Write([]byte(conversationID))
	m := &e.locks[h.Sum32()%uint32(len(e.locks))]
	m.Lock()
	return m.Unlock
}

// NewID returns a random identifier with the given prefix.
func NewID(prefix string) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}

// Profile is what a customer tells about themselves (pre-chat form).
type Profile struct {
	Name  string
	Email string
}

// Session is a customer connected to their current conversation.
type Session struct {
	Customer     Customer
	Conversation Conversation
	// Returning is true for a customer we have seen before.
	Returning bool
}

// Start finds the customer with the identity, or creates one, and their
// open conversation, or starts one. A new customer is greeted; a returning
// one, back after a while, is welcomed by name and asked about their last
// topic. The greeting is stored like any message, so a client sees it by
// reading the conversation's messages.
func (e *Engine) Start(ctx context.Context, id Identity, p Profile) (*Session, error) {
	now := e.opts.Now().UTC()
	cust, err := e.store.CustomerByIdentity(ctx, id)
	returning := err == nil
	switch {
	case errors.Is(err, ErrNotFound):
		cust = &Customer{ID: NewID("cus_"), Identities: []Identity{id}, FirstSeen: now}
	case err != nil:
		return nil, fmt.Errorf("find customer: %w", err)
	}
	newVisit := !returning || now.Sub(cust.LastSeen) >= e.opts.VisitGap
	visit := func(c *Customer) error {
		if newVisit {
			c.Visits++
		}
		c.LastSeen = now
		applyProfile(c, p)
		return nil
	}
	if returning {
		cust, err = e.store.UpdateCustomer(ctx, cust.ID, visit)
	} else {
		visit(cust)
		err = e.store.SaveCustomer(ctx, cust)
	}
	if err != nil {
		return nil, fmt.Errorf("save customer: %w", err)
	}

	conv, err := e.openConversation(ctx, cust, id.Channel)
	if err != nil {
		return nil, err
	}
	unlock := e.lock(conv.ID)
	defer unlock()
	switch {
	case conv.LastSeq == 0 && !returning:
		greeting := e.opts.Greeting
		if cust.Name != "" {
			// A channel that knows the name (Telegram) greets with it.
			greeting = fmt.Sprintf("Hi %s! %s", cust.Name, strings.TrimPrefix(greeting, "Hi! "))
		}
		_, err = e.say(ctx, conv, Message{From: FromBot, Text: greeting, Decision: &Decision{Kind: "smalltalk", Reason: "greeting"}})
	case conv.LastSeq == 0 || newVisit:
		err = e.welcomeBack(ctx, conv, cust)
	}
	if err != nil {
		return nil, err
	}
	return &Session{Customer: *cust, Conversation: *conv, Returning: returning}, nil
}

func applyProfile(c *Customer, p Profile) {
	if n := strings.TrimSpace(p.Name); n != "" {
		c.Name = n
	}
	if m := strings.TrimSpace(p.Email); m != "" {
		c.Email = m
	}
}

// UpdateProfile stores what a customer told about themselves.
func (e *Engine) UpdateProfile(ctx context.Context, customerID string, p Profile) (*Customer, error) {
	return e.store.UpdateCustomer(ctx, customerID, func(c *Customer) error {
		applyProfile(c, p)
		return nil
	})
}

// openConversation returns the customer's newest conversation on the
// channel that is not closed, or a new one.
func (e *Engine) openConversation(ctx context.Context, cust *Customer, ch Channel) (*Conversation, error) {
	convs, err := e.store.Conversations(ctx, cust.ID)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	for i := range convs {
		if convs[i].State != StateClosed && convs[i].Channel == ch {
			return &convs[i], nil
		}
	}
	now := e.opts.Now().UTC()
	c := &Conversation{ID: NewID("con_"), CustomerID: cust.ID, Channel: ch, State: StateBot, Created: now, Updated: now}
	if err := e.store.SaveConversation(ctx, c); err != nil {
		return nil, fmt.Errorf("create conversation: %w", err)
	}
	return c, nil
}

// welcomeBack greets a returning customer by name and recalls their last
// topic or the person they are waiting for.
func (e *Engine) welcomeBack(ctx context.Context, conv *Conversation, cust *Customer) error {
	hello := "Welcome back!"
	if cust.Name != "" {
		hello = fmt.Sprintf("Welcome back, %s!", cust.Name)
	}
	m := Message{From: FromBot, Decision: &Decision{Kind: "smalltalk", Reason: "welcome_back"}}
	switch {
	case conv.State == StateQueued:
		m.Text = hello + " You're still waiting for a person from our team; they will reply here."
	case conv.State == StateAgent:
		m.Text = hello + " You're in touch with our team; they will reply here."
	case len(cust.Topics) > 0:
		t := cust.Topics[0]
		m.Text = fmt.Sprintf("%s Last time you asked about %q. Is that sorted?", hello, t.Title)
		m.QuickReplies = []QuickReply{{Label: "Yes, all sorted", Payload: "followup:yes"}, {Label: "No, I still need help", Payload: "followup:no:" + t.ArticleID}}
		m.Decision.ArticleID = t.ArticleID
	default:
		m.Text = hello + " How can I help you today?"
	}
	_, err := e.say(ctx, conv, m)
	return err
}

// Inbound is a customer's message or quick-reply choice.
type Inbound struct {
	ConversationID string
	// ClientID makes retries idempotent: a message is stored once per id.
	ClientID string
	Text     string
	// Payload is the chosen quick reply's payload, if any.
	Payload string
	// OnStored, if set, is called once the customer's message is on disk,
	// before it is published and before the bot replies; dup says it was a
	// retry, stored before (and so not published again).
	OnStored func(m Message, dup bool)
}

// MaxTextLen is the longest message text accepted, in bytes.
const MaxTextLen = 4000

// ErrEmpty is returned for a message with neither text nor payload.
var ErrEmpty = errors.New("empty message")

// Handle stores a customer's message and lets the bot respond when it owns
// the conversation. A retried message (same ClientID) is acknowledged again
// but not answered twice. While a person owns the conversation the bot
// stays silent: the message is stored and published for the people.
func (e *Engine) Handle(ctx context.Context, in Inbound) (Message, error) {
	text := strings.TrimSpace(in.Text)
	if text == "" && in.Payload == "" {
		return Message{}, ErrEmpty
	}
	if len(text) > MaxTextLen {
		return Message{}, fmt.Errorf("message longer than %d bytes", MaxTextLen)
	}
	in.Text = text
	stored, handoff, err := e.handle(ctx, in)
	if handoff != nil {
		// The queue is told outside the conversation's lock: routing may
		// hand the conversation straight to an agent (SetOwner), which
		// takes that lock.
		e.enqueue(ctx, handoff)
	}
	return stored, err
}

// pendingHandoff is a conversation a turn moved to the queue, for Handle
// to enqueue once the conversation's lock is released.
type pendingHandoff struct {
	conv Conversation
	cust Customer
}

func (e *Engine) handle(ctx context.Context, in Inbound) (Message, *pendingHandoff, error) {
	unlock := e.lock(in.ConversationID)
	defer unlock()
	conv, err := e.store.Conversation(ctx, in.ConversationID)
	if err != nil {
		return Message{}, nil, err
	}
	stored, dup, err := e.store.Append(ctx, Message{
		ConversationID: conv.ID, From: FromCustomer, Text: in.Text, Payload: in.Payload,
		ClientID: in.ClientID, Time: e.opts.Now().UTC(),
	})
	if err != nil {
		return Message{}, nil, fmt.Errorf("store customer message: %w", err)
	}
	if in.OnStored != nil {
		in.OnStored(stored, dup)
	}
	if dup {
		return stored, nil, nil
	}
	conv.LastSeq = stored.Seq
	e.bus.Publish(Event{Kind: EventMessage, ConversationID: conv.ID, Message: &stored})
	if err := e.noteEmail(ctx, conv.CustomerID, stored.Text); err != nil {
		e.opts.Log.Error("save email from message", "conversation", conv.ID, "err", err)
	}
	if conv.State == StateClosed {
		if err := e.setState(ctx, conv, StateBot); err != nil {
			return stored, nil, err
		}
	}
	if conv.State != StateBot {
		return stored, nil, nil
	}
	cust, err := e.store.Customer(ctx, conv.CustomerID)
	if err != nil {
		return stored, nil, fmt.Errorf("load customer: %w", err)
	}
	t := &turn{e: e, conv: conv, cust: cust, msg: stored}
	if err := t.respond(ctx); err != nil {
		e.opts.Log.Error("bot turn failed", "conversation", conv.ID, "err", err)
		// The customer's message is safe; tell them something went wrong
		// rather than leaving them waiting.
		_, _ = e.say(ctx, conv, Message{From: FromSystem, Text: "Sorry, something went wrong on our side. Please try again, or ask for a person."})
		return stored, nil, err
	}
	if t.handedOff {
		return stored, &pendingHandoff{conv: *conv, cust: *cust}, nil
	}
	return stored, nil, nil
}

// noteEmail keeps an email address the customer wrote in a message (in
// any state: a customer waiting outside business hours leaves one for the
// reply).
func (e *Engine) noteEmail(ctx context.Context, customerID, text string) error {
	email := mentionedEmail(text)
	if email == "" {
		return nil
	}
	_, err := e.store.UpdateCustomer(ctx, customerID, func(c *Customer) error {
		c.Email = email
		return nil
	})
	return err
}

// say stores a message in the conversation and publishes it.
func (e *Engine) say(ctx context.Context, conv *Conversation, m Message) (Message, error) {
	m.ConversationID = conv.ID
	if m.Time.IsZero() {
		m.Time = e.opts.Now().UTC()
	}
	stored, _, err := e.store.Append(ctx, m)
	if err != nil {
		return Message{}, fmt.Errorf("store %s message: %w", m.From, err)
	}
	conv.LastSeq = stored.Seq
	conv.Updated = stored.Time
	e.bus.Publish(Event{Kind: EventMessage, ConversationID: conv.ID, Message: &stored})
	return stored, nil
}

// setState stores the conversation in a new state and publishes it.
func (e *Engine) setState(ctx context.Context, conv *Conversation, s State) error {
	conv.State = s
	conv.Updated = e.opts.Now().UTC()
	if err := e.store.SaveConversation(ctx, conv); err != nil {
		return fmt.Errorf("save conversation: %w", err)
	}
	e.bus.Publish(Event{Kind: EventState, ConversationID: conv.ID, State: s})
	return nil
}

// Typing publishes that someone is typing in a conversation.
func (e *Engine) Typing(conversationID string, from Sender, agent string) {
	e.bus.Publish(Event{Kind: EventTyping, ConversationID: conversationID, From: from, Agent: agent})
}

// Messages returns a conversation's messages after seq, without agents'
// private notes: what the customer may see.
func (e *Engine) Messages(ctx context.Context, conversationID string, after int64) ([]Message, error) {
	ms, err := e.store.Messages(ctx, conversationID, after)
	if err != nil {
		return nil, err
	}
	out := ms[:0]
	for _, m := range ms {
		if !m.Internal {
			out = append(out, m)
		}
	}
	return out, nil
}
