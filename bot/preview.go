package bot

import (
	"strings"
	"time"
	"unicode/utf8"
)

// LastMessage is the newest message of a conversation that the customer,
// the bot or an agent said to the other (agents' notes, system notices,
// the bot's hand-off line and the survey's questions do not count), kept on the conversation so that lists (the console's
// inbox) show a preview and a time without reading the log.
type LastMessage struct {
	From Sender    `json:"from"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

// previewLen is how many bytes of a message a preview keeps, at most.
const previewLen = 200

// notePreview keeps c.Last in step with a message appended to c.
func notePreview(c *Conversation, m Message) {
	if m.Internal || m.From == FromSystem || strings.TrimSpace(m.Text) == "" ||
		m.Decision != nil && (m.Decision.Kind == DecisionSurvey || m.Decision.Kind == DecisionHandoff) {
		// Notes, notices, the bot's hand-off line and the survey's
		// questions say nothing of what the conversation is about.
		return
	}
	c.Last = &LastMessage{From: m.From, Text: Preview(m.Text, previewLen), Time: m.Time}
}

// Preview returns text on one line, cut to at most n bytes at a rune
// boundary, with "…" when cut. Only the start of text is looked at: an
// answer's preview costs the same however long the article (it is taken
// in every customer turn, inside the commit).
func Preview(text string, n int) string {
	var b strings.Builder
	for f := range strings.FieldsSeq(text) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		// One byte more than n tells a cut from a fit.
		b.WriteString(f[:min(len(f), n+1-b.Len())])
		if b.Len() > n {
			break
		}
	}
	out := b.String()
	if len(out) <= n {
		return out
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return strings.TrimRight(out[:cut], " ") + "…"
}
