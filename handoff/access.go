package handoff

import (
	"regexp"
	"strings"

	"github.com/frontdesk/frontdesk/bot"
)

// Access is what an agent wants to do, for May.
type Access string

// Accesses.
const (
	// AccessRead: see a conversation and its customer.
	AccessRead Access = "read"
	// AccessReply: speak to the customer in the conversation.
	AccessReply Access = "reply"
	// AccessNote: write a private note in the conversation.
	AccessNote Access = "note"
	// AccessEditCustomer: change the customer's segment or dedicated agent.
	AccessEditCustomer Access = "edit_customer"
	// AccessManageAgents: add, change and disable agents.
	AccessManageAgents Access = "manage_agents"
	// AccessManageData: back up, export and erase customers' data.
	AccessManageData Access = "manage_data"
)

// Situation is what May needs to know about a conversation: the
// conversation, its ticket (open, or the latest closed one; nil if it was
// never handed off), and whether the agent has another conversation of
// the same customer assigned (which lets it see the customer's history).
type Situation struct {
	Conversation *bot.Conversation
	Ticket       *Ticket
	HasCustomer  bool
}

// May reports whether agent a may do act in the situation: the one rule
// set the console, the CLI and any other edge share.
//
//   - Supervisors and admins may read, note and edit any conversation's
//     customer; only the owner replies, whoever they are.
//   - An agent reads the conversations it owns, those waiting in the
//     queue, those it had when they were closed, and the other
//     conversations of customers it is helping; it writes notes where it
//     may read.
//   - An agent edits a customer it is helping.
//   - Only admins manage agents and data.
//
// A disabled or missing agent may do nothing.
func May(a *Agent, act Access, s Situation) bool {
	if a == nil || a.Disabled {
		return false
	}
	conv, t := s.Conversation, s.Ticket
	owns := conv != nil && conv.State == bot.StateAgent && conv.Agent == a.ID
	switch act {
	case AccessManageAgents, AccessManageData:
		return a.Role == RoleAdmin
	case AccessReply:
		return owns
	case AccessEditCustomer:
		return CanSupervise(a) || owns || s.HasCustomer
	case AccessRead, AccessNote:
		switch {
		case CanSupervise(a), owns:
			return true
		case t != nil && t.Open():
			return t.Waiting() || t.Agent == a.ID
		case t != nil && t.Agent == a.ID:
			// A closed conversation the agent had last: its own
			// history, for the inbox.
			return true
		}
		return s.HasCustomer
	}
	return false
}

// segmentPattern is what a segment may look like: "vip", "b2b", "trade".
var segmentPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Segment returns the segment s in its stored form (trimmed, lower case:
// "VIP" is "vip", which raises hand-off priority), or ErrInvalid. An
// empty s clears the segment.
func Segment(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s != "" && !segmentPattern.MatchString(s) {
		return "", bot.NewError(bot.CodeInvalid, "a segment is up to 32 lower-case letters, digits, - or _")
	}
	return s, nil
}
