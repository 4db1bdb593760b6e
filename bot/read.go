package bot

import (
	"context"
	"errors"
	"fmt"
)

// MarkRead records that the customer (from FromCustomer) or the people
// (FromAgent) have seen the conversation up to seq, and publishes an
// EventRead so the other side can show it ("Seen"). Marks only move
// forward and never past the last message; one that would not move
// changes nothing. When MarkRead returns nil the mark is on disk.
func (e *Engine) MarkRead(ctx context.Context, conversationID string, from Sender, seq int64) error {
	if from != FromCustomer && from != FromAgent {
		return NewError(CodeInvalid, "read marks are the customer's or the agents'")
	}
	err := e.Act(ctx, conversationID, func(a *Act) error {
		c := a.conv
		seq := min(seq, c.LastSeq)
		mark := &c.CustomerReadSeq
		if from == FromAgent {
			mark = &c.AgentReadSeq
		}
		if seq <= *mark {
			return errNoChange
		}
		*mark = seq
		a.events = append(a.events, Event{Kind: EventRead, ConversationID: c.ID, Channel: c.Channel, From: from, Seq: seq})
		return nil
	})
	if errors.Is(err, errNoChange) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mark %s read by %s: %w", conversationID, from, err)
	}
	return nil
}
