// Package bot holds Frontdesk's domain (customers, conversations, messages,
// events) and the Engine that runs the dialogue: it answers from the
// knowledge base, remembers customers, and decides when a person must take
// over. It knows no channel and no database: adapters turn their wire
// formats into Inbound values, and storage implements Store.
package bot

import "time"

// Errors callers branch on.
var (
	// ErrNotFound: no customer, conversation or message with that key.
	ErrNotFound error = NewError(CodeNotFound, "not found")
	// ErrClosed: the store or engine has been closed.
	ErrClosed error = NewError(CodeUnavailable, "closed")
)

// Channel is where a customer talks to us.
type Channel string

// Channels.
const (
	Web      Channel = "web"
	Telegram Channel = "telegram"
)

// Identity ties a customer to one channel's notion of who they are: a web
// visitor token (stored hashed), a Telegram user id.
type Identity struct {
	Channel Channel `json:"channel"`
	ID      string  `json:"id"`
}

// Customer is a person who has talked to us, on any channel.
type Customer struct {
	ID         string            `json:"id"`
	Name       string            `json:"name,omitempty"`
	Email      string            `json:"email,omitempty"`
	Segment    string            `json:"segment,omitempty"` // e.g. "vip"
	Tags       []string          `json:"tags,omitempty"`
	Attrs      map[string]string `json:"attrs,omitempty"`
	Identities []Identity        `json:"identities,omitempty"`
	// ExternalID is the shop's id of a customer the shop vouched for (a
	// signed identity, the customer API): a verified customer, whose
	// profile only the shop changes. "" for an anonymous one.
	ExternalID string `json:"external_id,omitempty"`
	// DedicatedAgent is the id of the agent who looks after this customer.
	DedicatedAgent string    `json:"dedicated_agent,omitempty"`
	Visits         int       `json:"visits"`
	FirstSeen      time.Time `json:"first_seen"`
	LastSeen       time.Time `json:"last_seen"`
	// Topics are the titles of the articles the customer was last answered
	// with, most recent first (at most maxTopics).
	Topics []Topic `json:"topics,omitempty"`
	// NoFollowups: the customer asked not to be asked "Did that solve
	// it?" again.
	NoFollowups bool `json:"no_followups,omitempty"`
}

// Topic is something a customer asked about.
type Topic struct {
	ArticleID string    `json:"article_id"`
	Title     string    `json:"title"`
	At        time.Time `json:"at"`
}

// State is who owns a conversation.
type State string

// Conversation states. Only the owner speaks: the bot in StateBot, nobody
// but queue updates in StateQueued, the agent in StateAgent.
const (
	StateBot    State = "bot"
	StateQueued State = "queued"
	StateAgent  State = "agent"
	StateClosed State = "closed"
)

