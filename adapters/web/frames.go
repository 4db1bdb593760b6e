package web

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// inFrame is any frame a client sends; Type says which fields matter.
// docs/protocol.md is the contract.
type inFrame struct {
	Type    string `json:"type"`
	Token   string `json:"token"`
	LastSeq int64  `json:"last_seq"`
	ID      string `json:"id"`
	Text    string `json:"text"`
	Payload string `json:"payload"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	// Link is a one-time link code in hello; Channel the channel a link
	// frame asks to continue on.
	Link    string `json:"link"`
	Channel string `json:"channel"`
	// Seq is how far the customer has read, in a read frame.
	Seq int64 `json:"seq"`
	// Identity is who the shop says the visitor is, in hello (see
	// identity.go).
	Identity *identityFrame `json:"identity"`
}

// decodeFrame decodes a frame the client sent. It fails for anything
// that is not a JSON object of inFrame's shape; it never panics, whatever
// the bytes.
func decodeFrame(data []byte) (inFrame, error) {
	var f inFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return inFrame{}, fmt.Errorf("decode frame: %w", err)
	}
	return f, nil
}

type welcomeFrame struct {
	Type           string       `json:"type"` // "welcome"
	Token          string       `json:"token"`
	ConversationID string       `json:"conversation_id"`
	State          bot.State    `json:"state"`
	Customer       customerInfo `json:"customer"`
	// Channels the customer may continue on ("telegram"), if any.
	Channels []bot.Channel `json:"channels,omitempty"`
	// HistoryTruncated: the history sent starts at FirstSeq, not where
	// last_seq asked (see Options.MaxBacklog).
	HistoryTruncated bool  `json:"history_truncated,omitempty"`
	FirstSeq         int64 `json:"first_seq,omitempty"`
	// AgentReadSeq is how far the people have seen the conversation
	// (read receipts).
	AgentReadSeq int64 `json:"agent_read_seq,omitempty"`
}

type linkFrame struct {
	Type    string      `json:"type"` // "link"
	Channel bot.Channel `json:"channel"`
	URL     string      `json:"url"`
}

type customerInfo struct {
	Returning bool   `json:"returning"`
	Name      string `json:"name,omitempty"`
	// Verified: the shop vouched for the customer (a signed identity).
	Verified bool `json:"verified,omitempty"`
}

type ackFrame struct {
	Type string `json:"type"` // "ack"
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
}

type messageFrame struct {
	Type         string           `json:"type"` // "message"
	Seq          int64            `json:"seq"`
	From         bot.Sender       `json:"from"`
	Text         string           `json:"text"`
	QuickReplies []bot.QuickReply `json:"quick_replies,omitempty"`
	// ID is the client id of a customer's message.
	ID    string    `json:"id,omitempty"`
	Agent string    `json:"agent,omitempty"`
	Time  time.Time `json:"time"`
	// Attachment is a file sent with the message (GET
	// /attachments/{conversation_id}/{attachment.id} fetches it).
	Attachment *bot.Attachment `json:"attachment,omitempty"`
	// Draft is the id of the draft frames this message completes, sent
	// only live, right after them.
	Draft string `json:"draft,omitempty"`
}

// draftFrame is a bot answer still being written: the whole text so far
// (not a delta), replaced by the message frame with the same draft id.
type draftFrame struct {
	Type string `json:"type"` // "draft"
	ID   string `json:"id"`
	Text string `json:"text"`
}

type stateFrame struct {
	Type  string    `json:"type"` // "state"
	State bot.State `json:"state"`
	Agent string    `json:"agent,omitempty"`
}

type typingFrame struct {
	Type string     `json:"type"` // "typing"
	From bot.Sender `json:"from"`
}

type errorFrame struct {
	Type    string `json:"type"` // "error"
	Code    string `json:"code"`
	Message string `json:"message"`
	// ID is the client id of the message refused, when one was.
	ID string `json:"id,omitempty"`
}

// Error codes of error frames.
const (
	codeBadFrame    = "bad_frame"
	codeTooLarge    = "too_large"
	codeRateLimited = "rate_limited"
	codeNotReady    = "not_ready"
	codeInternal    = "internal"
	codeUnavailable = "unavailable"      // a link to a channel not configured
	codeLinkInvalid = "link_invalid"     // hello's link code unknown or used
	codeLinkExpired = "link_expired"     // hello's link code expired
	codeIdentity    = "identity_invalid" // hello's identity is unsigned or wrongly signed
)

func toFrame(m bot.Message) messageFrame {
	f := messageFrame{Type: "message", Seq: m.Seq, From: m.From, Text: m.Text, QuickReplies: m.QuickReplies, Agent: m.AgentName, Time: m.Time, Attachment: m.Attachment}
	if m.From == bot.FromCustomer {
		f.ID = m.ClientID
	}
	return f
}
