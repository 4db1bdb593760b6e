package bot

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/kb"
)

// Composer writes the answer to a customer's question from knowledge-base
// articles: a language model. With one set (Options.Composer), the Engine
// asks it to word answers the knowledge base found, and accepts what it
// writes only if every article it cites was among those it was given and
// it cites at least one (see ground); otherwise the article is sent as
// written. The Engine holds no lock and no transaction while it waits.
type Composer interface {
	// Compose answers req.Question from req.Articles. The text cites each
	// article it used as [[article-id]], or is exactly NotCovered when
	// the articles do not answer the question. While a streamed answer
	// is written, draft (if not nil) is called with the text so far, from
	// the goroutine that called Compose. Compose returns within its own
	// time limit. Tokens is what the call used, also when it failed.
	Compose(ctx context.Context, req ComposeRequest, draft func(text string)) (Composition, error)
}

// ComposeRequest is what a Composer is given.
type ComposeRequest struct {
	// ConversationID names the conversation for budgets and logs; it is
	// not sent to the model.
	ConversationID string
	// Question is the customer's message; Previous their earlier
	// questions in this stretch of the conversation, oldest first.
	Question string
	Previous []string
	// Articles are the knowledge base's best candidates, best first.
	Articles []Source
	// Stream asks for the answer as it is generated (the web channel).
	Stream bool
	// Used is how many tokens the conversation has used so far.
	Used int
}

// Source is an article offered to a Composer.
type Source struct {
	ID    string
	Title string
	Body  string
}

// Composition is a Composer's answer.
type Composition struct {
	// Text is the model's answer as written, markers and all.
	Text string
	// Tokens is the number of tokens used (prompt and completion).
	Tokens int
}

// NotCovered is what a Composer answers when the articles do not answer
// the question.
const NotCovered = "NOT_COVERED"

// maxSources is how many articles a Composer is given at most.
const maxSources = 3

// draftInterval is how often a streamed answer is published at most.
const draftInterval = 100 * time.Millisecond

// citation matches an article marker, [[article-id]].
var citation = regexp.MustCompile(`\[\[\s*([^\[\]\s]+?)\s*\]\]`)

// Verdicts of ground.
const (
	verdictGrounded   = "grounded"
	verdictNotCovered = "not_covered"
	verdictEmpty      = "empty"
	verdictUncited    = "uncited"
	verdictUnknown    = "unknown_citation"
	verdictLink       = "unknown_link"
)

// link matches a web or mail address in an answer.
var link = regexp.MustCompile(`(?i)\b(?:https?://|mailto:|www\.)[^\s<>()\[\]"']+`)

// ground checks a Composer's text against the articles it was given: it
// returns the text without markers, the ids cited (in order, once each)
// and a verdict. Only verdictGrounded text may be sent: it cites at least
// one article and none it was not given, and every web or mail address in
// it is in one of the articles (a model talked into it cannot send
// customers to a site of its choosing).
func ground(raw string, given []Source) (text string, cited []string, verdict string) {
	trimmed := strings.TrimSpace(raw)
	switch {
	case trimmed == "":
		return "", nil, verdictEmpty
	case strings.Contains(strings.ToUpper(trimmed), NotCovered):
		return "", nil, verdictNotCovered
	}
	for _, m := range citation.FindAllStringSubmatch(trimmed, -1) {
		id := m[1]
		if !slices.ContainsFunc(given, func(s Source) bool { return s.ID == id }) {
			return "", nil, verdictUnknown
		}
		if !slices.Contains(cited, id) {
			cited = append(cited, id)
		}
	}
	if len(cited) == 0 {
		return "", nil, verdictUncited
	}
	text = tidy(citation.ReplaceAllString(trimmed, ""))
	if text == "" {
		return "", nil, verdictEmpty
	}
	for _, l := range link.FindAllString(text, -1) {
		l = strings.TrimRight(l, ".,;:!?*_")
		if !slices.ContainsFunc(given, func(s Source) bool { return strings.Contains(s.Body, l) }) {
			return "", nil, verdictLink
		}
	}
	return text, cited, verdictGrounded
}

// tidy removes the spaces a removed marker leaves: doubled, or before
// punctuation, or at the end of a line.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		for strings.Contains(l, "  ") {
			l = strings.ReplaceAll(l, "  ", " ")
		}
		for _, p := range []string{".", ",", ";", ":", "!", "?", ")"} {
			l = strings.ReplaceAll(l, " "+p, p)
		}
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// draftText is what a customer may see of an answer still being written:
// no markers, no half-written marker at the end, and nothing while it
// may still turn out to be NotCovered.
func draftText(raw string) string {
	t := strings.TrimSpace(raw)
	if strings.HasPrefix(NotCovered, strings.ToUpper(t)) || strings.Contains(strings.ToUpper(t), NotCovered) {
		return ""
	}
	t = citation.ReplaceAllString(t, "")
	if i := strings.LastIndex(t, "[["); i >= 0 {
		t = t[:i]
	} else if strings.HasSuffix(t, "[") {
		t = t[:len(t)-1]
	}
	return tidy(t)
}

