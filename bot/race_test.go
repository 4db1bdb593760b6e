package bot_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// consistent checks that the conversation's owner is the one its ticket
// names and that its log is gapless.
func consistent(t *testing.T, r *queueRig, convID string) {
	t.Helper()
	ctx := context.Background()
	c := r.conv(convID)
	tk, err := r.queue.Ticket(ctx, convID)
	if err != nil {
		t.Fatalf("ticket of %s: %v", convID, err)
	}
	state, agent := handoff.OwnerOf(*tk)
	if c.State != state || c.Agent != agent {
		t.Errorf("%s: conversation says %s/%q, its ticket (%s, %q) says %s/%q", convID, c.State, c.Agent, tk.Status, tk.Agent, state, agent)
	}
	ms, err := r.db.Messages(ctx, convID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Seq != int64(i+1) {
			t.Fatalf("%s: message %d has seq %d", convID, i+1, m.Seq)
		}
	}
	if int64(len(ms)) != c.LastSeq {
		t.Errorf("%s: %d messages, last seq %d", convID, len(ms), c.LastSeq)
	}
}

func TestTwoAgentsActingAtOnceLeaveOneOwner(t *testing.T) {
	r := newQueueRig(t, false)
	ctx := context.Background()
	agents := handoff.NewAgents(r.db, handoff.AgentsOptions{})
	bob, err := agents.Add(ctx, handoff.NewAgent{Name: "Bob", Email: "bob@example.com", Role: handoff.RoleSupervisor, Password: "a long password"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{r.agent.ID, bob.ID} {
		if err := r.queue.Heartbeat(ctx, id, handoff.PresenceOffline); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 20 {
		s := r.start(fmt.Sprint("visitor", round))
		r.say(s.Conversation.ID, "talk to a human")
		if st := r.conv(s.Conversation.ID).State; st != bot.StateQueued {
			t.Fatalf("round %d: state %s after asking for a person", round, st)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for _, id := range []string{r.agent.ID, bob.ID} {
			wg.Go(func() {
				_, err := r.queue.Claim(ctx, s.Conversation.ID, id)
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, handoff.ErrAlreadyClaimed):
					t.Errorf("claim: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("round %d: %d agents won the claim, want exactly one", round, wins.Load())
		}
		consistent(t, r, s.Conversation.ID)
		// Then both try every act at once: claims, escalations, transfers
		// to the queue, returns to the bot. Whatever wins, the ticket and
		// the conversation agree.
		for _, id := range []string{r.agent.ID, bob.ID} {
			acts := []func() error{
				func() error { _, err := r.queue.Claim(ctx, s.Conversation.ID, id); return err },
				func() error { _, err := r.queue.Escalate(ctx, s.Conversation.ID, id); return err },
				func() error {
					_, err := r.queue.Transfer(ctx, s.Conversation.ID, id, handoff.Target{Team: "support"})
					return err
				},
				func() error { _, err := r.queue.ReturnToBot(ctx, s.Conversation.ID, id); return err },
			}
			for _, act := range acts {
				wg.Go(func() {
					err := act()
					if err != nil && !errors.Is(err, handoff.ErrAlreadyClaimed) && !errors.Is(err, handoff.ErrNotFound) && !errors.Is(err, handoff.ErrForbidden) {
						t.Errorf("round %d: %v", round, err)
					}
				})
			}
		}
		wg.Wait()
		consistent(t, r, s.Conversation.ID)
	}
}

func TestACustomerTurnRacingAClaimLeavesOneOwner(t *testing.T) {
	r := newQueueRig(t, false)
	ctx := context.Background()
	for round := range 20 {
		s := r.start(fmt.Sprint("visitor", round))
		r.say(s.Conversation.ID, "where is my parcel")
		var wg sync.WaitGroup
		// The customer asks for a person while an agent resolves and
		// claims, and the customer keeps writing.
		wg.Go(func() {
			for i := range 5 {
				text := "talk to a human"
				if i > 0 {
					text = fmt.Sprint("are you there? ", i)
				}
				if _, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, ClientID: fmt.Sprint("m", round, "-", i), Text: text}); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				r.queue.Claim(ctx, s.Conversation.ID, r.agent.ID)
			}
		})
		wg.Wait()
		consistent(t, r, s.Conversation.ID)
		// Whoever owns it, the owner alone may speak.
		c := r.conv(s.Conversation.ID)
		_, err := r.engine.AgentSay(ctx, s.Conversation.ID, r.agent.ID, "hello", false)
		if (c.State == bot.StateAgent) != (err == nil) {
			t.Errorf("round %d: state %s, agent reply: %v", round, c.State, err)
		}
	}
}
