package web

import (
	"context"

	"github.com/frontdesk/frontdesk/bot"
)

// Reader records read marks; *bot.Engine implements it.
type Reader interface {
	MarkRead(ctx context.Context, conversationID string, from bot.Sender, seq int64) error
}

// readFrame says how far the other side has seen the conversation: from
// the client, {"type":"read","seq":N} (the customer has seen up to N);
// from the server, {"type":"read","from":"agent","seq":N} (the people
// have).
type readFrame struct {
	Type string     `json:"type"` // "read"
	From bot.Sender `json:"from"`
	Seq  int64      `json:"seq"`
}

// read records that the customer has seen the conversation up to the
// frame's seq. Marks that do not move forward are dropped here, so a
// chatty client costs no writes.
func (c *conn) read(ctx context.Context, f inFrame) {
	r, ok := c.s.engine.(Reader)
	if !ok || c.session.Pending || f.Seq <= c.readSeq {
		return
	}
	if !c.allow() {
		return // a read mark is not worth an error frame
	}
	c.readSeq = f.Seq
	if err := r.MarkRead(ctx, c.conversationID(), bot.FromCustomer, f.Seq); err != nil {
		c.s.opts.Log.Error("mark read", "conversation", c.conversationID(), "err", err)
	}
}
