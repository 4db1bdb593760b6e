package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/kb"
)

// turn is the bot's response to one customer message, computed on a
// snapshot of the conversation without touching the store: it records
// what to say and what to change, and apply writes it all in one act.
type turn struct {
	e    *Engine
	conv *Conversation // the snapshot, changed as the turn decides
	cust *Customer     // the snapshot, with the turn's changes
	msg  Message       // the customer's message
	// questions are the customer's recent typed messages before msg.
	questions []string
	steps     []step
	// custFns change the stored customer when the turn is applied.
	custFns []func(*Customer)
	// handedOff: the turn moved the conversation to the queue.
	handedOff bool
	// email is the address the customer's message gave, if any.
	email string

	// What reset returns to: the customer's message and what it alone
	// changes.
	baseConv  Conversation
	baseSteps int
	baseFns   int
	// memo keeps the Composer's answers across attempts of one Handle.
	memo map[string]composed
	// draft is the id of the drafts published while the turn was
	// computed: the turn's next message from us ends them, whatever it
	// says.
	draft string
}

// step is one thing a turn does: say a message, or move the conversation
// to a state.
type step struct {
	msg   *Message
	state State
}

func newTurn(e *Engine, conv *Conversation, cust *Customer, msg Message) *turn {
	t := &turn{e: e, conv: conv, cust: cust, questions: conv.Questions}
	t.msg = t.say(msg)
	if email := mentionedEmail(msg.Text); email != "" && cust.ExternalID == "" {
		// Kept in any state: a customer waiting outside business hours
		// leaves one for the reply.
		t.email = email
		t.changeCustomer(func(c *Customer) { c.Email = email })
	}
	if t.conv.State == StateClosed {
		t.setState(StateBot)
	}
	t.baseConv, t.baseSteps, t.baseFns = *t.conv, len(t.steps), len(t.custFns)
	return t
}

// say records a message; its seq is the one it will get.
func (t *turn) say(m Message) Message {
	if m.From != FromCustomer && t.draft != "" {
		m.Draft, t.draft = t.draft, ""
	}
	m.ConversationID = t.conv.ID
	m.Seq = t.conv.LastSeq + 1
	if m.Time.IsZero() {
		m.Time = t.e.opts.Now().UTC()
	}
	t.conv.LastSeq = m.Seq
	t.steps = append(t.steps, step{msg: &m})
	return m
}

// encode puts the turn's messages in the store's form, when the store
// can (see MessageEncoder), so that apply only writes them. A message
// that fails to encode is left to the act, which reports the error.
func (t *turn) encode() {
	enc, ok := t.e.store.(MessageEncoder)
	if !ok {
		return
	}
	for _, s := range t.steps {
		if s.msg != nil {
			s.msg.Encoded, _ = enc.EncodeMessage(*s.msg)
		}
	}
}

func (t *turn) setState(s State) {
	t.conv.State = s
	t.steps = append(t.steps, step{state: s})
}

// changeCustomer records a change to the customer, applied to the
// snapshot now and to the stored customer by apply.
func (t *turn) changeCustomer(fn func(*Customer)) {
	fn(t.cust)
	t.custFns = append(t.custFns, fn)
}

// reset forgets what the bot decided, keeping the customer's message.
func (t *turn) reset() {
	for _, s := range t.steps[t.baseSteps:] {
		if s.msg != nil && s.msg.Draft != "" {
			t.draft = s.msg.Draft // the message that replaces them ends them
		}
	}
	*t.conv = t.baseConv
	t.steps, t.custFns, t.handedOff = t.steps[:t.baseSteps], t.custFns[:t.baseFns], false
}

