package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/kb"
)

// Answerer is what the Engine needs of the knowledge base.
type Answerer interface {
	Decide(ctx context.Context, q string) (kb.Decision, error)
	Article(id string) (*kb.Article, bool)
}

// Handoff is told, inside the act's transaction, when a turn hands a
// conversation to people; the agent queue implements it.
type Handoff interface {
	// HandOff records that the conversation of a, which the act has just
	// moved to StateQueued, waits for a person: it opens a ticket through
	// a.Tx() and may change the conversation's owner, all in the same
	// act. Work after the act (routing) goes to a.After. Queue runs inside
	// a transaction: it must not call the store or wait.
	HandOff(a *Act, cust *Customer) error
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
	// Recorder, if set, is told what each act did inside its
	// transaction (see Recorder).
	Recorder Recorder
	// Searches bounds how many knowledge-base searches run at once
	// (default GOMAXPROCS). Searching is CPU work: more at once than there
	// are cores only makes each slower and starves the store's commit
	// loop, which every turn then waits for.
	Searches int
	// Composer, if set, words answers from the articles the knowledge
	// base found (see Composer); without one, articles are sent as
	// written.
	Composer Composer
	// Followup asks "Did that solve it?" after a resolved hand-off (off
	// when its Delay is 0; see followup.go).
	Followup FollowupOptions
}

// Engine runs conversations: it stores every message before anything else
// sees it, applies the dialogue policy, and publishes events on the bus.
// An Engine is safe for concurrent use. It holds no lock while it
// searches or while the disk works: a turn is computed on a snapshot of
// its conversation and committed only if the conversation has not changed
// since (see Act), otherwise computed again, so acts of one conversation
// apply in order and acts of different conversations share commits.
type Engine struct {
	kb    Answerer
	store Store
	bus   Bus
	opts  Options
	// searchers run the knowledge-base searches (see Options.Searches).
	searchers *searchers
	// asked counts what customers ask about (see topics.go).
	asked asked
}

// NewEngine returns an engine answering from a, storing in st and
// publishing on bus.
func NewEngine(a Answerer, st Store, bus Bus, opts Options) *Engine {
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
	if opts.Searches <= 0 {
		opts.Searches = runtime.GOMAXPROCS(0)
	}
	return &Engine{kb: a, store: st, bus: bus, opts: opts, searchers: newSearchers(a, opts.Searches)}
}

// decide searches the knowledge base, waiting for one of the searchers:
// turns queue for the CPU in order instead of all at once.
func (e *Engine) decide(ctx context.Context, q string) (kb.Decision, error) {
	return e.searchers.decide(ctx, q)
}

// SetHandoff sets where conversations that need a person go. The queue
// and the engine need each other (the queue changes a conversation's owner
// through the engine), so the queue is set after both exist; call it
// before the engine handles any message.
func (e *Engine) SetHandoff(h Handoff) { e.opts.Handoff = h }

// Subscribe returns a subscription to the events of the conversation, or
// of every conversation when conversationID is "" (see Bus.Subscribe).
func (e *Engine) Subscribe(conversationID string, buffer int) Subscription {
	return e.bus.Subscribe(conversationID, buffer)
}

// Conversation returns the conversation with the id, or ErrNotFound.
func (e *Engine) Conversation(ctx context.Context, id string) (*Conversation, error) {
	return e.store.Conversation(ctx, id)
}

// Conversations lists a customer's conversations, newest first.
func (e *Engine) Conversations(ctx context.Context, customerID string) ([]Conversation, error) {
	return e.store.Conversations(ctx, customerID)
}

// Customer returns the customer with the id, or ErrNotFound.
func (e *Engine) Customer(ctx context.Context, id string) (*Customer, error) {
	return e.store.Customer(ctx, id)
}

// CustomerByIdentity returns the customer with the channel identity, or
// ErrNotFound.
func (e *Engine) CustomerByIdentity(ctx context.Context, id Identity) (*Customer, error) {
	return e.store.CustomerByIdentity(ctx, id)
}

// Transcript returns every message of a conversation after seq, agents'
// private notes included: what the people helping may see (Messages is
// the customer's view).
func (e *Engine) Transcript(ctx context.Context, conversationID string, after int64) ([]Message, error) {
	return e.store.Messages(ctx, conversationID, after)
}

// NewID returns a random identifier with the given prefix.
func NewID(prefix string) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}

