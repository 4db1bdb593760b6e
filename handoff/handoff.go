// Package handoff is the agent side of Frontdesk: the queue of
// conversations waiting for a person, the routing that picks that person,
// the agents themselves with their sessions and presence, business hours
// and service-level timers.
//
// A conversation the bot hands off becomes a Ticket. The Queue owns every
// change to a ticket: it routes new tickets to an agent (the customer's
// dedicated agent, then the ticket's team, then anyone), lets exactly one
// agent claim a waiting ticket, and moves tickets on (transfer, escalate,
// resolve, return to the bot). Tickets are durable (Store); presence and
// the subscribers to queue events live in memory.
//
// The package depends on bot for its domain types only. Storage implements
// Store (store/bolt does), the bot engine implements Owner, and the
// agent console calls the Queue and Agents on behalf of a logged-in agent.
package handoff

import (
	"github.com/frontdesk/frontdesk/bot"
)

// Errors callers branch on, checked with errors.Is.
var (
	// ErrNotFound: no agent, session or ticket with that key. It is
	// bot.ErrNotFound, so storage may return either.
	ErrNotFound = bot.ErrNotFound
	// ErrAlreadyClaimed: another agent owns the conversation.
	ErrAlreadyClaimed error = bot.NewError(bot.CodeConflict, "another agent already has this conversation")
	// ErrNotOwner: the agent does not own the conversation.
	ErrNotOwner = bot.ErrNotOwner
	// ErrForbidden: the agent's role does not allow the action.
	ErrForbidden error = bot.NewError(bot.CodeForbidden, "your role does not allow this")
	// ErrUnavailable: the target agent is offline or disabled.
	ErrUnavailable error = bot.NewError(bot.CodeConflict, "that agent is not available (offline or disabled)")
	// ErrDisabled: the agent's account is disabled.
	ErrDisabled error = bot.NewError(bot.CodeForbidden, "the account is disabled")
	// ErrEmailTaken: another agent has that email address.
	ErrEmailTaken error = bot.NewError(bot.CodeConflict, "email belongs to another agent")
	// ErrBadCredentials: unknown email or wrong password. The two are not
	// told apart, so that logins do not reveal who has an account.
	ErrBadCredentials error = bot.NewError(bot.CodeUnauthorized, "wrong email or password")
	// ErrNoSession: the session token is unknown, expired or logged out.
	ErrNoSession error = bot.NewError(bot.CodeUnauthorized, "no such session")
	// ErrRateLimited: too many failed logins for the email or address;
	// wait and try again.
	ErrRateLimited error = bot.NewError(bot.CodeRateLimited, "too many failed logins; try again later")
	// ErrBusy: too many passwords are being checked at once; try again in
	// a moment.
	ErrBusy error = bot.NewError(bot.CodeUnavailable, "too many logins at once; try again in a moment")
	// ErrInvalid: an argument is malformed (bad email, role, password,
	// hours); the wrapping message says which.
	ErrInvalid error = bot.NewError(bot.CodeInvalid, "invalid")
)
