package console_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// TestTheInboxStaysCheapOnABigFile lists and searches an inbox over a
// file with many closed conversations, as a supervisor, through the real
// HTTP server, and logs how long each request took (go test -v).
func TestTheInboxStaysCheapOnABigFile(t *testing.T) {
	closed, open, msgs := 3000, 30, 12
	if testing.Short() {
		closed = 300
	}
	r := newRig(t, manual)
	sue := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for start := 0; start < closed+open; start += 500 {
		err := r.db.Update(ctx, func(tx bot.Tx) error {
			tt := r.db.TicketsIn(tx)
			for i := start; i < min(start+500, closed+open); i++ {
				id := fmt.Sprintf("con_%05d", i)
				at := t0.Add(time.Duration(i) * time.Minute)
				c := &bot.Conversation{ID: id, CustomerID: "cus_" + id, Channel: bot.Web, State: bot.StateBot, Created: at, Updated: at}
				for seq := 1; seq <= msgs; seq++ {
					m := bot.Message{ConversationID: id, Seq: int64(seq), From: bot.FromCustomer, Text: fmt.Sprintf("question %d about order %d", seq, i), Time: at}
					if err := tx.PutMessage(m); err != nil {
						return err
					}
					c.LastSeq = m.Seq
					bot.NoteMessage(c, m)
				}
				tk := &handoff.Ticket{ID: "tkt_" + id, ConversationID: id, CustomerID: c.CustomerID, Status: handoff.StatusResolved,
					Agent: sue.agent.ID, Tier: 1, Created: at, QueuedAt: at, ClosedAt: at.Add(time.Minute)}
				if i >= closed {
					tk.Status, tk.ClosedAt, tk.Agent = handoff.StatusQueued, time.Time{}, ""
					c.State = bot.StateQueued
				}
				if err := tx.PutConversation(c); err != nil {
					return err
				}
				if err := tt.PutTicket(tk); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []struct {
		query string
		want  int
	}{
		{"view=all", 50},
		{"view=resolved&limit=200", 200},
		{"view=unassigned", open},
		{"view=all&q=" + fmt.Sprintf("order+%d", closed+open-1), 1}, // the newest: found at once
		{"view=resolved&q=question+3+about+order+2500", 1},          // not in a preview: reads the logs
	} {
		start := time.Now()
		v := sue.must(http.StatusOK, "GET", "/api/agent/inbox?"+q.query, nil)
		took := time.Since(start)
		if n := len(v["items"].([]any)); n != q.want {
			t.Errorf("%s: %d items, want %d", q.query, n, q.want)
		}
		t.Logf("%s: %d items in %v (%d closed, %d open conversations of %d messages)", q.query, len(v["items"].([]any)), took.Round(time.Millisecond), closed, open, msgs)
	}
}
