package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

func agentEmails(t *testing.T, s Store) {
	ann := &handoff.Agent{ID: "ann", Name: "Ann", Email: "ann@example.com", PasswordHash: "hash"}
	if err := s.SaveAgent(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAgent(ctx, &handoff.Agent{ID: "eve", Email: "ANN@example.com"}); !errors.Is(err, handoff.ErrEmailTaken) {
		t.Errorf("another agent took the email: %v, want ErrEmailTaken", err)
	}
	got, err := s.AgentByEmail(ctx, "Ann@Example.com")
	if err != nil || got.ID != "ann" || got.PasswordHash != "hash" {
		t.Errorf("agent by email = %+v, %v; want ann with the password hash", got, err)
	}
	if got, err := s.Agent(ctx, "ann"); err != nil || got.PasswordHash != "hash" {
		t.Errorf("agent = %+v, %v", got, err)
	}
	ann.Email = "ann.new@example.com"
	if err := s.SaveAgent(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AgentByEmail(ctx, "ann@example.com"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("old email: %v, want ErrNotFound", err)
	}
	if err := s.SaveAgent(ctx, &handoff.Agent{ID: "bob", Name: "Bob", Email: "ann@example.com"}); err != nil {
		t.Errorf("reusing the freed email: %v", err)
	}
	if err := s.SaveAgent(ctx, &handoff.Agent{ID: "al", Name: "Ann", Email: "al@example.com"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*handoff.Agent{{Email: "x@example.com"}, {ID: "x", Email: "  "}} {
		if err := s.SaveAgent(ctx, bad); err == nil || !strings.Contains(err.Error(), "no id or email") {
			t.Errorf("saving %+v: %v, want the missing id or email named", bad, err)
		}
	}
	list, err := s.Agents(ctx)
	if err != nil || len(list) != 3 || list[0].ID != "al" || list[1].ID != "ann" || list[2].ID != "bob" {
		t.Errorf("agents %+v (%v), want al, ann (by name, then id), bob", list, err)
	}
	if _, err := s.Agent(ctx, "nobody"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("unknown agent: %v", err)
	}
}

func deleteSessions(t *testing.T, s Store) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for i, agent := range []string{"ann", "ann", "bob"} {
		sess := handoff.Session{TokenHash: []byte{byte(i), 1, 2}, AgentID: agent, Created: now, Expires: now.Add(time.Hour)}
		if err := s.SaveSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteSessions(ctx, func(s handoff.Session) bool { return s.AgentID == "ann" })
	if err != nil || n != 2 {
		t.Fatalf("deleted %d (%v), want 2", n, err)
	}
	if _, err := s.Session(ctx, []byte{0, 1, 2}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("ann's session: %v, want ErrNotFound", err)
	}
	got, err := s.Session(ctx, []byte{2, 1, 2})
	if err != nil || got.AgentID != "bob" || !bytes.Equal(got.TokenHash, []byte{2, 1, 2}) || !got.Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("bob's session %+v (%v)", got, err)
	}
}

func createTicket(id string) func(*handoff.Ticket) error {
	return func(tk *handoff.Ticket) error {
		if tk.ID != "" {
			return errors.New("there is an open ticket already")
		}
		tk.ID, tk.Status, tk.Tier = id, handoff.StatusQueued, 1
		return nil
	}
}

func setStatus(st handoff.Status) func(*handoff.Ticket) error {
	return func(tk *handoff.Ticket) error { tk.Status = st; return nil }
}

func updateTicket(t *testing.T, s Store) {
	if _, err := s.Ticket(ctx, "con_1"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a conversation never handed off: %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateTicket(ctx, "con_1", func(*handoff.Ticket) error { return nil }); err == nil {
		t.Error("a ticket without an id was stored")
	}
	if _, err := s.UpdateTicket(ctx, "con_1", createTicket("t1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateTicket(ctx, "con_1", createTicket("t2")); err == nil {
		t.Error("the update did not see the open ticket")
	}
	boom := errors.New("boom")
	if _, err := s.UpdateTicket(ctx, "con_1", func(tk *handoff.Ticket) error { tk.Agent = "ann"; return boom }); !errors.Is(err, boom) {
		t.Errorf("got %v, want the function's error", err)
	}
	if tk, _ := s.Ticket(ctx, "con_1"); tk.Agent != "" {
		t.Errorf("the failed update stored agent %q", tk.Agent)
	}
	if _, err := s.UpdateTicket(ctx, "con_1", func(tk *handoff.Ticket) error { tk.ID = "t9"; return nil }); err == nil {
		t.Error("the id changed")
	}
	if _, err := s.UpdateTicket(ctx, "con_1", setStatus(handoff.StatusResolved)); err != nil {
		t.Fatal(err)
	}
	if open, _ := s.OpenTickets(ctx); len(open) != 0 {
		t.Errorf("open tickets %+v, want none", open)
	}
	if tk, err := s.Ticket(ctx, "con_1"); err != nil || tk.ID != "t1" || tk.Status != handoff.StatusResolved {
		t.Errorf("latest ticket %+v (%v), want t1 resolved", tk, err)
	}
	for _, step := range []struct {
		conv string
		fn   func(*handoff.Ticket) error
	}{
		{"con_0", createTicket("other")},
		{"con_1", createTicket("t2")},
		{"con_1", setStatus(handoff.StatusReturned)},
		{"con_2", createTicket("later")},
	} {
		if _, err := s.UpdateTicket(ctx, step.conv, step.fn); err != nil {
			t.Fatal(err)
		}
	}
	if tk, err := s.Ticket(ctx, "con_1"); err != nil || tk.ID != "t2" {
		t.Errorf("latest ticket of con_1 %+v (%v), want t2", tk, err)
	}
	open, _ := s.OpenTickets(ctx)
	if len(open) != 2 || open[0].ID != "other" || open[1].ID != "later" {
		t.Errorf("open tickets %+v, want other and later", open)
	}
}

// ticketInAct: the queue changes a ticket and its conversation's owner in
// one act, through TicketsIn; an act that fails keeps neither.
func ticketInAct(t *testing.T, s Store) {
	conv := NewConversation(t, s, "cus_1")
	act := func(fail error) error {
		return s.Update(ctx, func(tx bot.Tx) error {
			c, err := tx.Conversation(conv.ID)
			if err != nil {
				return err
			}
			tt := s.TicketsIn(tx)
			if _, err := tt.OpenTicket(conv.ID); !errors.Is(err, bot.ErrNotFound) {
				return fmt.Errorf("open ticket before: %v", err)
			}
			if err := tt.PutTicket(&handoff.Ticket{ID: "t1", ConversationID: conv.ID, Status: handoff.StatusQueued, Tier: 1}); err != nil {
				return err
			}
			if open, err := tt.OpenTickets(); err != nil || len(open) != 1 {
				return fmt.Errorf("the act does not see its ticket: %v, %v", open, err)
			}
			if err := tt.PutTicket(&handoff.Ticket{ID: "t2", ConversationID: conv.ID, Status: handoff.StatusQueued}); err == nil {
				return errors.New("a second open ticket was stored")
			}
			c.State = bot.StateQueued
			if err := tx.PutConversation(c); err != nil {
				return err
			}
			return fail
		})
	}
	if err := act(errors.New("boom")); err == nil {
		t.Fatal("the failing act succeeded")
	}
	if _, err := s.Ticket(ctx, conv.ID); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the failed act kept its ticket: %v", err)
	}
	if c, _ := s.Conversation(ctx, conv.ID); c.State != bot.StateBot {
		t.Errorf("the failed act kept state %s", c.State)
	}
	if err := act(nil); err != nil {
		t.Fatal(err)
	}
	if tk, err := s.Ticket(ctx, conv.ID); err != nil || tk.ID != "t1" || !tk.Open() {
		t.Errorf("ticket %+v, %v; want t1 open", tk, err)
	}
	if c, _ := s.Conversation(ctx, conv.ID); c.State != bot.StateQueued {
		t.Errorf("state %s, want queued", c.State)
	}
}

// claimRace: agents racing to claim one waiting ticket, each in its own
// act that checks the ticket is still waiting: exactly one wins.
func claimRace(t *testing.T, s Store) {
	conv := NewConversation(t, s, "cus_1")
	if _, err := s.UpdateTicket(ctx, conv.ID, createTicket("t1")); err != nil {
		t.Fatal(err)
	}
	errTaken := bot.NewError(bot.CodeConflict, "taken")
	var wg sync.WaitGroup
	wins := make([]bool, 10)
	for i := range wins {
		wg.Go(func() {
			_, err := s.UpdateTicket(ctx, conv.ID, func(tk *handoff.Ticket) error {
				if tk.Status != handoff.StatusQueued {
					return errTaken
				}
				tk.Status, tk.Agent = handoff.StatusAssigned, fmt.Sprint("agent", i)
				return nil
			})
			switch {
			case err == nil:
				wins[i] = true
			case !errors.Is(err, errTaken):
				t.Errorf("claim %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	n, winner := 0, -1
	for i, w := range wins {
		if w {
			n, winner = n+1, i
		}
	}
	if n != 1 {
		t.Fatalf("%d claims won, want exactly 1", n)
	}
	if tk, err := s.Ticket(ctx, conv.ID); err != nil || tk.Agent != fmt.Sprint("agent", winner) {
		t.Errorf("ticket %+v (%v), want the winner agent%d", tk, err, winner)
	}
}

func closedTickets(t *testing.T, s Store) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c"} {
		conv := "con_" + id
		if _, err := s.UpdateTicket(ctx, conv, createTicket("t_"+id)); err != nil {
			t.Fatal(err)
		}
		_, err := s.UpdateTicket(ctx, conv, func(tk *handoff.Ticket) error {
			tk.Status, tk.ClosedAt = handoff.StatusResolved, base.Add(time.Duration(i)*time.Minute+time.Nanosecond)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpdateTicket(ctx, "con_open", createTicket("t_open")); err != nil {
		t.Fatal(err)
	}
	ids := func(ts []handoff.Ticket) (out []string) {
		for _, tk := range ts {
			out = append(out, tk.ID)
		}
		return out
	}
	got, err := s.ClosedTickets(ctx, time.Time{}, 2)
	if err != nil || fmt.Sprint(ids(got)) != "[t_c t_b]" {
		t.Errorf("closed tickets = %v, %v; want [t_c t_b]", ids(got), err)
	}
	// Before is exclusive, to the nanosecond.
	got, err = s.ClosedTickets(ctx, base.Add(time.Minute+time.Nanosecond), 10)
	if err != nil || fmt.Sprint(ids(got)) != "[t_a]" {
		t.Errorf("closed before b = %v, %v; want [t_a]", ids(got), err)
	}
	if got, _ := s.ClosedTickets(ctx, time.Time{}, 0); len(got) != 0 {
		t.Errorf("limit 0 gave %v", ids(got))
	}
}
