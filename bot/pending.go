package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrStaleSession is returned for a pending session whose visitor became
// a stored customer some other way meanwhile (a link code redeemed on
// another connection): the session must be started again.
var ErrStaleSession = NewError(CodeConflict, "the chat was started elsewhere; reconnect to continue it")

// Open is Start for a channel that anyone may connect to (the web
// widget): a returning customer is started as Start does, but for an
// identity no customer has, Open stores nothing. It returns a pending
// Session whose customer and conversation are reserved and whose greeting
// is to be shown but is not stored; the customer's first message (Handle
// with Inbound.Session) or Persist stores them, greeting first, in one
// act. So visitors who never say anything cost no storage.
//
// The reserved ids are derived from the identity, so every pending
// session of one identity (a reload, a second tab) reserves the same
// conversation, and whichever stores it first, the others continue it.
func (e *Engine) Open(ctx context.Context, id Identity, p Profile) (*Session, error) {
	_, err := e.store.CustomerByIdentity(ctx, id)
	switch {
	case err == nil:
		return e.Start(ctx, id, p)
	case !errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("find customer: %w", err)
	}
	now := e.opts.Now().UTC()
	cust := Customer{ID: reservedID("cus_", id), Identities: []Identity{id}, Visits: 1, FirstSeen: now, LastSeen: now}
	applyProfile(&cust, p)
	conv := Conversation{ID: reservedID("con_", id), CustomerID: cust.ID, Channel: id.Channel, State: StateBot, Created: now, Updated: now}
	g := e.greeting(&cust)
	g.ConversationID, g.Seq, g.Time = conv.ID, 1, now
	return &Session{Customer: cust, Conversation: conv, Pending: true, Greeting: g, id: id}, nil
}

// reservedID is the id a pending session reserves for its customer or
// conversation: a hash of the identity, shaped like NewID's. The identity
// of a web visitor is itself a hash of their token, so the id reveals
// nothing of it.
func reservedID(prefix string, id Identity) string {
	sum := sha256.Sum256([]byte("frontdesk reserved\x00" + prefix + "\x00" + string(id.Channel) + "\x00" + id.ID))
	return prefix + hex.EncodeToString(sum[:12])
}

// SetProfile keeps what a customer of a pending session told about
// themselves (a pre-chat form), to be stored with the session. For a
// stored customer, use Engine.UpdateProfile.
func (s *Session) SetProfile(p Profile) { applyProfile(&s.Customer, p) }

// planned is the pending session's conversation and customer as they
// will be once the greeting is stored: what the first turn is computed
// on.
func (s *Session) planned() (*Conversation, *Customer) {
	conv, cust := s.Conversation, s.Customer
	conv.LastSeq = s.Greeting.Seq
	conv.Updated = s.Greeting.Time
	NoteMessage(&conv, s.Greeting)
	return &conv, &cust
}

// profile is what the customer told in the pending session.
func (s *Session) profile() Profile {
	return Profile{Name: s.Customer.Name, Email: s.Customer.Email}
}

// Persist stores a pending session's customer, conversation and greeting
// in one act, for a channel act that needs the customer before their
// first message (a link to another channel). A session stored meanwhile
// by another connection of the same visitor counts as stored. When
// Persist returns nil, the session is on disk; the caller marks it no
// longer pending.
func (e *Engine) Persist(ctx context.Context, s *Session) error {
	if !s.Pending {
		return nil
	}
	err := e.actFirst(ctx, s, nil)
	if !errors.Is(err, errConflict) {
		return err
	}
	conv, err := e.store.Conversation(ctx, s.Conversation.ID)
	switch {
	case err == nil && conv.CustomerID == s.Customer.ID:
		return nil
	case err == nil || errors.Is(err, ErrNotFound):
		return ErrStaleSession
	}
	return err
}

// actFirst stores a pending session, its greeting as seq 1, and then
// whatever fn writes, as one act. If the visitor's customer or the
// conversation is stored already (another connection was first), it
// stores nothing and returns errConflict.
func (e *Engine) actFirst(ctx context.Context, s *Session, fn func(a *Act) error) error {
	open := func(tx Tx) (*Conversation, error) {
		switch _, err := tx.CustomerByIdentity(s.id); {
		case err == nil:
			return nil, errConflict
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("find customer: %w", err)
		}
		switch _, err := tx.Conversation(s.Conversation.ID); {
		case err == nil:
			return nil, errConflict
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
		cust, conv := s.Customer, s.Conversation
		if err := tx.PutCustomer(&cust); err != nil {
			return nil, fmt.Errorf("save customer: %w", err)
		}
		return &conv, nil
	}
	return e.act(ctx, open, func(a *Act) error {
		if _, err := a.Say(s.Greeting); err != nil {
			return err
		}
		if fn != nil {
			return fn(a)
		}
		return nil
	})
}
