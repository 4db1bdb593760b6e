package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/kb"
)

// ErrNotOwner is returned when someone who does not own a conversation
// tries to speak in it: only the owner speaks.
var ErrNotOwner error = NewError(CodeForbidden, "only the agent who has the conversation can do that")

// agentName is how an agent is shown to customers, "" when unknown.
func (e *Engine) agentName(id string) string {
	if e.opts.AgentName != nil && id != "" {
		return e.opts.AgentName(id)
	}
	return ""
}

// SetOwner records who owns a conversation, in one act (see Act.SetOwner):
// the bot (StateBot), the waiting queue (StateQueued) or one agent
// (StateAgent with agentID). When SetOwner returns nil the change and the
// customer's notice are on disk and the bot obeys the new owner. The agent
// queue changes owners with its tickets in one act instead (Act).
func (e *Engine) SetOwner(ctx context.Context, conversationID string, state State, agentID string) error {
	name := e.agentName(agentID)
	err := e.Act(ctx, conversationID, func(a *Act) error {
		if a.conv.State == state && (state != StateAgent || a.conv.Agent == agentID) {
			return errNoChange
		}
		return a.SetOwner(state, agentID, name)
	})
	if errors.Is(err, errNoChange) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("set owner of %s: %w", conversationID, err)
	}
	return nil
}

// errNoChange aborts an act that would change nothing.
var errNoChange = errors.New("no change")

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
	// AgentName is how the customer sees the agent (AgentSend looks it up
	// when empty).
	AgentName string
	// Attachment is a file the agent sent, already kept; Text may then be
	// empty.
	Attachment *Attachment
}

// AgentSend is AgentSay with the article recorded.
func (e *Engine) AgentSend(ctx context.Context, am AgentMessage) (Message, error) {
	if am.AgentName == "" {
		am.AgentName = e.agentName(am.AgentID)
	}
	var m Message
	err := e.Act(ctx, am.ConversationID, func(a *Act) error {
		var err error
		m, err = a.AgentSay(am)
		return err
	})
	return m, err
}

// AgentSay appends an agent's message in the act (see Engine.AgentSay):
// a reply only from the owning agent, ErrNotOwner otherwise.
func (a *Act) AgentSay(am AgentMessage) (Message, error) {
	text := cleanText(am.Text)
	if text == "" && am.Attachment == nil {
		return Message{}, ErrEmpty
	}
	if len(text) > MaxTextLen {
		return Message{}, fmt.Errorf("message longer than %d bytes", MaxTextLen)
	}
	if !am.Internal && (a.conv.State != StateAgent || a.conv.Agent != am.AgentID) {
		return Message{}, ErrNotOwner
	}
	m := Message{From: FromAgent, Agent: am.AgentID, AgentName: am.AgentName, Text: text, Internal: am.Internal, Attachment: am.Attachment}
	if am.ArticleID != "" {
		m.Decision = &Decision{Kind: DecisionAgentArticle, ArticleID: am.ArticleID, Reason: "sent_by_agent"}
	}
	return a.Say(m)
}

// Notice stores a system message for the customer (queue position,
// business hours) and publishes it; the owner of the conversation does not
// change. A notice the conversation's newest message already says (an
// offer to an agent who then went offline puts the customer back in the
// queue, and the queue's notice would be the same) is not said again:
// Notice returns that message and stores nothing.
func (e *Engine) Notice(ctx context.Context, conversationID, text string) (Message, error) {
	var m Message
	err := e.Act(ctx, conversationID, func(a *Act) error {
		if last := a.conv.LastSeq; last > 0 {
			ms, err := a.tx.Messages(conversationID, last-1, 1)
			if err != nil {
				return err
			}
			if len(ms) == 1 && ms[0].From == FromSystem && ms[0].Text == text {
				m = ms[0]
				return nil
			}
		}
		var err error
		m, err = a.Say(Message{From: FromSystem, Text: text})
		return err
	})
	return m, err
}

// Survey payloads.
const (
	payloadSurvey        = "survey:"
	PayloadSurveyComment = "survey:comment"
	PayloadSurveySkip    = "survey:skip"
)

// Survey asks the customer to rate the help they got, in one act (see
// Act.AskSurvey).
func (e *Engine) Survey(ctx context.Context, conversationID string) error {
	return e.Act(ctx, conversationID, func(a *Act) error { return a.AskSurvey() })
}

// AskSurvey asks the customer to rate the help they got, 1 to 5, with
// quick replies. It is sent when a person resolves a conversation, in the
// resolve's act; the answer is stored on the conversation (Rating,
// RatingComment).
func (a *Act) AskSurvey() error {
	return a.askSurvey("Your question has been resolved. How would you rate the help you got, from 1 (poor) to 5 (excellent)?")
}

