// Package webhook delivers Frontdesk's events to the shop's own HTTP
// endpoints (--webhook-url): conversation.created, message.created,
// handoff.queued, conversation.claimed, conversation.resolved,
// survey.rated and customer.updated, each a signed JSON body.
//
// Events are written to a durable outbox inside the act that causes them
// (Recorder, a bot.Recorder), so an event exists exactly when what it
// reports does, and survives a crash. A Deliverer posts them, in order
// per conversation and URL, retrying with backoff until the endpoint
// answers 2xx; only then is the event removed. Delivery is at least once:
// a crash after a post and before its removal posts it again, with the
// same id, which receivers use to skip repeats.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// Event types.
const (
	ConversationCreated  = "conversation.created"
	MessageCreated       = "message.created"
	HandoffQueued        = "handoff.queued"
	ConversationClaimed  = "conversation.claimed"
	ConversationResolved = "conversation.resolved"
	SurveyRated          = "survey.rated"
	CustomerUpdated      = "customer.updated"
)

// Types lists every event type, for documentation and metrics.
var Types = []string{ConversationCreated, MessageCreated, HandoffQueued, ConversationClaimed,
	ConversationResolved, SurveyRated, CustomerUpdated}

// Payload is the JSON body of one webhook request.
type Payload struct {
	// ID is unique per event (and URL); a retry carries the same.
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	// ConversationID is set for the conversation events.
	ConversationID string `json:"conversation_id,omitempty"`
	CustomerID     string `json:"customer_id,omitempty"`
	// ExternalID is the shop's id of the customer, when the shop told it.
	ExternalID string `json:"external_id,omitempty"`
	Data       any    `json:"data"`
}

// Signature is the value of the X-Frontdesk-Signature header of a body:
// "sha256=" and the hex HMAC-SHA256 of the body with the webhook secret.
func Signature(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is the signature of body with the secret,
// comparing in constant time: what a receiver does.
func Verify(secret, body []byte, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(Signature(secret, body)))
}

// entry is one outbox record: one event for one URL, with its delivery
// state.
type entry struct {
	URL string `json:"url"`
	// Key orders delivery: events of one key (a conversation, a
	// customer) are delivered to a URL in the order they were appended.
	Key      string          `json:"key"`
	Type     string          `json:"type"`
	ID       string          `json:"id"`
	Body     json.RawMessage `json:"body"`
	Attempts int             `json:"attempts,omitempty"`
	NextAt   time.Time       `json:"next_at,omitzero"`
	LastErr  string          `json:"last_error,omitempty"`
	// FirstFailed is when the first attempt failed (zero until one
	// has), from which Options.GiveUpAfter counts.
	FirstFailed time.Time `json:"first_failed,omitzero"`
}

// messageData is a message as webhooks carry it.
type messageData struct {
	Seq   int64      `json:"seq"`
	From  bot.Sender `json:"from"`
	Text  string     `json:"text"`
	Agent string     `json:"agent,omitempty"`
	Time  time.Time  `json:"time"`
}

type conversationData struct {
	ID         string      `json:"id"`
	CustomerID string      `json:"customer_id"`
	Channel    bot.Channel `json:"channel"`
	State      bot.State   `json:"state"`
	Created    time.Time   `json:"created"`
}

type customerData struct {
	ID         string            `json:"id"`
	ExternalID string            `json:"external_id,omitempty"`
	Name       string            `json:"name,omitempty"`
	Email      string            `json:"email,omitempty"`
	Segment    string            `json:"segment,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}
