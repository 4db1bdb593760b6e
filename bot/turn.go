package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/kb"
)

// turn is the bot's response to one customer message.
type turn struct {
	e    *Engine
	conv *Conversation
	cust *Customer
	msg  Message
	// handedOff: the turn moved the conversation to the queue; Handle
	// enqueues it once the conversation's lock is released.
	handedOff bool
}

// Quick-reply payloads the bot offers and understands.
const (
	PayloadHelpfulYes    = "helpful:yes"
	PayloadHelpfulNo     = "helpful:no"
	PayloadSomethingElse = "something_else"
	PayloadHuman         = "human"
	PayloadKeepTrying    = "continue"
	PayloadFollowupYes   = "followup:yes"
	payloadFollowupNo    = "followup:no:"
	payloadArticle       = "article:"
)

// maxTopics is how many recent topics a customer profile keeps.
const maxTopics = 5

// Priorities of a hand-off.
const (
	PriorityNormal = 0
	PriorityHigh   = 1 // frustrated customer
	PriorityVIP    = 2 // added for the "vip" segment
)

func (t *turn) respond(ctx context.Context) error {
	m := t.msg
	if done, err := t.survey(ctx); done || err != nil {
		return err
	}
	switch p := m.Payload; {
	case p == PayloadHuman:
		return t.handoff(ctx, "requested", PriorityNormal, "")
	case p == PayloadHelpfulYes:
		t.conv.Failures = 0
		return t.reply(ctx, Message{Text: "Great, glad I could help! Is there anything else?", Decision: &Decision{Kind: "feedback", Reason: "helpful"}})
	case p == PayloadHelpfulNo:
		return t.fail(ctx, "negative_feedback", "Sorry that didn't help. Could you tell me a bit more, in other words?")
	case p == PayloadSomethingElse:
		return t.fail(ctx, "something_else", "OK. Could you describe what you need in other words?")
	case p == PayloadKeepTrying:
		t.conv.Failures = 0
		return t.reply(ctx, Message{Text: "Sure, let's keep trying. What would you like to know?", Decision: &Decision{Kind: "feedback", Reason: "keep_trying"}})
	case p == PayloadFollowupYes:
		return t.reply(ctx, Message{Text: "Good to hear! What can I do for you today?", Decision: &Decision{Kind: "feedback", Reason: "followup_sorted"}})
	case strings.HasPrefix(p, payloadFollowupNo):
		if a, ok := t.e.kb.Article(strings.TrimPrefix(p, payloadFollowupNo)); ok {
			return t.offerPerson(ctx, "open_issue", fmt.Sprintf("Sorry it's not sorted yet. Here is what we said about %q:\n\n%s\n\nWould you like a person to look into it?", a.Title, a.Body))
		}
		return t.offerPerson(ctx, "open_issue", "Sorry it's not sorted yet. Would you like a person to look into it?")
	case strings.HasPrefix(p, payloadArticle):
		if a, ok := t.e.kb.Article(strings.TrimPrefix(p, payloadArticle)); ok {
			return t.answer(ctx, a, 1, "chosen", m.Text)
		}
	}

	text := m.Text
	if wantsHuman(text, t.e.opts.HumanPhrases) {
		return t.handoff(ctx, "requested", PriorityNormal, "")
	}
	previous, lastQuestion, err := t.recentQuestions(ctx)
	if err != nil {
		return err
	}
	if why := frustrated(text, previous); why != "" {
		return t.handoff(ctx, "frustration", PriorityHigh, why)
	}
	if name := introducedName(text); name != "" {
		c, err := t.e.store.UpdateCustomer(ctx, t.cust.ID, func(c *Customer) error { c.Name = name; return nil })
		if err != nil {
			return fmt.Errorf("save customer name: %w", err)
		}
		t.cust = c
		return t.reply(ctx, Message{Text: fmt.Sprintf("Nice to meet you, %s! How can I help?", name), Decision: &Decision{Kind: "smalltalk", Reason: "name"}})
	}
	if email := mentionedEmail(text); email != "" && onlyEmail(text) {
		t.cust.Email = email // stored by Handle already
		return t.reply(ctx, Message{Text: fmt.Sprintf("Thanks, I've noted your email address, %s. How can I help?", email), Decision: &Decision{Kind: "smalltalk", Reason: "email"}})
	}
	if kind := smalltalk(text); kind != "" {
		return t.smalltalk(ctx, kind)
	}

	d, err := t.e.kb.Decide(ctx, text)
	if err != nil {
		return fmt.Errorf("search knowledge base: %w", err)
	}
	query := text
	if d.Kind != kb.Answer && lastQuestion != "" && weak(text) {
		// A short follow-up ("and abroad?") is read with the question before.
		combined := lastQuestion + " " + text
		if d2, err := t.e.kb.Decide(ctx, combined); err == nil && d2.Kind == kb.Answer {
			d, query = d2, combined
		}
	}
	switch d.Kind {
	case kb.Answer:
		return t.answer(ctx, d.Article, d.Hits[0].Confidence, "confident", query)
	case kb.Clarify:
		return t.clarify(ctx, d, query)
	}
	return t.fail(ctx, "low_confidence", "Sorry, I'm not sure I understood. Could you rephrase your question?")
}