// Draft is part of a bot answer still being written, published (never
// stored) as an EventDraft so that a channel can show it as it grows.
// The message that ends it carries the same ID (Message.Draft).
type Draft struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// composed is what a Composer answered for one request, kept for the
// length of one Handle so that a turn computed again after a conflict
// does not ask again.
type composed struct {
	c     Composition
	err   error
	draft string
}

// composeKey identifies a request within one Handle.
func composeKey(req ComposeRequest) string {
	var b strings.Builder
	b.WriteString(req.Question)
	for _, a := range req.Articles {
		b.WriteString("\x00")
		b.WriteString(a.ID)
	}
	return b.String()
}

// compose asks the Composer to word the answer to the turn's question
// from the decision's articles (the answer's best hits, or the clarify
// candidates) and, if its text is grounded, says it. It reports whether
// the turn is done; when it is not, the caller answers as without a
// Composer. It runs while the turn is computed, outside any transaction.
func (t *turn) compose(ctx context.Context, hits []kb.Hit, query string) (bool, error) {
	c := t.e.opts.Composer
	if c == nil || t.msg.Payload != "" || len(hits) == 0 {
		return false, nil
	}
	var srcs []Source
	conf := map[string]float64{}
	for _, h := range hits {
		if len(srcs) == maxSources {
			break
		}
		if a, ok := t.e.kb.Article(h.ID); ok {
			srcs = append(srcs, Source{ID: a.ID, Title: a.Title, Body: a.Body})
			conf[a.ID] = h.Confidence
		}
	}
	if len(srcs) == 0 {
		return false, nil
	}
	prev := t.questions
	if n := len(prev); n > 3 {
		prev = prev[n-3:]
	}
	req := ComposeRequest{ConversationID: t.conv.ID, Question: t.msg.Text, Previous: prev, Articles: srcs,
		Stream: t.conv.Channel == Web, Used: t.conv.LLMTokens}
	key := composeKey(req)
	r, ok := t.memo[key]
	if !ok {
		r = t.e.composeNow(ctx, t.conv, req)
		if t.memo != nil {
			t.memo[key] = r
		}
	}
	t.conv.LLMTokens += r.c.Tokens
	t.draft = r.draft
	log := t.e.opts.Log
	if r.err != nil {
		log.Warn("llm answer failed; sending the article", "conversation", t.conv.ID, "err", r.err)
		return false, nil
	}
	text, cited, verdict := ground(r.c.Text, srcs)
	switch verdict {
	case verdictGrounded:
	case verdictNotCovered:
		log.Info("llm: articles do not cover the question", "conversation", t.conv.ID)
		return true, t.notUnderstood(ctx, "not_covered")
	default:
		log.Warn("llm answer rejected; sending the article", "conversation", t.conv.ID, "verdict", verdict)
		return false, nil
	}
	a, _ := t.e.kb.Article(cited[0])
	return true, t.answerWith(ctx, a, answerText{text: text, sources: cited}, conf[a.ID], "composed", query)
}

// composeNow calls the Composer, publishing what the customer may see of
// a streamed answer as drafts: at most every draftInterval, and the
// latest text draftInterval after the last publication, so that a model
// that pauses is shown up to where it paused. No draft is published
// once composeNow returns, so none follows the message that ends them.
func (e *Engine) composeNow(ctx context.Context, conv *Conversation, req ComposeRequest) composed {
	var r composed
	var draft func(string)
	var (
		mu      sync.Mutex
		ended   bool
		last    time.Time
		shown   string
		pending string
		timer   *time.Timer
	)
	publish := func() { // mu is held
		if ended || pending == "" || pending == shown {
			return
		}
		last, shown = time.Now(), pending
		e.bus.Publish(Event{Kind: EventDraft, ConversationID: conv.ID, Channel: conv.Channel, Draft: &Draft{ID: r.draft, Text: shown}})
	}
	if req.Stream {
		r.draft = NewID("d_")
		draft = func(raw string) {
			v := draftText(raw)
			mu.Lock()
			defer mu.Unlock()
			if v == "" {
				return
			}
			pending = v
			wait := draftInterval - time.Since(last)
			switch {
			case wait <= 0:
				publish()
			case timer == nil:
				timer = time.AfterFunc(wait, func() {
					mu.Lock()
					defer mu.Unlock()
					timer = nil
					publish()
				})
			}
		}
	}
	r.c, r.err = e.opts.Composer.Compose(ctx, req, draft)
	mu.Lock()
	ended = true
	if timer != nil {
		timer.Stop()
	}
	mu.Unlock()
	return r
}
