package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/bolt"
)

func open(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAgentEmailsAreUnique(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	ann := &handoff.Agent{ID: "ann", Name: "Ann", Email: "ann@example.com", PasswordHash: "hash"}
	if err := db.SaveAgent(ctx, ann); err != nil {
		t.Fatal(err)
	}
	t.Run("another agent cannot take the email, in any case", func(t *testing.T) {
		err := db.SaveAgent(ctx, &handoff.Agent{ID: "eve", Email: "ANN@example.com"})
		if !errors.Is(err, handoff.ErrEmailTaken) {
			t.Errorf("got %v, want ErrEmailTaken", err)
		}
	})
	t.Run("the agent is found by email with its password hash", func(t *testing.T) {
		got, err := db.AgentByEmail(ctx, "Ann@Example.com")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "ann" || got.PasswordHash != "hash" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("changing an agent's email frees the old one", func(t *testing.T) {
		ann.Email = "ann.new@example.com"
		if err := db.SaveAgent(ctx, ann); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AgentByEmail(ctx, "ann@example.com"); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("old email: %v, want ErrNotFound", err)
		}
		if err := db.SaveAgent(ctx, &handoff.Agent{ID: "bob", Name: "Bob", Email: "ann@example.com"}); err != nil {
			t.Errorf("reusing the freed email: %v", err)
		}
	})
	list, err := db.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "ann" || list[1].ID != "bob" {
		t.Errorf("agents %+v, want ann and bob by name", list)
	}
}

func TestDeleteSessions(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for i, agent := range []string{"ann", "ann", "bob"} {
		s := handoff.Session{TokenHash: []byte{byte(i), 1, 2}, AgentID: agent, Created: now, Expires: now.Add(time.Hour)}
		if err := db.SaveSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.DeleteSessions(ctx, func(s handoff.Session) bool { return s.AgentID == "ann" })
	if err != nil || n != 2 {
		t.Fatalf("deleted %d (%v), want 2", n, err)
	}
	if _, err := db.Session(ctx, []byte{0, 1, 2}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("ann's session: %v, want ErrNotFound", err)
	}
	s, err := db.Session(ctx, []byte{2, 1, 2})
	if err != nil || s.AgentID != "bob" || !bytes.Equal(s.TokenHash, []byte{2, 1, 2}) {
		t.Errorf("bob's session %+v (%v)", s, err)
	}
}

func TestUpdateTicket(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	create := func(id string) func(*handoff.Ticket) error {
		return func(tk *handoff.Ticket) error {
			if tk.ID != "" {
				return errors.New("there is an open ticket already")
			}
			tk.ID, tk.Status, tk.Tier = id, handoff.StatusQueued, 1
			return nil
		}
	}
	setStatus := func(s handoff.Status) func(*handoff.Ticket) error {
		return func(tk *handoff.Ticket) error { tk.Status = s; return nil }
	}

	if _, err := db.Ticket(ctx, "con_1"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a conversation never handed off: %v, want ErrNotFound", err)
	}
	if _, err := db.UpdateTicket(ctx, "con_1", func(*handoff.Ticket) error { return nil }); err == nil {
		t.Error("a ticket without an id was stored")
	}
	if _, err := db.UpdateTicket(ctx, "con_1", create("t1")); err != nil {
		t.Fatal(err)
	}
	t.Run("a second ticket for the conversation sees the open one", func(t *testing.T) {
		if _, err := db.UpdateTicket(ctx, "con_1", create("t2")); err == nil {
			t.Error("the update did not see the open ticket")
		}
	})
	t.Run("an update that fails stores nothing", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := db.UpdateTicket(ctx, "con_1", func(tk *handoff.Ticket) error { tk.Agent = "ann"; return boom })
		if !errors.Is(err, boom) {
			t.Errorf("got %v, want the function's error", err)
		}
		if tk, _ := db.Ticket(ctx, "con_1"); tk.Agent != "" {
			t.Errorf("the failed update stored agent %q", tk.Agent)
		}
	})
	t.Run("an update may not change the ticket's id", func(t *testing.T) {
		if _, err := db.UpdateTicket(ctx, "con_1", func(tk *handoff.Ticket) error { tk.ID = "t9"; return nil }); err == nil {
			t.Error("the id changed")
		}
	})
	t.Run("a closed ticket leaves the open list but stays the conversation's latest", func(t *testing.T) {
		if _, err := db.UpdateTicket(ctx, "con_1", setStatus(handoff.StatusResolved)); err != nil {
			t.Fatal(err)
		}
		if open, _ := db.OpenTickets(ctx); len(open) != 0 {
			t.Errorf("open tickets %+v, want none", open)
		}
		if tk, err := db.Ticket(ctx, "con_1"); err != nil || tk.ID != "t1" || tk.Status != handoff.StatusResolved {
			t.Errorf("latest ticket %+v (%v), want t1 resolved", tk, err)
		}
	})
	t.Run("the next hand-off is a new ticket, found as the latest", func(t *testing.T) {
		if _, err := db.UpdateTicket(ctx, "con_0", create("other")); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpdateTicket(ctx, "con_1", create("t2")); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpdateTicket(ctx, "con_1", setStatus(handoff.StatusReturned)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpdateTicket(ctx, "con_2", create("later")); err != nil {
			t.Fatal(err)
		}
		if tk, err := db.Ticket(ctx, "con_1"); err != nil || tk.ID != "t2" {
			t.Errorf("latest ticket of con_1 %+v (%v), want t2", tk, err)
		}
		if tk, err := db.Ticket(ctx, "con_2"); err != nil || tk.ID != "later" {
			t.Errorf("latest ticket of con_2 %+v (%v), want later", tk, err)
		}
		open, _ := db.OpenTickets(ctx)
		if len(open) != 2 || open[0].ID != "other" || open[1].ID != "later" {
			t.Errorf("open tickets %+v, want other and later", open)
		}
	})
}