// apply writes the turn in the act a, whose conversation is at the
// revision the turn was computed on, and returns the customer's stored
// message.
func (t *turn) apply(a *Act) (Message, error) {
	stored := *a.conv
	planned := *t.conv
	// Messages and states are replayed below; the rest of the
	// conversation (failures, survey, hand-off reason) is the turn's.
	planned.LastSeq, planned.Rev, planned.Updated = stored.LastSeq, stored.Rev, stored.Updated
	planned.State, planned.Agent = stored.State, stored.Agent
	*a.conv = planned
	var first Message
	for i, s := range t.steps {
		if s.msg == nil {
			a.setState(s.state, "")
			continue
		}
		m, err := a.Say(*s.msg)
		if err != nil {
			return Message{}, err
		}
		if m.Seq != s.msg.Seq {
			return Message{}, fmt.Errorf("turn in %s: message stored at seq %d, computed for %d", m.ConversationID, m.Seq, s.msg.Seq)
		}
		if i == 0 {
			first = m
		}
		if d := m.Decision; d != nil && d.Kind == DecisionAnswer && d.ArticleID != "" {
			a.OnCommit(func() { t.e.asked.answered(d.ArticleID) })
		}
	}
	var cust *Customer
	if len(t.custFns) > 0 || t.handedOff {
		c, err := a.tx.Customer(planned.CustomerID)
		if err != nil {
			return Message{}, fmt.Errorf("load customer: %w", err)
		}
		for _, fn := range t.custFns {
			fn(c)
		}
		if len(t.custFns) > 0 {
			if err := a.tx.PutCustomer(c); err != nil {
				return Message{}, fmt.Errorf("save customer: %w", err)
			}
		}
		cust = c
	}
	if t.handedOff && t.e.opts.Handoff != nil {
		if err := t.e.opts.Handoff.HandOff(a, cust); err != nil {
			return Message{}, fmt.Errorf("hand off: %w", err)
		}
	}
	return first, nil
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
	case strings.HasPrefix(p, payloadFollowupCheck):
		return t.followupReply(ctx, p)
	case p == PayloadHuman:
		return t.handoff(ctx, "requested", PriorityNormal, "")
	case p == PayloadHelpfulYes:
		t.conv.Failures = 0
		return t.reply(Message{Text: "Great, glad I could help! Is there anything else?", Decision: &Decision{Kind: DecisionFeedback, Reason: "helpful"}})
	case p == PayloadHelpfulNo:
		return t.fail(ctx, "negative_feedback", "Sorry that didn't help. Could you tell me a bit more, in other words?")
	case p == PayloadSomethingElse:
		return t.fail(ctx, "something_else", "OK. Could you describe what you need in other words?")
	case p == PayloadKeepTrying:
		t.conv.Failures = 0
		return t.reply(Message{Text: "Sure, let's keep trying. What would you like to know?", Decision: &Decision{Kind: DecisionFeedback, Reason: "keep_trying"}})
	case p == PayloadFollowupYes:
		return t.reply(Message{Text: "Good to hear! What can I do for you today?", Decision: &Decision{Kind: DecisionFeedback, Reason: "followup_sorted"}})
	case strings.HasPrefix(p, payloadFollowupNo):
		if a, ok := t.e.kb.Article(strings.TrimPrefix(p, payloadFollowupNo)); ok {
			return t.offerPerson(ctx, "open_issue", fmt.Sprintf("Sorry it's not sorted yet. Here is what we said about %q:\n\n%s\n\nWould you like a person to look into it?", a.Title, t.e.ArticleText(a, t.cust)))
		}
		return t.offerPerson(ctx, "open_issue", "Sorry it's not sorted yet. Would you like a person to look into it?")
	case strings.HasPrefix(p, payloadArticle):
		if a, ok := t.e.kb.Article(strings.TrimPrefix(p, payloadArticle)); ok {
			return t.answer(ctx, a, 1, "chosen", m.Text)
		}
	}

	text := m.Text
	if m.Attachment != nil && text == "" {
		// The bot cannot read files: it says so and offers a person.
		qr := []QuickReply{{Label: "Talk to a person", Payload: PayloadHuman}}
		return t.reply(Message{Text: "Thanks, I've received your file. I can't look at files myself: if you'd like a person from our team to see it, ask for a person. Or type your question.",
			QuickReplies: qr, Decision: &Decision{Kind: DecisionSmalltalk, Reason: "attachment"}})
	}
	previous, lastQuestion := t.recentQuestions()
	switch r := MatchRule(text, t.e.opts.HumanPhrases, previous); r.Rule {
	case RuleHuman:
		return t.handoff(ctx, "requested", PriorityNormal, "")
	case RuleFrustration:
		return t.handoff(ctx, "frustration", PriorityHigh, r.Detail)
	case RuleName:
		name := r.Detail
		t.changeCustomer(func(c *Customer) { c.Name = name })
		return t.reply(Message{Text: fmt.Sprintf("Nice to meet you, %s! How can I help?", EscapeMarkdown(name)), Decision: &Decision{Kind: DecisionSmalltalk, Reason: "name"}})
	case RuleEmail:
		// newTurn has noted it.
		return t.reply(Message{Text: fmt.Sprintf("Thanks, I've noted your email address, %s. How can I help?", EscapeMarkdown(r.Detail)), Decision: &Decision{Kind: DecisionSmalltalk, Reason: "email"}})
	case RuleSmalltalk:
		return t.smalltalk(ctx, r.Detail)
	}

	d, err := t.e.decide(ctx, text)
	if err != nil {
		return fmt.Errorf("search knowledge base: %w", err)
	}
	query := text
	if d.Kind != kb.Answer && !d.Broad() && lastQuestion != "" && weak(text) {
		// A short follow-up ("and abroad?") is read with the question
		// before. A broad question ("my order") names a topic of its own:
		// read with the question before, it would be answered as that.
		combined := lastQuestion + " " + text
		if d2, err := t.e.decide(ctx, combined); err == nil && d2.Kind == kb.Answer {
			d, query = d2, combined
		}
	}
	switch d.Kind {
	case kb.Answer:
		if done, err := t.compose(ctx, d.Hits, query); done || err != nil {
			return err
		}
		return t.answer(ctx, d.Article, d.Hits[0].Confidence, "confident", query)
	case kb.Clarify:
		if done, err := t.compose(ctx, d.Candidates, query); done || err != nil {
			return err
		}
		return t.clarify(ctx, d, query)
	}
	return t.notUnderstood(ctx, "low_confidence")
}

