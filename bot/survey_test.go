package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// rated resolves a hand-off and rates it n, returning the conversation id.
func (r *queueRig) rated(visitor, payload string) string {
	r.t.Helper()
	s := r.start(visitor)
	r.say(s.Conversation.ID, "human please")
	if _, err := r.queue.Resolve(context.Background(), s.Conversation.ID, r.agent.ID); err != nil {
		r.t.Fatal(err)
	}
	replies := r.choose(s.Conversation.ID, payload)
	if !strings.Contains(texts(replies), "Would you like to add a comment?") {
		r.t.Fatalf("after the rating the bot said:\n%s", texts(replies))
	}
	return s.Conversation.ID
}

func TestACommentTypedAfterTheRatingIsStoredAndAcknowledged(t *testing.T) {
	r := newQueueRig(t, true)
	conv := r.rated("v", "survey:5")
	replies := r.say(conv, "Ana was quick and kind, thank you")
	if len(replies) != 1 || !strings.Contains(replies[0].Text, "added your comment") {
		t.Errorf("the comment was not acknowledged:\n%s", texts(replies))
	}
	if c := r.conv(conv); c.Rating != 5 || c.RatingComment != "Ana was quick and kind, thank you" {
		t.Errorf("rating %d comment %q, want 5 and the typed comment", c.Rating, c.RatingComment)
	}
	// The survey is over: the next message is a question again.
	replies = r.say(conv, "how do I return a lamp")
	if len(replies) == 0 || replies[0].Decision == nil || replies[0].Decision.ArticleID != "return-item" {
		t.Errorf("after the comment the bot did not answer:\n%s", texts(replies))
	}
	if c := r.conv(conv); c.RatingComment != "Ana was quick and kind, thank you" {
		t.Errorf("the question replaced the comment: %q", c.RatingComment)
	}
}

func TestANoAfterTheRatingDeclinesTheComment(t *testing.T) {
	r := newQueueRig(t, true)
	conv := r.rated("v", "survey:2")
	replies := r.say(conv, "no thanks")
	if len(replies) != 1 || !strings.Contains(replies[0].Text, "anything else") {
		t.Errorf("bot said:\n%s", texts(replies))
	}
	if c := r.conv(conv); c.Rating != 2 || c.RatingComment != "" {
		t.Errorf("rating %d comment %q, want 2 and none", c.Rating, c.RatingComment)
	}
}

func TestAMessageLongAfterTheRatingIsNotAComment(t *testing.T) {
	r := newQueueRig(t, true)
	conv := r.rated("v", "survey:4")
	r.clock.Add(2 * time.Hour)
	r.say(conv, "my lamp flickers")
	if c := r.conv(conv); c.RatingComment != "" {
		t.Errorf("a message two hours later became the comment %q", c.RatingComment)
	}
}

// closed hands a new visitor's conversation off, closes it with close
// and returns the conversation's id and the messages the close sent.
func (r *queueRig) closed(close func(ctx context.Context, conversationID, by string) (handoff.Ticket, error)) (string, []bot.Message) {
	r.t.Helper()
	ctx := context.Background()
	s := r.start("v")
	r.say(s.Conversation.ID, "human please")
	before := r.conv(s.Conversation.ID).LastSeq
	if _, err := close(ctx, s.Conversation.ID, r.agent.ID); err != nil {
		r.t.Fatal(err)
	}
	ms, err := r.db.Messages(ctx, s.Conversation.ID, before)
	if err != nil {
		r.t.Fatal(err)
	}
	return s.Conversation.ID, ms
}

func TestAResolveSendsOneMessageThatSaysBackWithTheBotAndAsksTheRating(t *testing.T) {
	r := newQueueRig(t, true)
	conv, ms := r.closed(r.queue.Resolve)
	if len(ms) != 1 {
		t.Fatalf("a resolve sent %d messages, want 1:\n%s", len(ms), texts(ms))
	}
	m := ms[0]
	if m.Decision == nil || m.Decision.Kind != bot.DecisionSurvey || m.Decision.Reason != "resolved" ||
		!strings.Contains(m.Text, "back with the virtual assistant") || !strings.Contains(m.Text, "How would you rate") || len(m.QuickReplies) != 5 {
		t.Errorf("the resolve's message is %q (decision %+v, %d quick replies), want the survey saying the bot is back", m.Text, m.Decision, len(m.QuickReplies))
	}
	if st := r.conv(conv).State; st != bot.StateBot {
		t.Errorf("state %s after resolve, want bot", st)
	}
}