// Conversation is one thread of messages between a customer and us.
type Conversation struct {
	ID         string    `json:"id"`
	CustomerID string    `json:"customer_id"`
	Channel    Channel   `json:"channel"`
	State      State     `json:"state"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	// LastSeq is the sequence number of the newest message.
	LastSeq int64 `json:"last_seq"`
	// Rev counts the acts stored on the conversation; a turn commits only
	// on the revision it was computed on.
	Rev int64 `json:"rev,omitempty"`
	// Agent is the id of the owning agent in StateAgent.
	Agent string `json:"agent,omitempty"`
	// Handoff says why and how urgently a person was asked for.
	HandoffReason string `json:"handoff_reason,omitempty"`
	Priority      int    `json:"priority,omitempty"`
	// Failures counts consecutive turns the bot could not help with.
	Failures int `json:"failures,omitempty"`
	// Rating (1-5) and RatingComment are the customer's answer to the
	// satisfaction survey sent when an agent resolved the conversation.
	Rating        int    `json:"rating,omitempty"`
	RatingComment string `json:"rating_comment,omitempty"`
	// CustomerReadSeq and AgentReadSeq are how far the customer and the
	// people have seen the conversation (read receipts; see MarkRead).
	CustomerReadSeq int64 `json:"customer_read_seq,omitempty"`
	AgentReadSeq    int64 `json:"agent_read_seq,omitempty"`
	// SurveyState is where the survey stands: "", "asked", "rated", "comment", "done".
	SurveyState string `json:"survey_state,omitempty"`
	// Questions are the customer's latest typed messages in the bot's
	// current stretch, oldest first (at most maxQuestions; see
	// NoteMessage): what a turn reads to follow up a question or notice
	// the customer repeating themselves, without reading the log.
	Questions []string `json:"questions,omitempty"`
	// Last is the newest message said between the customer and the bot
	// or an agent, for previews (see NoteMessage).
	Last *LastMessage `json:"last,omitempty"`
	// LLMTokens counts the language-model tokens the conversation's
	// answers have used, for the per-conversation budget (see Composer).
	LLMTokens int `json:"llm_tokens,omitempty"`
	// FollowupAt is when to ask "Did that solve it?" after a resolved
	// hand-off, and Followup where that stands (see followup.go).
	FollowupAt time.Time `json:"followup_at,omitzero"`
	Followup   string    `json:"followup,omitempty"`
}

// maxQuestions is how many recent customer messages a conversation keeps.
const maxQuestions = 6

// NoteMessage keeps c.Questions and c.Last in step with a message
// appended to c. For Questions: a
// customer's typed message is remembered; a person's or the system's
// words, a hand-off or the survey start the bot's stretch afresh, so what
// was asked before a person helped is neither followed up nor counted as
// repeated.
func NoteMessage(c *Conversation, m Message) {
	notePreview(c, m)
	switch {
	case sinceBotTookOver(m):
		c.Questions = nil
	case m.From == FromCustomer && m.Payload == "" && m.Text != "":
		c.Questions = append(c.Questions, m.Text)
		if n := len(c.Questions); n > maxQuestions {
			c.Questions = append([]string(nil), c.Questions[n-maxQuestions:]...)
		}
	}
}

// Sender is who wrote a message.
type Sender string

// Senders.
const (
	FromCustomer Sender = "customer"
	FromBot      Sender = "bot"
	FromAgent    Sender = "agent"
	FromSystem   Sender = "system"
)

// QuickReply is a button offered with a message; choosing it sends Payload.
type QuickReply struct {
	Label   string `json:"label"`
	Payload string `json:"payload"`
}

// DecisionKind is what kind of reply a message was.
type DecisionKind string

// Decision kinds: every kind a message's Decision can have.
const (
	DecisionAnswer       DecisionKind = "answer"        // an article
	DecisionClarify      DecisionKind = "clarify"       // "did you mean…" with candidates
	DecisionNoAnswer     DecisionKind = "no_answer"     // not understood; a person is offered
	DecisionHandoff      DecisionKind = "handoff"       // handed to the queue
	DecisionSmalltalk    DecisionKind = "smalltalk"     // greeting, thanks, name, email
	DecisionFeedback     DecisionKind = "feedback"      // reply to helpful / keep trying / follow-up
	DecisionSurvey       DecisionKind = "survey"        // the satisfaction survey and its answers
	DecisionAgentArticle DecisionKind = "agent_article" // an article an agent sent
	DecisionAssist       DecisionKind = "assist"        // a machine-written brief for agents (a private note)
)

// DecisionKinds lists the kinds, for documentation and metrics.
var DecisionKinds = []DecisionKind{DecisionAnswer, DecisionClarify, DecisionNoAnswer, DecisionHandoff,
	DecisionSmalltalk, DecisionFeedback, DecisionSurvey, DecisionAgentArticle, DecisionAssist}

// Decision records why the bot said what it said.
type Decision struct {
	Kind       DecisionKind `json:"kind"`
	ArticleID  string       `json:"article_id,omitempty"`
	Confidence float64      `json:"confidence,omitempty"`
	Candidates []string     `json:"candidates,omitempty"`
	// Reason is a short machine-readable cause, e.g. "requested",
	// "low_confidence", "frustration", "article", "negative_feedback".
	Reason string `json:"reason,omitempty"`
	// Query is the text that was searched (with a follow-up, the previous
	// question and this one).
	Query string `json:"query,omitempty"`
	// Sources are the articles a machine-written answer cites, verified to
	// be among those it was given (see Composer); ArticleID is the first.
	// The "Was this helpful?" after it, and an agent brief's note, carry
	// them too. Empty for an article sent as written.
	Sources []string `json:"sources,omitempty"`
}

// Message is one entry of a conversation's log.
type Message struct {
	ConversationID string       `json:"conversation_id"`
	Seq            int64        `json:"seq"`
	From           Sender       `json:"from"`
	Text           string       `json:"text"`
	QuickReplies   []QuickReply `json:"quick_replies,omitempty"`
	// Payload is the quick-reply payload a customer chose.
	Payload string `json:"payload,omitempty"`
	// ClientID is the customer's client-side id; a message is stored once
	// per (conversation, ClientID).
	ClientID string    `json:"client_id,omitempty"`
	Time     time.Time `json:"time"`
	Decision *Decision `json:"decision,omitempty"`
	// Agent is the id of the agent who wrote it, AgentName how the
	// customer sees them.
	Agent     string `json:"agent,omitempty"`
	AgentName string `json:"agent_name,omitempty"`
	// Internal marks an agent's private note, never shown to the customer.
	Internal bool `json:"internal,omitempty"`
	// Assist is the machine-written brief of a private note from the bot
	// (see Assistant).
	Assist *Assist `json:"assist,omitempty"`
	// Draft is the id of the drafts (EventDraft) this message completes;
	// it travels on the bus only and is not stored.
	Draft string `json:"-"`
	// Attachment is a file sent with the message (its Text may then be
	// empty); the file itself is kept outside the store (see Attachment).
	Attachment *Attachment `json:"attachment,omitempty"`
	// Encoded is the message in the store's form, made before its act
	// (see MessageEncoder); only on its way to the store.
	Encoded *Encoded `json:"-"`
}

// Attachment describes a file a customer or an agent sent: an image or a
// PDF, kept beside the database under ID, its type checked from its
// content when it was received.
type Attachment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}