// recentQuestions returns the customer's last two messages before this
// one in the bot's current stretch, most recent first, and the last one
// that was a real question (not small talk).
func (t *turn) recentQuestions() ([]string, string) {
	var prev []string
	last := ""
	for i := len(t.questions) - 1; i >= 0; i-- {
		q := t.questions[i]
		if len(prev) < 2 {
			prev = append(prev, q)
		}
		if last == "" && smalltalk(q) == "" {
			last = q
		}
	}
	return prev, last
}

// sinceBotTookOver reports whether m marks the start of the bot's current
// stretch of a conversation: a hand-off, a person's or the system's words
// (an agent joined, the bot is back), or the survey after a resolve.
func sinceBotTookOver(m Message) bool {
	if m.From == FromAgent || m.From == FromSystem {
		return true
	}
	return m.Decision != nil && (m.Decision.Kind == DecisionHandoff || m.Decision.Kind == DecisionSurvey)
}

func (t *turn) smalltalk(ctx context.Context, kind string) error {
	name := ""
	if t.cust.Name != "" {
		name = " " + EscapeMarkdown(t.cust.Name)
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
	return t.reply(Message{Text: text, Decision: &Decision{Kind: DecisionSmalltalk, Reason: kind}})
}

// answer says the article, then asks whether it helped and offers related
// articles. Articles marked handoff are answered and then handed off.
func (t *turn) answer(ctx context.Context, a *kb.Article, confidence float64, reason, query string) error {
	return t.answerWith(ctx, a, answerText{text: t.e.ArticleText(a, t.cust)}, confidence, reason, query)
}

// answerText is what an answer says: an article's body, or a Composer's
// grounded text with the articles it cites.
type answerText struct {
	text    string
	sources []string
}

// answerWith is answer saying at instead of the article's body.
func (t *turn) answerWith(ctx context.Context, a *kb.Article, at answerText, confidence float64, reason, query string) error {
	t.conv.Failures = 0
	dec := &Decision{Kind: DecisionAnswer, ArticleID: a.ID, Confidence: confidence, Reason: reason, Query: query, Sources: at.sources}
	t.say(Message{From: FromBot, Text: at.text, Decision: dec, Time: t.e.opts.Now().UTC()})
	now := t.e.opts.Now().UTC()
	t.changeCustomer(func(c *Customer) { c.Topics = remember(c.Topics, a, now) })
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
	return t.reply(Message{Text: "Was this helpful?", QuickReplies: qr, Decision: &Decision{Kind: DecisionFeedback, ArticleID: a.ID, Reason: "ask_helpful", Sources: at.sources}})
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
	dec := &Decision{Kind: DecisionClarify, Confidence: d.Hits[0].Confidence, Reason: "ambiguous", Query: query}
	var qr []QuickReply
	for _, h := range d.Candidates {
		qr = append(qr, QuickReply{Label: h.Title, Payload: payloadArticle + h.ID})
		dec.Candidates = append(dec.Candidates, h.ID)
	}
	qr = append(qr, QuickReply{Label: "Something else", Payload: PayloadSomethingElse})
	return t.reply(Message{Text: "Did you mean one of these?", QuickReplies: qr, Decision: dec})
}

// fail handles a turn the bot could not help with: the second in a row
// offers a person.
func (t *turn) fail(ctx context.Context, reason, text string) error {
	return t.failWith(ctx, reason, text, nil)
}

// notUnderstood is the reply to a question the knowledge base has no
// answer for: besides asking to rephrase, it names a few things the bot
// often helps with (most asked first) and offers a person.
func (t *turn) notUnderstood(ctx context.Context, reason string) error {
	topics := t.e.topics(fallbackTopics)
	if len(topics) == 0 {
		return t.fail(ctx, reason, "Sorry, I'm not sure I understood. Could you rephrase your question?")
	}
	var qr []QuickReply
	for _, a := range topics {
		qr = append(qr, QuickReply{Label: a.Title, Payload: payloadArticle + a.ID})
	}
	return t.failWith(ctx, reason, "Sorry, I'm not sure I understood. Could you put it another way? I can help with questions like these, or a person from our team can take over.", qr)
}

// failWith is fail offering the quick replies before "Talk to a person".
func (t *turn) failWith(ctx context.Context, reason, text string, qr []QuickReply) error {
	t.conv.Failures++
	if t.conv.Failures >= 2 {
		return t.offerPerson(ctx, reason, "I'm sorry, I can't seem to help with this. Would you like to talk to a person?")
	}
	qr = append(qr, QuickReply{Label: "Talk to a person", Payload: PayloadHuman})
	return t.reply(Message{Text: text, QuickReplies: qr, Decision: &Decision{Kind: DecisionNoAnswer, Reason: reason, Query: t.msg.Text}})
}

func (t *turn) offerPerson(ctx context.Context, reason, text string) error {
	qr := []QuickReply{{Label: "Talk to a person", Payload: PayloadHuman}, {Label: "Keep trying with the bot", Payload: PayloadKeepTrying}}
	return t.reply(Message{Text: text, QuickReplies: qr, Decision: &Decision{Kind: DecisionNoAnswer, Reason: reason, Query: t.msg.Text}})
}

// handoff moves the conversation to the queue and tells the customer.
func (t *turn) handoff(ctx context.Context, reason string, priority int, detail string) error {
	if t.cust.Segment == "vip" {
		priority += PriorityVIP
	}
	t.conv.HandoffReason = reason
	t.conv.Priority = priority
	t.conv.Failures = 0
	// What happens next (someone joins, a place in the queue, nobody
	// online, closed) the queue's notice says: this line promises nothing
	// it might contradict.
	text := "I'm connecting you with a person from our team. Feel free to add any details in the meantime."
	if reason == "frustration" {
		text = "I'm sorry this has been frustrating. I'm bringing in a person from our team: feel free to add any details in the meantime."
	}
	t.reply(Message{Text: text, Decision: &Decision{Kind: DecisionHandoff, Reason: reason, ArticleID: articleOf(reason, detail)}})
	t.setState(StateQueued)
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

// waiting handles a message left while the conversation waits for a
// person: the bot stays silent, but an email address given is confirmed
// in a system message, so the customer knows it was noted.
func (t *turn) waiting() {
	if t.email == "" || t.conv.State != StateQueued {
		return
	}
	t.say(Message{From: FromSystem, Time: t.e.opts.Now().UTC(),
		Text: fmt.Sprintf("Thanks, we've noted your email address, %s. Our team will see it with your conversation.", EscapeMarkdown(t.email))})
}

// reply records a bot message.
func (t *turn) reply(m Message) error {
	m.From = FromBot
	if m.Time.IsZero() {
		m.Time = t.e.opts.Now().UTC()
	}
	t.say(m)
	return nil
}
