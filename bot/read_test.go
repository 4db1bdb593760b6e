package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/kb"
)

func TestReadMarksMoveForwardOnlyAndAreTold(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	ctx := context.Background()
	s := r.start("v")
	r.say(s.Conversation.ID, "hello")
	last := r.conv(s.Conversation.ID).LastSeq
	sub := r.engine.Subscribe(s.Conversation.ID, 8)
	defer sub.Close()

	if err := r.engine.MarkRead(ctx, s.Conversation.ID, bot.FromAgent, last+10); err != nil {
		t.Fatal(err)
	}
	if c := r.conv(s.Conversation.ID); c.AgentReadSeq != last || c.CustomerReadSeq != 0 {
		t.Errorf("marks agent %d customer %d, want %d (capped at the last message) and 0", c.AgentReadSeq, c.CustomerReadSeq, last)
	}
	select {
	case e := <-sub.C():
		if e.Kind != bot.EventRead || e.From != bot.FromAgent || e.Seq != last {
			t.Errorf("event %+v", e)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no read event")
	}
	rev := r.conv(s.Conversation.ID).Rev
	if err := r.engine.MarkRead(ctx, s.Conversation.ID, bot.FromAgent, 1); err != nil {
		t.Fatal(err)
	}
	if c := r.conv(s.Conversation.ID); c.AgentReadSeq != last || c.Rev != rev {
		t.Errorf("a mark backwards changed the conversation: seq %d rev %d (was %d)", c.AgentReadSeq, c.Rev, rev)
	}
	if err := r.engine.MarkRead(ctx, s.Conversation.ID, bot.FromBot, 1); bot.ErrorCode(err) != bot.CodeInvalid {
		t.Errorf("a read mark by the bot: %v", err)
	}
}