// Resolved gives a conversation a person resolved back to the bot and
// asks the customer for a rating, in one message that says both (not a
// "back with the virtual assistant" notice, then the survey): the
// reaction to a resolve. It is AskSurvey when the bot owns the
// conversation already.
func (a *Act) Resolved() error {
	if a.conv.State == StateBot {
		return a.AskSurvey()
	}
	if err := a.setOwner(StateBot, "", "", false); err != nil {
		return err
	}
	return a.askSurvey("Your question has been resolved, and you're back with the virtual assistant: ask me anything, or for a person again, at any time. How would you rate the help you got, from 1 (poor) to 5 (excellent)?")
}

func (a *Act) askSurvey(text string) error {
	qr := make([]QuickReply, 0, 5)
	labels := []string{"1 - poor", "2", "3", "4", "5 - excellent"}
	for i, l := range labels {
		qr = append(qr, QuickReply{Label: l, Payload: payloadSurvey + strconv.Itoa(i+1)})
	}
	a.conv.SurveyState = surveyAsked
	a.scheduleFollowup()
	_, err := a.Say(Message{From: FromBot, Text: text,
		QuickReplies: qr, Decision: &Decision{Kind: DecisionSurvey, Reason: "resolved"}})
	return err
}

// Where a conversation's survey stands.
const (
	surveyAsked   = "asked"
	surveyRated   = "rated"   // rated and asked for a comment
	surveyComment = "comment" // chose "Add a comment"; the next message is one
	surveyDone    = "done"
)

// commentWindow is how long after the rating a typed message may be the
// comment the bot asked for; later it is a new question.
const commentWindow = 30 * time.Minute

// survey handles the customer's answers to the satisfaction survey: a
// rating, then optionally a comment. It reports whether the message was
// one.
func (t *turn) survey(ctx context.Context) (bool, error) {
	p := t.msg.Payload
	switch {
	case strings.HasPrefix(p, payloadSurvey) && len(p) == len(payloadSurvey)+1 && p[len(p)-1] >= '1' && p[len(p)-1] <= '5':
		t.conv.Rating = int(p[len(p)-1] - '0')
		t.conv.SurveyState = surveyRated
		text := "Thank you for your rating!"
		if t.conv.Rating <= 3 {
			text = "Thank you. Sorry it wasn't better; we read every rating."
		}
		return true, t.reply(Message{Text: text + " Would you like to add a comment?",
			QuickReplies: []QuickReply{{Label: "Add a comment", Payload: PayloadSurveyComment}, {Label: "No, thanks", Payload: PayloadSurveySkip}},
			Decision:     &Decision{Kind: DecisionSurvey, Reason: "rated"}})
	case p == PayloadSurveyComment:
		t.conv.SurveyState = surveyComment
		return true, t.reply(Message{Text: "Please type your comment.", Decision: &Decision{Kind: DecisionSurvey, Reason: "ask_comment"}})
	case p == PayloadSurveySkip:
		t.conv.SurveyState = surveyDone
		return true, t.reply(Message{Text: "OK! Is there anything else I can help with?", Decision: &Decision{Kind: DecisionSurvey, Reason: "skipped"}})
	case p == "" && t.msg.Text != "" && t.conv.SurveyState == surveyComment:
		return true, t.takeComment()
	case p == "" && t.msg.Text != "" && t.conv.SurveyState == surveyRated:
		// "Would you like to add a comment?" was the last question: a
		// typed answer is the comment, unless it declines, asks for a
		// person, is small talk, comes long after, or is a question the
		// knowledge base answers.
		t.conv.SurveyState = surveyDone
		text := t.msg.Text
		switch {
		case declines(text):
			return true, t.reply(Message{Text: "OK! Is there anything else I can help with?", Decision: &Decision{Kind: DecisionSurvey, Reason: "skipped"}})
		case t.e.opts.Now().Sub(t.conv.Updated) > commentWindow, wantsHuman(text, t.e.opts.HumanPhrases), smalltalk(text) != "":
			return false, nil
		case asksQuestion(text):
			d, err := t.e.decide(ctx, text)
			if err != nil {
				return false, fmt.Errorf("search knowledge base: %w", err)
			}
			if d.Kind != kb.NoAnswer {
				return false, nil
			}
		}
		return true, t.takeComment()
	}
	return false, nil
}

// takeComment stores the customer's message as the survey comment and
// thanks them.
func (t *turn) takeComment() error {
	t.conv.RatingComment = t.msg.Text
	t.conv.SurveyState = surveyDone
	return t.reply(Message{Text: "Thank you! I've added your comment to your rating. Is there anything else I can help with?", Decision: &Decision{Kind: DecisionSurvey, Reason: "comment"}})
}
