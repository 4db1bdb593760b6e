package handoff_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/handoff"
)

func TestAddAgent(t *testing.T) {
	r := newRig(t, handoff.Options{})
	first, err := r.agents.Add(r.ctx, handoff.NewAgent{Name: " Ann ", Email: "Ann@Example.com", Role: handoff.RoleAgent, Teams: []string{"payments", " ", "payments", "vip"}, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if first.Name != "Ann" || first.Email != "ann@example.com" || first.MaxChats != handoff.DefaultMaxChats ||
		strings.Join(first.Teams, ",") != "payments,vip" || first.Created.IsZero() || !strings.HasPrefix(first.ID, "agt_") {
		t.Errorf("added agent %+v", first)
	}
	if first.PasswordHash == "" || strings.Contains(first.PasswordHash, "correct horse") {
		t.Errorf("password hash %q", first.PasswordHash)
	}

	cases := []struct {
		name string
		n    handoff.NewAgent
		want error
	}{
		{"an agent without a name is refused", handoff.NewAgent{Email: "x@example.com", Role: handoff.RoleAgent, Password: "long enough"}, handoff.ErrInvalid},
		{"an email with a display name is refused", handoff.NewAgent{Name: "X", Email: "X <x@example.com>", Role: handoff.RoleAgent, Password: "long enough"}, handoff.ErrInvalid},
		{"a malformed email is refused", handoff.NewAgent{Name: "X", Email: "x@", Role: handoff.RoleAgent, Password: "long enough"}, handoff.ErrInvalid},
		{"an unknown role is refused", handoff.NewAgent{Name: "X", Email: "x@example.com", Role: "root", Password: "long enough"}, handoff.ErrInvalid},
		{"a short password is refused", handoff.NewAgent{Name: "X", Email: "x@example.com", Role: handoff.RoleAgent, Password: "short"}, handoff.ErrInvalid},
		{"a password bcrypt would truncate is refused", handoff.NewAgent{Name: "X", Email: "x@example.com", Role: handoff.RoleAgent, Password: strings.Repeat("p", 73)}, handoff.ErrInvalid},
		{"a negative capacity is refused", handoff.NewAgent{Name: "X", Email: "x@example.com", Role: handoff.RoleAgent, MaxChats: -1, Password: "long enough"}, handoff.ErrInvalid},
		{"an email taken by another agent, in any case, is refused", handoff.NewAgent{Name: "X", Email: "ANN@example.com", Role: handoff.RoleAdmin, Password: "long enough"}, handoff.ErrEmailTaken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.agents.Add(r.ctx, tc.n); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}

	list, err := r.agents.List(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != first.ID {
		t.Errorf("agents %+v, want only Ann", list)
	}
}

func TestAnAgentsJSONNeverCarriesItsPasswordHash(t *testing.T) {
	r := newRig(t, handoff.Options{})
	a, err := r.agents.Add(r.ctx, handoff.NewAgent{Name: "Ann", Email: "ann@example.com", Role: handoff.RoleAgent, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), a.PasswordHash) || strings.Contains(string(data), "password") {
		t.Errorf("agent JSON %s carries the password hash", data)
	}
	// Yet storage keeps it: the password works after a restart.
	r.restart()
	if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "correct horse", ""); err != nil {
		t.Errorf("login after restart: %v", err)
	}
}
