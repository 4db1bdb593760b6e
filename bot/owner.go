package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNotOwner is returned when someone who does not own a conversation
// tries to speak in it: only the owner speaks.
var ErrNotOwner = errors.New("does not own the conversation")

// enqueue tells the queue about a conversation a turn handed off. If the
// queue cannot take it, the customer is told and the bot takes the
// conversation back, rather than leaving them waiting for nobody.
func (e *Engine) enqueue(ctx context.Context, h *pendingHandoff) {
	if e.opts.Handoff == nil {
		return
	}
	err := e.opts.Handoff.Enqueue(ctx, h.conv, h.cust)
	if err == nil {
		return
	}
	e.opts.Log.Error("enqueue hand-off", "conversation", h.conv.ID, "err", err)
	unlock := e.lock(h.conv.ID)
	defer unlock()
	conv, lerr := e.store.Conversation(ctx, h.conv.ID)
	if lerr != nil || conv.State != StateQueued {
		return
	}
	if _, err := e.say(ctx, conv, Message{From: FromSystem, Text: "Sorry, I couldn't reach our team just now. Please try again in a moment."}); err != nil {
		e.opts.Log.Error("tell customer the hand-off failed", "conversation", conv.ID, "err", err)
	}
	if err := e.setState(ctx, conv, StateBot); err != nil {
		e.opts.Log.Error("return conversation to the bot", "conversation", conv.ID, "err", err)
	}
}

// agentName is how an agent is shown to customers, "" when unknown.
func (e *Engine) agentName(id string) string {
	if e.opts.AgentName != nil {
		return e.opts.AgentName(id)
	}
	return ""
}

// whoFromTeam names an agent for a customer: "Ana from our team", or "A
// person from our team" when the name is unknown.
func (e *Engine) whoFromTeam(id string) string {
	if n := e.agentName(id); n != "" {
		return n + " from our team"
	}
	return "A person from our team"
}

// SetOwner records who owns a conversation: the bot (StateBot), the
// waiting queue (StateQueued) or one agent (StateAgent with agentID). The
// change is stored, the customer is told in a system message, and a state
// event is published. When SetOwner returns nil the bot already obeys the
// new owner: it answers only in StateBot. The agent queue calls it
// (handoff.Owner); it must not be called with the conversation's lock held.
func (e *Engine) SetOwner(ctx context.Context, conversationID string, state State, agentID string) error {
	if state != StateAgent {
		agentID = ""
	} else if agentID == "" {
		return errors.New("set owner: an agent owner needs an agent id")
	}
	unlock := e.lock(conversationID)
	defer unlock()
	conv, err := e.store.Conversation(ctx, conversationID)
	if err != nil {
		return fmt.Errorf("set owner of %s: %w", conversationID, err)
	}
	if conv.State == state && conv.Agent == agentID {
		return nil
	}
	prev, prevAgent := conv.State, conv.Agent
	conv.Agent = agentID
	if state == StateBot {
		conv.Failures = 0
	}
	var notice string
	switch {
	case state == StateAgent && prev == StateAgent:
		notice = e.whoFromTeam(agentID) + " has taken over the conversation."
	case state == StateAgent:
		notice = e.whoFromTeam(agentID) + " has joined the conversation."
	case state == StateQueued && prevAgent != "":
		notice = "I'm passing you on to a colleague. Please hold on; they'll reply here."
	case state == StateBot && (prev == StateAgent || prev == StateQueued):
		notice = "You're back with the virtual assistant. Ask me anything, or ask for a person again at any time."
	}
	if notice != "" {
		if _, err := e.say(ctx, conv, Message{From: FromSystem, Text: notice}); err != nil {
			return err
		}
	}
	conv.State = state
	conv.Updated = e.opts.Now().UTC()
	if err := e.store.SaveConversation(ctx, conv); err != nil {
		return fmt.Errorf("set owner of %s: %w", conversationID, err)
	}
	ev := Event{Kind: EventState, ConversationID: conv.ID, State: state}
	if state == StateAgent {
		ev.Agent = e.agentName(agentID)
	}
	e.bus.Publish(ev)
	return nil
}

// AgentSay stores an agent's message in a conversation and publishes it.
// A reply (internal false) is accepted only from the agent who owns the
// conversation: ErrNotOwner otherwise. A private note (internal true) is
// never shown to the customer; any agent allowed to see the conversation
// may write one (the caller checks that). When AgentSay returns nil the
// message is on disk.
func (e *Engine) AgentSay(ctx context.Context, conversationID, agentID, text string, internal bool) (Message, error) {
	return e.AgentSend(ctx, AgentMessage{ConversationID: conversationID, AgentID: agentID, Text: text, Internal: internal})
}

// AgentMessage is what an agent sends: a reply or a private note, perhaps
// an article from the knowledge base.
type AgentMessage struct {
	ConversationID string
	AgentID        string
	Text           string
	Internal       bool
	// ArticleID names the knowledge-base article the text comes from; it
	// is recorded in the message's decision, as the bot's answers are.
	ArticleID string
}

