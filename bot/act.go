package bot

import (
	"context"
	"errors"
	"fmt"
)

// Act is one act on one conversation while its transaction is open:
// everything one input causes (a customer turn; an agent's claim, reply,
// transfer, escalation or resolve; a queue notice) is written through one
// Act and committed together, or not at all. Events are published only
// once the act is durable, in commit order; work that may block (routing,
// network) runs after Engine.Act returns (see After).
//
// An Act is used by one goroutine, inside the function given to
// Engine.Act, and must not be kept after it returns.
type Act struct {
	e        *Engine
	tx       Tx
	conv     *Conversation
	events   []Event
	onCommit []func()
	after    []func(context.Context)
	// rating0 is the conversation's survey rating before the act.
	rating0 int
}

// Act runs fn as one act on the conversation: fn reads and changes the
// conversation through a (and, for other records such as tickets,
// through a.Tx()), and everything it wrote is stored in one transaction,
// shared with acts of other conversations committed at the same moment.
// If fn returns an error nothing is stored and Act returns it. When Act
// returns nil the act is durable, its events are published, and the
// functions given to After have run.
//
// fn may run more than once (see Store.Update) and must not call the
// Store or wait for anything.
func (e *Engine) Act(ctx context.Context, conversationID string, fn func(a *Act) error) error {
	return e.act(ctx, func(tx Tx) (*Conversation, error) { return tx.Conversation(conversationID) }, fn)
}

// act is how every act runs: inside one transaction, open reads (or
// stores) the conversation, fn acts on it, and the act is finished;
// once the transaction is durable, the functions given to After run.
func (e *Engine) act(ctx context.Context, open func(tx Tx) (*Conversation, error), fn func(a *Act) error) error {
	var a *Act
	err := e.store.Update(ctx, func(tx Tx) error {
		a = nil
		conv, err := open(tx)
		if err != nil {
			return err
		}
		a = e.newAct(tx, conv)
		if err := fn(a); err != nil {
			return err
		}
		return a.finish()
	})
	if err != nil {
		return err
	}
	a.runAfter(ctx)
	return nil
}

func (e *Engine) newAct(tx Tx, conv *Conversation) *Act {
	return &Act{e: e, tx: tx, conv: conv, rating0: conv.Rating}
}

// finish stores the conversation, one revision on, and registers the
// publication of the act's events once it is durable.
func (a *Act) finish() error {
	a.conv.Rev++
	if err := a.tx.PutConversation(a.conv); err != nil {
		return fmt.Errorf("save conversation %s: %w", a.conv.ID, err)
	}
	if err := a.record(); err != nil {
		return fmt.Errorf("record act on %s: %w", a.conv.ID, err)
	}
	events, hooks, bus := a.events, a.onCommit, a.e.bus
	if an, ok := a.tx.(Announcer); ok {
		var messages []Event
		for _, ev := range events {
			if ev.Kind == EventMessage {
				messages = append(messages, ev)
				continue
			}
			if err := an.Announce(ev); err != nil {
				return fmt.Errorf("announce %s event on %s: %w", ev.Kind, a.conv.ID, err)
			}
		}
		events = messages
	}
	a.tx.OnCommit(func() {
		for _, ev := range events {
			bus.Publish(ev)
		}
		for _, f := range hooks {
			f()
		}
	})
	return nil
}

func (a *Act) runAfter(ctx context.Context) {
	for _, f := range a.after {
		f(ctx)
	}
}

// Tx is the act's transaction, for records the bot does not know
// (tickets).
func (a *Act) Tx() Tx { return a.tx }

// Conversation is the conversation as the act has it so far. Change it
// only through the Act's methods, or in fields the bot does not own.
func (a *Act) Conversation() *Conversation { return a.conv }

// OnCommit registers f to run once the act is durable, after its
// conversation events are published; f must not block.
func (a *Act) OnCommit(f func()) { a.onCommit = append(a.onCommit, f) }

// After registers f to run once the act is durable and published, on
// the goroutine that called Engine.Act, before Act returns. Work that
// starts other acts or waits (routing a new ticket) goes here.
func (a *Act) After(f func(ctx context.Context)) { a.after = append(a.after, f) }

// Say appends m to the conversation as its next message and returns it
// with its seq.
func (a *Act) Say(m Message) (Message, error) {
	m.ConversationID = a.conv.ID
	if m.Time.IsZero() {
		m.Time = a.e.opts.Now().UTC()
	}
	m.Seq = a.conv.LastSeq + 1
	if err := a.tx.PutMessage(m); err != nil {
		return Message{}, fmt.Errorf("store %s message: %w", m.From, err)
	}
	m.Encoded = nil
	a.conv.LastSeq = m.Seq
	NoteMessage(a.conv, m)
	if m.Time.After(a.conv.Updated) {
		a.conv.Updated = m.Time
	}
	stored := m
	a.events = append(a.events, Event{Kind: EventMessage, ConversationID: a.conv.ID, Channel: a.conv.Channel, Message: &stored})
	return m, nil
}

// setState moves the conversation to s and records the state event.
func (a *Act) setState(s State, agentName string) {
	a.conv.State = s
	a.conv.Updated = a.e.opts.Now().UTC()
	ev := Event{Kind: EventState, ConversationID: a.conv.ID, Channel: a.conv.Channel, State: s}
	if s == StateAgent {
		ev.Agent = agentName
	}
	a.events = append(a.events, ev)
}

// SetOwner records who owns the conversation: the bot (StateBot), the
// waiting queue (StateQueued) or one agent (StateAgent with agentID, shown
// to the customer as agentName). The customer is told in a system
// message, and a state event follows the act. This is the one place where
// a conversation changes owner; it changes nothing when the owner is
// already the same.
func (a *Act) SetOwner(state State, agentID, agentName string) error {
	return a.setOwner(state, agentID, agentName, true)
}

// setOwner is SetOwner, telling the customer only if tell is set.
func (a *Act) setOwner(state State, agentID, agentName string, tell bool) error {
	if state != StateAgent {
		agentID = ""
	} else if agentID == "" {
		return errors.New("set owner: an agent owner needs an agent id")
	}
	conv := a.conv
	if conv.State == state && conv.Agent == agentID {
		return nil
	}
	prev, prevAgent := conv.State, conv.Agent
	var notice string
	who := "A person from our team"
	if agentName != "" {
		who = agentName + " from our team"
	}
	switch {
	case state == StateAgent && prev == StateAgent:
		notice = who + " has taken over the conversation."
	case state == StateAgent:
		notice = who + " has joined the conversation."
	case state == StateQueued && prevAgent != "":
		notice = "I'm passing you on to a colleague. Please hold on; they'll reply here."
	case state == StateBot && (prev == StateAgent || prev == StateQueued):
		notice = "You're back with the virtual assistant. Ask me anything, or ask for a person again at any time."
	}
	if notice != "" && tell {
		if _, err := a.Say(Message{From: FromSystem, Text: notice}); err != nil {
			return err
		}
	}
	conv.Agent = agentID
	if state == StateBot {
		conv.Failures = 0
	}
	a.setState(state, agentName)
	return nil
}

// errConflict: the conversation changed between the snapshot a turn was
// computed on and its commit; the turn is computed again.
var errConflict = errors.New("conversation changed concurrently")