// recentQuestions returns the customer's last few questions before this
// message, and the last one that was a real question (not small talk).
func (t *turn) recentQuestions(ctx context.Context) ([]string, string, error) {
	after := max(t.msg.Seq-12, 0)
	ms, err := t.e.store.Messages(ctx, t.conv.ID, after)
	if err != nil {
		return nil, "", fmt.Errorf("read recent messages: %w", err)
	}
	var prev []string
	last := ""
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		if m.Seq < t.msg.Seq && sinceBotTookOver(m) {
			// What was said before a person had the conversation is no
			// longer repeated or followed up: asking it again after a
			// resolve is a fresh start, not frustration.
			break
		}
		if m.Seq >= t.msg.Seq || m.From != FromCustomer || m.Payload != "" {
			continue
		}
		if len(prev) < 2 {
			prev = append(prev, m.Text)
		}
		if last == "" && smalltalk(m.Text) == "" {
			last = m.Text
		}
	}
	return prev, last, nil
}

// sinceBotTookOver reports whether m marks the start of the bot's current
// stretch of a conversation: a hand-off, a person's or the system's words
// (an agent joined, the bot is back), or the survey after a resolve.
func sinceBotTookOver(m Message) bool {
	if m.From == FromAgent || m.From == FromSystem {
		return true
	}
	return m.Decision != nil && (m.Decision.Kind == "handoff" || m.Decision.Kind == "survey")
}

func (t *turn) smalltalk(ctx context.Context, kind string) error {
	name := ""
	if t.cust.Name != "" {
		name = " " + t.cust.Name
	}
	var text string
	switch kind {
	case "greeting":
		text = fmt.Sprintf("Hi%s! How can I help you today?", name)
	case "thanks":
		text = "You're welcome! Anything else I can help with?"
	case "bye":
		text = fmt.Sprintf("Goodbye%s, have a nice day!", name)
	default:
		text = "I can answer questions about orders and tracking, delivery, returns and refunds, warranty, payments, invoices and your account. Just type your question, or ask for a person at any time."
	}
	t.conv.Failures = 0
	return t.reply(ctx, Message{Text: text, Decision: &Decision{Kind: "smalltalk", Reason: kind}})
}

// answer says the article, then asks whether it helped and offers related
// articles. Articles marked handoff are answered and then handed off.
func (t *turn) answer(ctx context.Context, a *kb.Article, confidence float64, reason, query string) error {
	t.conv.Failures = 0
	dec := &Decision{Kind: "answer", ArticleID: a.ID, Confidence: confidence, Reason: reason, Query: query}
	if _, err := t.e.say(ctx, t.conv, Message{From: FromBot, Text: a.Body, Decision: dec}); err != nil {
		return err
	}
	c, err := t.e.store.UpdateCustomer(ctx, t.cust.ID, func(c *Customer) error {
		c.Topics = remember(c.Topics, a, t.e.opts.Now().UTC())
		return nil
	})
	if err != nil {
		return fmt.Errorf("save customer topics: %w", err)
	}
	t.cust = c
	if a.Handoff {
		return t.handoff(ctx, "article", PriorityNormal, a.ID)
	}
	qr := []QuickReply{{Label: "Yes", Payload: PayloadHelpfulYes}, {Label: "No", Payload: PayloadHelpfulNo}}
	for i, id := range a.Related {
		if i == 3 {
			break
		}
		if r, ok := t.e.kb.Article(id); ok {
			qr = append(qr, QuickReply{Label: r.Title, Payload: payloadArticle + r.ID})
		}
	}
	return t.reply(ctx, Message{Text: "Was this helpful?", QuickReplies: qr, Decision: &Decision{Kind: "feedback", ArticleID: a.ID, Reason: "ask_helpful"}})
}