// AgentSend is AgentSay with the article recorded.
func (e *Engine) AgentSend(ctx context.Context, am AgentMessage) (Message, error) {
	conversationID, agentID, internal := am.ConversationID, am.AgentID, am.Internal
	text := strings.TrimSpace(am.Text)
	if text == "" {
		return Message{}, ErrEmpty
	}
	if len(text) > MaxTextLen {
		return Message{}, fmt.Errorf("message longer than %d bytes", MaxTextLen)
	}
	unlock := e.lock(conversationID)
	defer unlock()
	conv, err := e.store.Conversation(ctx, conversationID)
	if err != nil {
		return Message{}, err
	}
	if !internal && (conv.State != StateAgent || conv.Agent != agentID) {
		return Message{}, ErrNotOwner
	}
	m := Message{From: FromAgent, Agent: agentID, AgentName: e.agentName(agentID), Text: text, Internal: internal}
	if am.ArticleID != "" {
		m.Decision = &Decision{Kind: "agent_article", ArticleID: am.ArticleID, Reason: "sent_by_agent"}
	}
	return e.say(ctx, conv, m)
}

// Notice stores a system message for the customer (queue position,
// business hours) and publishes it; the owner of the conversation does not
// change.
func (e *Engine) Notice(ctx context.Context, conversationID, text string) (Message, error) {
	unlock := e.lock(conversationID)
	defer unlock()
	conv, err := e.store.Conversation(ctx, conversationID)
	if err != nil {
		return Message{}, err
	}
	return e.say(ctx, conv, Message{From: FromSystem, Text: text})
}

// Survey payloads.
const (
	payloadSurvey        = "survey:"
	PayloadSurveyComment = "survey:comment"
	PayloadSurveySkip    = "survey:skip"
)

// Survey asks the customer to rate the help they got, 1 to 5, with quick
// replies. It is sent after an agent resolves a conversation; the answer
// is stored on the conversation (Rating, RatingComment).
func (e *Engine) Survey(ctx context.Context, conversationID string) error {
	unlock := e.lock(conversationID)
	defer unlock()
	conv, err := e.store.Conversation(ctx, conversationID)
	if err != nil {
		return err
	}
	qr := make([]QuickReply, 0, 5)
	labels := []string{"1 - poor", "2", "3", "4", "5 - excellent"}
	for i, l := range labels {
		qr = append(qr, QuickReply{Label: l, Payload: payloadSurvey + strconv.Itoa(i+1)})
	}
	conv.SurveyState = surveyAsked
	if _, err := e.say(ctx, conv, Message{From: FromBot, Text: "Your question has been resolved. How would you rate the help you got, from 1 (poor) to 5 (excellent)?",
		QuickReplies: qr, Decision: &Decision{Kind: "survey", Reason: "resolved"}}); err != nil {
		return err
	}
	return e.store.SaveConversation(ctx, conv)
}

// Where a conversation's survey stands.
const (
	surveyAsked   = "asked"
	surveyComment = "comment" // rated; the next message is a comment
	surveyDone    = "done"
)

// survey handles the customer's answers to the satisfaction survey: a
// rating, then optionally a comment. It reports whether the message was
// one.
func (t *turn) survey(ctx context.Context) (bool, error) {
	p := t.msg.Payload
	switch {
	case strings.HasPrefix(p, payloadSurvey) && len(p) == len(payloadSurvey)+1 && p[len(p)-1] >= '1' && p[len(p)-1] <= '5':
		t.conv.Rating = int(p[len(p)-1] - '0')
		t.conv.SurveyState = surveyDone
		text := "Thank you for your rating!"
		if t.conv.Rating <= 3 {
			text = "Thank you. Sorry it wasn't better; we read every rating."
		}
		return true, t.reply(ctx, Message{Text: text + " Would you like to add a comment?",
			QuickReplies: []QuickReply{{Label: "Add a comment", Payload: PayloadSurveyComment}, {Label: "No, thanks", Payload: PayloadSurveySkip}},
			Decision:     &Decision{Kind: "survey", Reason: "rated"}})
	case p == PayloadSurveyComment:
		t.conv.SurveyState = surveyComment
		return true, t.reply(ctx, Message{Text: "Please type your comment.", Decision: &Decision{Kind: "survey", Reason: "ask_comment"}})
	case p == PayloadSurveySkip:
		t.conv.SurveyState = surveyDone
		return true, t.reply(ctx, Message{Text: "OK! Is there anything else I can help with?", Decision: &Decision{Kind: "survey", Reason: "skipped"}})
	case p == "" && t.conv.SurveyState == surveyComment:
		t.conv.RatingComment = t.msg.Text
		t.conv.SurveyState = surveyDone
		return true, t.reply(ctx, Message{Text: "Thank you for your feedback! Is there anything else I can help with?", Decision: &Decision{Kind: "survey", Reason: "comment"}})
	}
	return false, nil
}
