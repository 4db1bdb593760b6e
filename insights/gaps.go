// Package insights turns what customers and agents did into lessons for
// the knowledge base: the questions the bot could not answer, grouped into
// topics (gaps.go, topics.go). It reads conversations through Source and
// matches questions with the knowledge base's own features; it writes
// nothing.
package insights

import (
	"context"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// Gap reasons: why a question counts as one the knowledge base lacks.
const (
	ReasonNoAnswer      = "no_answer"      // the bot did not understand it
	ReasonSomethingElse = "something_else" // none of the offered articles fitted
	ReasonNotHelpful    = "not_helpful"    // the customer said the answer did not help
	ReasonHandoff       = "handoff"        // a person was needed after the bot failed
)

// Gap is one customer question the bot failed on, in one conversation.
type Gap struct {
	ConversationID string    `json:"conversation_id"`
	Time           time.Time `json:"time"`
	Question       string    `json:"question"`
	// Reasons are the failures the question met, in order (see Reason*).
	Reasons []string `json:"reasons"`
	// ArticleID is the article the bot answered with, for not_helpful.
	ArticleID string `json:"article_id,omitempty"`
	// AgentReply is the first thing a person told the customer after the
	// hand-off that followed: often the answer the knowledge base lacks.
	AgentReply string `json:"agent_reply,omitempty"`
}

// Source is what insights read: the conversations changed since a time,
// each with its whole transcript (agents' private notes included).
type Source interface {
	EachConversation(ctx context.Context, since time.Time, fn func(c bot.Conversation, ms []bot.Message) error) error
}

// FindGaps returns the questions of one transcript that the bot failed
// on: a question it did not understand, the question behind "something
// else", an answer the customer found not helpful, and, when a person took
// over after such a failure, the hand-off and the agent's first reply. A
// question met several times in the conversation is one Gap with every
// reason.
func FindGaps(ms []bot.Message) []Gap {
	var (
		out           []Gap
		byQuestion    = map[string]int{}
		clarifyQuery  string // the question behind the last "did you mean"
		answerQuery   string // the question behind the last answer
		answerArticle string
		stretchGap    = -1 // the latest gap since the bot took over
		awaitingAgent = -1 // a gap handed to people, waiting for their reply
	)
	note := func(m bot.Message, q, reason, article string) {
		q = strings.TrimSpace(q)
		if q == "" {
			return
		}
		key := strings.ToLower(strings.Join(strings.Fields(q), " "))
		i, ok := byQuestion[key]
		if !ok {
			i = len(out)
			byQuestion[key] = i
			out = append(out, Gap{ConversationID: m.ConversationID, Time: m.Time, Question: q})
		}
		g := &out[i]
		if !containsString(g.Reasons, reason) {
			g.Reasons = append(g.Reasons, reason)
		}
		if article != "" {
			g.ArticleID = article
		}
		stretchGap = i
	}
	for _, m := range ms {
		d := m.Decision
		switch {
		case m.From == bot.FromCustomer && m.Payload == bot.PayloadSomethingElse:
			note(m, clarifyQuery, ReasonSomethingElse, "")
		case m.From == bot.FromCustomer && m.Payload == bot.PayloadHelpfulNo:
			note(m, answerQuery, ReasonNotHelpful, answerArticle)
		case m.From == bot.FromBot && d != nil && d.Kind == bot.DecisionClarify:
			clarifyQuery = d.Query
		case m.From == bot.FromBot && d != nil && d.Kind == bot.DecisionAnswer:
			answerQuery, answerArticle = d.Query, d.ArticleID
			if d.Reason == "chosen" && clarifyQuery != "" {
				// Picked from "did you mean": the question is the one
				// that was clarified, not the button's label.
				answerQuery = clarifyQuery
			}
		case m.From == bot.FromBot && d != nil && d.Kind == bot.DecisionNoAnswer && d.Reason == "low_confidence":
			note(m, d.Query, ReasonNoAnswer, "")
		case m.From == bot.FromBot && d != nil && d.Kind == bot.DecisionHandoff:
			if stretchGap >= 0 && d.Reason != "article" {
				g := &out[stretchGap]
				if !containsString(g.Reasons, ReasonHandoff) {
					g.Reasons = append(g.Reasons, ReasonHandoff)
				}
				awaitingAgent = stretchGap
			}
			stretchGap = -1
		case m.From == bot.FromAgent && !m.Internal:
			if awaitingAgent >= 0 && strings.TrimSpace(m.Text) != "" {
				out[awaitingAgent].AgentReply = m.Text
			}
			awaitingAgent, stretchGap = -1, -1
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