// remember returns the topics with the article first, as the customer's
// latest, and at most maxTopics in all.
func remember(old []Topic, a *kb.Article, now time.Time) []Topic {
	topics := []Topic{{ArticleID: a.ID, Title: a.Title, At: now}}
	for _, t := range old {
		if t.ArticleID != a.ID && len(topics) < maxTopics {
			topics = append(topics, t)
		}
	}
	return topics
}

func (t *turn) clarify(ctx context.Context, d kb.Decision, query string) error {
	dec := &Decision{Kind: "clarify", Confidence: d.Hits[0].Confidence, Reason: "ambiguous", Query: query}
	var qr []QuickReply
	for _, h := range d.Candidates {
		qr = append(qr, QuickReply{Label: h.Title, Payload: payloadArticle + h.ID})
		dec.Candidates = append(dec.Candidates, h.ID)
	}
	qr = append(qr, QuickReply{Label: "Something else", Payload: PayloadSomethingElse})
	return t.reply(ctx, Message{Text: "Did you mean one of these?", QuickReplies: qr, Decision: dec})
}

// fail handles a turn the bot could not help with: the second in a row
// offers a person.
func (t *turn) fail(ctx context.Context, reason, text string) error {
	t.conv.Failures++
	if t.conv.Failures >= 2 {
		return t.offerPerson(ctx, reason, "I'm sorry, I can't seem to help with this. Would you like to talk to a person?")
	}
	qr := []QuickReply{{Label: "Talk to a person", Payload: PayloadHuman}}
	return t.reply(ctx, Message{Text: text, QuickReplies: qr, Decision: &Decision{Kind: "no_answer", Reason: reason, Query: t.msg.Text}})
}

func (t *turn) offerPerson(ctx context.Context, reason, text string) error {
	qr := []QuickReply{{Label: "Talk to a person", Payload: PayloadHuman}, {Label: "Keep trying with the bot", Payload: PayloadKeepTrying}}
	return t.reply(ctx, Message{Text: text, QuickReplies: qr, Decision: &Decision{Kind: "no_answer", Reason: reason, Query: t.msg.Text}})
}

// handoff moves the conversation to the queue and tells the customer.
func (t *turn) handoff(ctx context.Context, reason string, priority int, detail string) error {
	if t.cust.Segment == "vip" {
		priority += PriorityVIP
	}
	t.conv.HandoffReason = reason
	t.conv.Priority = priority
	t.conv.Failures = 0
	text := "I'm connecting you with a person from our team. They'll reply right here; feel free to add any details in the meantime."
	if reason == "frustration" {
		text = "I'm sorry this has been frustrating. I'm bringing in a person from our team right away; they'll reply here."
	}
	if _, err := t.e.say(ctx, t.conv, Message{From: FromBot, Text: text, Decision: &Decision{Kind: "handoff", Reason: reason, ArticleID: articleOf(reason, detail)}}); err != nil {
		return err
	}
	if err := t.e.setState(ctx, t.conv, StateQueued); err != nil {
		return err
	}
	t.e.opts.Log.Info("handoff", "conversation", t.conv.ID, "customer", t.cust.ID, "reason", reason, "detail", detail, "priority", priority)
	t.handedOff = true
	return nil
}

func articleOf(reason, detail string) string {
	if reason == "article" {
		return detail
	}
	return ""
}

// reply stores a bot message and the conversation's policy state.
func (t *turn) reply(ctx context.Context, m Message) error {
	m.From = FromBot
	if _, err := t.e.say(ctx, t.conv, m); err != nil {
		return err
	}
	return t.e.store.SaveConversation(ctx, t.conv)
}
