package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Briefer drafts, for the person who takes a conversation over from the
// bot, a short summary of it and a suggested reply from the articles: a
// language model. The Assistant uses it.
type Briefer interface {
	// Brief summarises req.Lines and suggests a reply that cites each
	// article it uses as [[article-id]]. Tokens is what the call used,
	// also when it failed.
	Brief(ctx context.Context, req BriefRequest) (Brief, error)
}

// BriefRequest is what a Briefer is given.
type BriefRequest struct {
	// ConversationID names the conversation for budgets and logs; it is
	// not sent to the model.
	ConversationID string
	// Lines are the conversation's latest messages, oldest first,
	// without agents' private notes.
	Lines []Line
	// Articles are those the conversation was about, most recent first.
	Articles []Source
	// Used is how many tokens the conversation has used so far.
	Used int
}

// Line is one message of a conversation, as a Briefer reads it.
type Line struct {
	From Sender
	Text string
}

// Brief is what a Briefer wrote.
type Brief struct {
	Summary string
	// Reply is the suggested reply as written, markers and all.
	Reply  string
	Tokens int
}

// Assist is a machine-written brief for the agent taking over: a summary
// of the conversation and a reply to edit before sending. It is stored on
// a private note from the bot (Message.Assist), never shown to customers.
type Assist struct {
	Summary string `json:"summary"`
	// Reply is grounded in the articles (see Composer), its markers
	// removed, or empty when the model's was not.
	Reply string `json:"reply,omitempty"`
}

// Bounds of a brief's input and output.
const (
	briefLines     = 20
	briefLineLen   = 500
	maxSummaryLen  = 600
	assistQueueLen = 64
)

// Assistant writes a brief for every conversation handed to people: once
// the hand-off is stored, it asks its Briefer and stores the result as
// a private note from the bot, so the agent sees it in the console. It
// never delays the hand-off, and a failed brief only leaves no note.
type Assistant struct {
	e *Engine
	b Briefer
}

// NewAssistant returns an assistant briefing through b for e's
// conversations.
func NewAssistant(e *Engine, b Briefer) *Assistant { return &Assistant{e: e, b: b} }

// Run follows the hand-offs until ctx ends, briefing one conversation at
// a time; it owns its goroutines and returns when they have stopped.
// Hand-offs that come faster than briefs are written wait, up to
// assistQueueLen; more are skipped.
func (as *Assistant) Run(ctx context.Context) {
	jobs := make(chan string, assistQueueLen)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case id := <-jobs:
				if err := as.Brief(ctx, id); err != nil && ctx.Err() == nil {
					as.e.opts.Log.Warn("agent assist: no brief", "conversation", id, "err", err)
				}
			}
		}
	})
	defer wg.Wait()
	for ctx.Err() == nil {
		sub := as.e.Subscribe("", 1024)
		as.follow(ctx, sub, jobs)
		sub.Close()
	}
}

// follow queues the conversations of hand-offs published on sub until
// ctx ends or the subscription lags.
func (as *Assistant) follow(ctx context.Context, sub Subscription, jobs chan<- string) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-sub.C():
			if !ok {
				as.e.opts.Log.Warn("agent assist fell behind the conversation events; some hand-offs get no brief")
				return
			}
			m := ev.Message
			if ev.Kind != EventMessage || m == nil || m.Decision == nil || m.Decision.Kind != DecisionHandoff {
				continue
			}
			select {
			case jobs <- ev.ConversationID:
			default:
				as.e.opts.Log.Warn("agent assist: too many hand-offs at once; skipped", "conversation", ev.ConversationID)
			}
		}
	}
}

// errNothingToBrief: the conversation has no customer message.
var errNothingToBrief = errors.New("nothing to brief")

// Brief writes the brief of a conversation now and stores it as a
// private note from the bot, in one act. The Briefer is asked outside
// any transaction.
func (as *Assistant) Brief(ctx context.Context, conversationID string) error {
	ms, err := as.e.Transcript(ctx, conversationID, 0)
	if err != nil {
		return fmt.Errorf("read transcript: %w", err)
	}
	conv, err := as.e.Conversation(ctx, conversationID)
	if err != nil {
		return fmt.Errorf("read conversation: %w", err)
	}
	var lines []Line
	var ids []string
	lastQuestion := ""
	for _, m := range ms {
		if m.Internal || strings.TrimSpace(m.Text) == "" {
			continue
		}
		text := m.Text
		if len(text) > briefLineLen {
			text = truncateUTF8(text, briefLineLen) + "…"
		}
		lines = append(lines, Line{From: m.From, Text: text})
		if m.From == FromCustomer && m.Payload == "" {
			lastQuestion = m.Text
		}
		if d := m.Decision; d != nil {
			ids = append(append(ids, d.Sources...), d.ArticleID)
			ids = append(ids, d.Candidates...)
		}
	}
	if lastQuestion == "" {
		return errNothingToBrief
	}
	if len(lines) > briefLines {
		lines = lines[len(lines)-briefLines:]
	}
	// The articles the conversation was about, latest first, then what
	// the knowledge base finds for the last question.
	var srcs []Source
	add := func(id string) {
		if id == "" || len(srcs) == maxSources || containsSource(srcs, id) {
			return
		}
		if a, ok := as.e.kb.Article(id); ok {
			srcs = append(srcs, Source{ID: a.ID, Title: a.Title, Body: a.Body})
		}
	}
	for i := len(ids) - 1; i >= 0; i-- {
		add(ids[i])
	}
	if d, err := as.e.decide(ctx, lastQuestion); err == nil {
		for _, h := range d.Hits {
			add(h.ID)
		}
	}
	b, err := as.b.Brief(ctx, BriefRequest{ConversationID: conversationID, Lines: lines, Articles: srcs, Used: conv.LLMTokens})
	if err != nil {
		as.addTokens(ctx, conversationID, b.Tokens)
		return err
	}
	summary := tidy(b.Summary)
	if summary == "" {
		as.addTokens(ctx, conversationID, b.Tokens)
		return errors.New("the model wrote no summary")
	}
	if len(summary) > maxSummaryLen {
		summary = truncateUTF8(summary, maxSummaryLen) + "…"
	}
	reply, cited, verdict := ground(b.Reply, srcs)
	if verdict != verdictGrounded {
		reply, cited = "", nil
	}
	text := "Summary (machine-written): " + summary
	if reply != "" {
		text += "\n\nSuggested reply (machine-written; check and edit before sending):\n" + reply
	}
	note := Message{From: FromBot, Internal: true, Text: text,
		Decision: &Decision{Kind: DecisionAssist, Sources: cited, Reason: verdict},
		Assist:   &Assist{Summary: summary, Reply: reply}}
	return as.e.Act(ctx, conversationID, func(a *Act) error {
		a.conv.LLMTokens += b.Tokens
		_, err := a.Say(note)
		return err
	})
}

// addTokens counts the tokens of a failed brief against the
// conversation's budget.
func (as *Assistant) addTokens(ctx context.Context, conversationID string, n int) {
	if n <= 0 {
		return
	}
	err := as.e.Act(ctx, conversationID, func(a *Act) error {
		a.conv.LLMTokens += n
		return nil
	})
	if err != nil {
		as.e.opts.Log.Warn("agent assist: count tokens", "conversation", conversationID, "err", err)
	}
}

func containsSource(srcs []Source, id string) bool {
	for _, s := range srcs {
		if s.ID == id {
			return true
		}
	}
	return false
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