// ValidID reports whether id is prefix followed by lower-case hex, as
// NewID makes them: nothing that could name another path when an id is
// used as a file or directory name.
func ValidID(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || rest == "" || len(rest) > 64 {
		return false
	}
	for _, r := range rest {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
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
	// Pending is true for a session of Open that nothing is stored of
	// yet: Customer and Conversation are reserved (their ids are what
	// they will be stored under), and Greeting is the conversation's
	// first message, seq 1, to be shown now and stored with the
	// customer's first message (see Inbound.Session).
	Pending  bool
	Greeting Message
	// id is the identity a pending session was opened with.
	id Identity
}

// Start finds the customer with the identity, or creates one, and their
// open conversation, or starts one. A new customer is greeted; a returning
// one, back after a while, is welcomed by name and asked about their last
// topic. The greeting is stored like any message, so a client sees it by
// reading the conversation's messages. Everything Start writes is one act.
// Channels anyone may connect to use Open, which stores nothing for a
// new customer until they say something.
func (e *Engine) Start(ctx context.Context, id Identity, p Profile) (*Session, error) {
	var s *Session
	var a *Act
	err := e.store.Update(ctx, func(tx Tx) error {
		s, a = nil, nil
		now := e.opts.Now().UTC()
		cust, err := tx.CustomerByIdentity(id)
		// A customer the shop told about (Identify, PutVerified) who
		// never visited is new here.
		returning := err == nil && cust.Visits > 0
		switch {
		case errors.Is(err, ErrNotFound):
			cust = &Customer{ID: NewID("cus_"), Identities: []Identity{id}, FirstSeen: now}
		case err != nil:
			return fmt.Errorf("find customer: %w", err)
		}
		newVisit := !returning || now.Sub(cust.LastSeen) >= e.opts.VisitGap
		if newVisit {
			cust.Visits++
		}
		cust.LastSeen = now
		applyProfile(cust, p)
		if err := tx.PutCustomer(cust); err != nil {
			return fmt.Errorf("save customer: %w", err)
		}
		conv, err := openConversation(tx, cust, id.Channel, now)
		if err != nil {
			return err
		}
		a = e.newAct(tx, conv)
		switch {
		case conv.LastSeq == 0 && !returning:
			_, err = a.Say(e.greeting(cust))
		case newVisit && e.followupDue(conv, cust, now):
			// A web customer back after a resolved hand-off is asked
			// whether it was solved instead of being welcomed back.
			err = a.sayFollowup()
		case conv.LastSeq == 0 || newVisit:
			_, err = a.Say(welcomeKnown(welcomeBack(conv, cust), conv, cust, now))
		}
		if err != nil {
			return err
		}
		if err := a.finish(); err != nil {
			return err
		}
		s = &Session{Customer: *cust, Conversation: *conv, Returning: returning}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.runAfter(ctx)
	return s, nil
}

// greeting is the first message of a new customer's conversation.
func (e *Engine) greeting(cust *Customer) Message {
	text := e.opts.Greeting
	if cust.Name != "" {
		// A channel that knows the name (Telegram, a pre-chat form)
		// greets with it.
		text = fmt.Sprintf("Hi %s! %s", EscapeMarkdown(cust.Name), strings.TrimPrefix(text, "Hi! "))
	}
	if q, _ := aboutKnown(cust, e.opts.Now()); q != "" {
		text += " " + q
	}
	return Message{From: FromBot, Text: text, Decision: &Decision{Kind: DecisionSmalltalk, Reason: "greeting"}}
}

// applyProfile stores what a customer told about themselves, unless the
// shop vouched for the customer: a verified profile changes only through
// the shop (Identify, PutVerified).
func applyProfile(c *Customer, p Profile) {
	if c.ExternalID != "" {
		return
	}
	if n := strings.TrimSpace(p.Name); n != "" {
		c.Name = n
	}
	if m := strings.TrimSpace(p.Email); m != "" {
		c.Email = m
	}
}

// UpdateProfile stores what a customer told about themselves.
func (e *Engine) UpdateProfile(ctx context.Context, customerID string, p Profile) (*Customer, error) {
	return UpdateCustomer(ctx, e.store, customerID, func(c *Customer) error {
		applyProfile(c, p)
		return nil
	})
}

// UpdateCustomer applies fn to the stored customer in one act (see the
// package function UpdateCustomer).
func (e *Engine) UpdateCustomer(ctx context.Context, customerID string, fn func(c *Customer) error) (*Customer, error) {
	return UpdateCustomer(ctx, e.store, customerID, fn)
}

// openConversation returns the customer's newest conversation on the
// channel that is not closed, or a new one (stored when the act ends).
func openConversation(tx Tx, cust *Customer, ch Channel, now time.Time) (*Conversation, error) {
	convs, err := tx.Conversations(cust.ID)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	for i := range convs {
		if convs[i].State != StateClosed && convs[i].Channel == ch {
			return &convs[i], nil
		}
	}
	return &Conversation{ID: NewID("con_"), CustomerID: cust.ID, Channel: ch, State: StateBot, Created: now, Updated: now}, nil
}

// welcomeBack greets a returning customer by name and recalls their last
// topic or the person they are waiting for.
func welcomeBack(conv *Conversation, cust *Customer) Message {
	hello := "Welcome back!"
	if cust.Name != "" {
		hello = fmt.Sprintf("Welcome back, %s!", EscapeMarkdown(cust.Name))
	}
	m := Message{From: FromBot, Decision: &Decision{Kind: DecisionSmalltalk, Reason: "welcome_back"}}
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
	return m
}

// Inbound is a customer's message or quick-reply choice.
type Inbound struct {
	ConversationID string
	// ClientID makes retries idempotent: a message is stored once per id.
	ClientID string
	Text     string
	// Payload is the chosen quick reply's payload, if any.
	Payload string
	// Attachment is a file the customer sent, already kept (see
	// Attachment); Text may then be empty.
	Attachment *Attachment
	// OnStored, if set, is called once the customer's message is on disk
	// and published; dup says it was a retry, stored before (and so not
	// published again).
	OnStored func(m Message, dup bool)
	// Session, if it is pending (see Open) and its conversation is
	// ConversationID, is the session the message starts: the act that
	// stores the message stores the session's customer, conversation and
	// greeting (seq 1) too, and the message is seq 2. If another
	// connection of the visitor stored the session first, the message
	// continues that conversation, and the session's profile is kept.
	Session *Session
}

// MaxTextLen is the longest message text accepted, in bytes.
const MaxTextLen = 4000

// ErrEmpty is returned for a message with neither visible text nor
// payload.
var ErrEmpty error = NewError(CodeInvalid, "the message is empty")

// maxTurnAttempts bounds how often a turn is computed again because its
// conversation changed meanwhile (another message of the same customer,
// an agent's claim). Each attempt sees the other act committed, so a few
// suffice; the bound only guards against a livelock.
const maxTurnAttempts = 50

// Handle stores a customer's message and lets the bot respond when it owns
// the conversation, in one act: the message, the bot's replies, the
// conversation's new state, any profile change and, on a hand-off, the
// ticket are committed together, then published. A retried message (same
// ClientID) is acknowledged again but not answered twice. While a person
// owns the conversation the bot stays silent: the message is stored and
// published for the people.
//
// No lock is held while the bot searches: the turn is computed on a
// snapshot and committed only if the conversation is still at the
// snapshot's revision; otherwise it is computed again on the new one.
func (e *Engine) Handle(ctx context.Context, in Inbound) (Message, error) {
	text := cleanText(in.Text)
	if text == "" && in.Payload == "" && in.Attachment == nil {
		return Message{}, ErrEmpty
	}
	if len(text) > MaxTextLen {
		return Message{}, fmt.Errorf("message longer than %d bytes", MaxTextLen)
	}
	in.Text = text
	if w, ok := e.store.(CommitWarmer); ok {
		w.WarmCommit()
	}
	// A turn computed again after a conflict reuses the model's answer.
	memo := map[string]composed{}
	for range maxTurnAttempts {
		stored, err := e.handle(ctx, in, memo)
		if !errors.Is(err, errConflict) {
			return stored, err
		}
	}
	return Message{}, fmt.Errorf("store customer message in %s: %w after %d attempts", in.ConversationID, errConflict, maxTurnAttempts)
}

func (e *Engine) handle(ctx context.Context, in Inbound, memo map[string]composed) (Message, error) {
	var (
		conv *Conversation
		cust *Customer
		dup  *Message
		// first: the message starts the pending session in.Session.
		first bool
	)
	e.loadAsked(ctx)
	pending := in.Session != nil && in.Session.Pending && in.Session.Conversation.ID == in.ConversationID
	err := e.store.View(ctx, func(tx Tx) error {
		var err error
		conv, err = tx.Conversation(in.ConversationID)
		if pending && errors.Is(err, ErrNotFound) {
			switch _, err := tx.CustomerByIdentity(in.Session.id); {
			case err == nil:
				return ErrStaleSession
			case !errors.Is(err, ErrNotFound):
				return fmt.Errorf("find customer: %w", err)
			}
			first = true
			return nil
		}
		if err != nil {
			return err
		}
		if pending && conv.CustomerID != in.Session.Customer.ID {
			return ErrStaleSession
		}
		if in.ClientID != "" {
			switch m, err := tx.MessageByClientID(conv.ID, in.ClientID); {
			case err == nil:
				dup = m
				return nil
			case !errors.Is(err, ErrNotFound):
				return err
			}
		}
		if cust, err = tx.Customer(conv.CustomerID); err != nil {
			return fmt.Errorf("load customer: %w", err)
		}
		return nil
	})
	if err != nil {
		return Message{}, err
	}
	if dup != nil {
		if in.OnStored != nil {
			in.OnStored(*dup, true)
		}
		return *dup, nil
	}
	if first {
		conv, cust = in.Session.planned()
	}
	t := newTurn(e, conv, cust, Message{
		ConversationID: conv.ID, From: FromCustomer, Text: in.Text, Payload: in.Payload,
		ClientID: in.ClientID, Time: e.opts.Now().UTC(), Attachment: in.Attachment,
	})
	t.memo = memo
	if pending && !first {
		// Another connection stored the session first: what this one was
		// told is kept, whatever the bot decides.
		if p := in.Session.profile(); p != (Profile{}) {
			t.changeCustomer(func(c *Customer) { applyProfile(c, p) })
			t.baseFns = len(t.custFns)
		}
	}
	var turnErr error
	if t.conv.State == StateBot {
		if turnErr = t.respond(ctx); turnErr != nil {
			// The customer's message is kept; tell them something went
			// wrong rather than leaving them waiting.
			t.reset()
			t.say(Message{From: FromSystem, Text: "Sorry, something went wrong on our side. Please try again, or ask for a person."})
		}
	} else {
		t.waiting()
	}
	t.encode()
	var stored Message
	if first {
		err = e.actFirst(ctx, in.Session, func(a *Act) error {
			var err error
			stored, err = t.apply(a)
			return err
		})
	} else {
		err = e.Act(ctx, conv.ID, func(a *Act) error {
			if a.conv.Rev != conv.Rev {
				return errConflict
			}
			var err error
			stored, err = t.apply(a)
			return err
		})
	}
	if err != nil {
		if !errors.Is(err, errConflict) {
			err = fmt.Errorf("store customer message: %w", err)
		}
		return Message{}, err
	}
	if in.OnStored != nil {
		in.OnStored(stored, false)
	}
	if turnErr != nil {
		e.opts.Log.Error("bot turn failed", "conversation", conv.ID, "err", turnErr)
		return stored, turnErr
	}
	return stored, nil
}

// Typing publishes that someone is typing in a conversation.
func (e *Engine) Typing(conversationID string, from Sender, agent string) {
	e.bus.Publish(Event{Kind: EventTyping, ConversationID: conversationID, From: from, Agent: agent})
}

// MessagePage reads the next page of a conversation's log in one short
// read transaction: of the first limit messages stored with seq > after,
// those the customer may see (no agents' private notes), and next, the
// seq to read on from (the last one read; after itself when there were
// none, so a reader is done when next == after). Reading a long history
// page by page holds one page in memory, never the whole log.
func (e *Engine) MessagePage(ctx context.Context, conversationID string, after int64, limit int) (ms []Message, next int64, err error) {
	if limit <= 0 {
		return nil, after, fmt.Errorf("read messages of %s: page size %d", conversationID, limit)
	}
	next = after
	err = e.store.View(ctx, func(tx Tx) error {
		page, err := tx.Messages(conversationID, after, limit)
		if err != nil {
			return err
		}
		ms, next = page[:0], after
		for _, m := range page {
			next = m.Seq
			if !m.Internal {
				ms = append(ms, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, after, fmt.Errorf("read messages of %s: %w", conversationID, err)
	}
	return ms, next, nil
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
