package handoff_test

import (
	"crypto/sha256"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/handoff"
)

func (r *rig) addAgent(email, password string, role handoff.Role) *handoff.Agent {
	r.t.Helper()
	a, err := r.agents.Add(r.ctx, handoff.NewAgent{Name: email, Email: email, Role: role, Password: password})
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

func (r *rig) login(email, password string) string {
	r.t.Helper()
	token, _, err := r.agents.Login(r.ctx, email, password, "192.0.2.1")
	if err != nil {
		r.t.Fatal(err)
	}
	return token
}

func TestLogin(t *testing.T) {
	r := newRig(t, handoff.Options{})
	ann := r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)

	t.Run("the right password gives a session that names the agent", func(t *testing.T) {
		token, a, err := r.agents.Login(r.ctx, " ANN@example.com", "correct horse", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != ann.ID || len(token) < 43 {
			t.Errorf("login gave agent %s and token %q", a.ID, token)
		}
		got, s, err := r.agents.Authenticate(r.ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != ann.ID || s.AgentID != ann.ID || !s.Expires.Equal(start.Add(12*time.Hour)) {
			t.Errorf("session of %s expiring %v", s.AgentID, s.Expires)
		}
	})
	t.Run("each login gets its own token", func(t *testing.T) {
		if r.login("ann@example.com", "correct horse") == r.login("ann@example.com", "correct horse") {
			t.Error("two logins got the same token")
		}
	})
	t.Run("a wrong password is refused", func(t *testing.T) {
		if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "wrong horse", "192.0.2.1"); !errors.Is(err, handoff.ErrBadCredentials) {
			t.Errorf("got %v, want ErrBadCredentials", err)
		}
	})
	t.Run("an unknown email is refused the same way", func(t *testing.T) {
		if _, _, err := r.agents.Login(r.ctx, "eve@example.com", "correct horse", "192.0.2.1"); !errors.Is(err, handoff.ErrBadCredentials) {
			t.Errorf("got %v, want ErrBadCredentials", err)
		}
	})
	t.Run("an unknown or empty token has no session", func(t *testing.T) {
		for _, token := range []string{"", "not-a-token", strings.Repeat("A", 43)} {
			if _, _, err := r.agents.Authenticate(r.ctx, token); !errors.Is(err, handoff.ErrNoSession) {
				t.Errorf("token %q: got %v, want ErrNoSession", token, err)
			}
		}
	})
}

func TestSessions(t *testing.T) {
	t.Run("a session expires after its lifetime", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
		token := r.login("ann@example.com", "correct horse")
		r.clock.Add(12*time.Hour - time.Second)
		if _, _, err := r.agents.Authenticate(r.ctx, token); err != nil {
			t.Errorf("a second before expiry: %v", err)
		}
		r.clock.Add(time.Second)
		if _, _, err := r.agents.Authenticate(r.ctx, token); !errors.Is(err, handoff.ErrNoSession) {
			t.Errorf("at expiry: %v, want ErrNoSession", err)
		}
	})
	t.Run("logout ends the session and only that one", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
		phone, laptop := r.login("ann@example.com", "correct horse"), r.login("ann@example.com", "correct horse")
		if err := r.agents.Logout(r.ctx, phone); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.agents.Authenticate(r.ctx, phone); !errors.Is(err, handoff.ErrNoSession) {
			t.Errorf("after logout: %v, want ErrNoSession", err)
		}
		if _, _, err := r.agents.Authenticate(r.ctx, laptop); err != nil {
			t.Errorf("the other session: %v", err)
		}
	})
	t.Run("a session survives a restart", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
		token := r.login("ann@example.com", "correct horse")
		r.restart()
		if _, _, err := r.agents.Authenticate(r.ctx, token); err != nil {
			t.Errorf("after restart: %v", err)
		}
	})
	t.Run("a disabled agent cannot log in and its sessions stop working", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		ann := r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
		token := r.login("ann@example.com", "correct horse")
		if err := r.agents.Disable(r.ctx, ann.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.agents.Authenticate(r.ctx, token); !errors.Is(err, handoff.ErrNoSession) {
			t.Errorf("old session: %v, want ErrNoSession", err)
		}
		if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "correct horse", ""); !errors.Is(err, handoff.ErrDisabled) {
			t.Errorf("login: %v, want ErrDisabled", err)
		}
		if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "wrong horse", ""); !errors.Is(err, handoff.ErrBadCredentials) {
			t.Errorf("login with a wrong password: %v, want ErrBadCredentials, not a hint that the account exists", err)
		}
	})
	t.Run("a session of an agent disabled behind Agents' back stops working too", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		ann := r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
		token := r.login("ann@example.com", "correct horse")
		ann.Disabled = true
		if err := r.db.SaveAgent(r.ctx, ann); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.agents.Authenticate(r.ctx, token); !errors.Is(err, handoff.ErrDisabled) {
			t.Errorf("got %v, want ErrDisabled", err)
		}
	})
	t.Run("a new password ends every session and replaces the old one", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		ann := r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
		token := r.login("ann@example.com", "correct horse")
		if err := r.agents.SetPassword(r.ctx, ann.ID, "battery staple"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.agents.Authenticate(r.ctx, token); !errors.Is(err, handoff.ErrNoSession) {
			t.Errorf("old session: %v, want ErrNoSession", err)
		}
		if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "correct horse", ""); !errors.Is(err, handoff.ErrBadCredentials) {
			t.Errorf("old password: %v, want ErrBadCredentials", err)
		}
		r.login("ann@example.com", "battery staple")
		if err := r.agents.SetPassword(r.ctx, ann.ID, "short"); !errors.Is(err, handoff.ErrInvalid) {
			t.Errorf("short password: %v, want ErrInvalid", err)
		}
	})
}

func TestTheSessionTokenIsStoredOnlyHashed(t *testing.T) {
	r := newRig(t, handoff.Options{})
	r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
	token := r.login("ann@example.com", "correct horse")
	if err := r.db.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(r.path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), token) {
		t.Error("the raw session token is in the database file")
	}
	if strings.Contains(string(data), "correct horse") {
		t.Error("the raw password is in the database file")
	}
	sum := sha256.Sum256([]byte(token))
	if !strings.Contains(string(data), string(sum[:])) {
		t.Error("the token's SHA-256 is not in the database file either: is the session stored at all?")
	}
	r.open()
}

func TestLoginRateLimit(t *testing.T) {
	t.Run("five failures for an email lock it for fifteen minutes, even with the right password", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
		for i := range 5 {
			// From different addresses, so only the email's count trips.
			if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "guess", "198.51.100."+string(rune('1'+i))); !errors.Is(err, handoff.ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "correct horse", "192.0.2.1"); !errors.Is(err, handoff.ErrRateLimited) {
			t.Errorf("sixth attempt: %v, want ErrRateLimited", err)
		}
		r.clock.Add(15 * time.Minute)
		if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "correct horse", "192.0.2.1"); err != nil {
			t.Errorf("fifteen minutes later: %v", err)
		}
	})
	t.Run("five failures from an address lock it for every email", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
		for _, email := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"} {
			if _, _, err := r.agents.Login(r.ctx, email, "guess", "203.0.113.9"); !errors.Is(err, handoff.ErrBadCredentials) {
				t.Fatal(err)
			}
		}
		if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "correct horse", "203.0.113.9"); !errors.Is(err, handoff.ErrRateLimited) {
			t.Errorf("from the same address: %v, want ErrRateLimited", err)
		}
		if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "correct horse", "192.0.2.1"); err != nil {
			t.Errorf("from another address: %v", err)
		}
	})
	t.Run("a successful login clears the email's failures", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
		for range 2 {
			for range 4 {
				r.agents.Login(r.ctx, "ann@example.com", "typo", "")
			}
			if _, _, err := r.agents.Login(r.ctx, "ann@example.com", "correct horse", ""); err != nil {
				t.Fatalf("after four typos: %v", err)
			}
		}
	})
}

func TestPermissions(t *testing.T) {
	ann := &handoff.Agent{ID: "ann", Role: handoff.RoleAgent}
	sue := &handoff.Agent{ID: "sue", Role: handoff.RoleSupervisor}
	root := &handoff.Agent{ID: "root", Role: handoff.RoleAdmin}
	gone := &handoff.Agent{ID: "gone", Role: handoff.RoleAdmin, Disabled: true}
	waiting := &handoff.Ticket{Status: handoff.StatusQueued, Tier: 1}
	escalated := &handoff.Ticket{Status: handoff.StatusQueued, Tier: 2}
	anns := &handoff.Ticket{Status: handoff.StatusAssigned, Agent: "ann", Tier: 1}
	bobs := &handoff.Ticket{Status: handoff.StatusAssigned, Agent: "bob", Tier: 1}
	cases := []struct {
		name string
		got  bool
		want bool
	}{
		{"an agent may act on a waiting ticket", handoff.CanActOn(ann, waiting), true},
		{"an agent may act on its own ticket", handoff.CanActOn(ann, anns), true},
		{"an agent may not act on another agent's ticket", handoff.CanActOn(ann, bobs), false},
		{"an agent may not act on an escalated ticket", handoff.CanActOn(ann, escalated), false},
		{"a supervisor may act on anyone's ticket", handoff.CanActOn(sue, bobs), true},
		{"a supervisor may act on an escalated ticket", handoff.CanActOn(sue, escalated), true},
		{"a disabled admin may act on nothing", handoff.CanActOn(gone, waiting), false},
		{"a supervisor sees the dashboard", handoff.CanSupervise(sue), true},
		{"an agent does not see the dashboard", handoff.CanSupervise(ann), false},
		{"an admin manages agents", handoff.CanManageAgents(root), true},
		{"a supervisor does not manage agents", handoff.CanManageAgents(sue), false},
		{"a disabled admin does not manage agents", handoff.CanManageAgents(gone), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

// tally counts the errors of simultaneous logins by kind.
func tally(t *testing.T, errs []error) map[error]int {
	t.Helper()
	n := map[error]int{}
	for _, err := range errs {
		switch {
		case err == nil:
			n[nil]++
		case errors.Is(err, handoff.ErrBadCredentials):
			n[handoff.ErrBadCredentials]++
		case errors.Is(err, handoff.ErrRateLimited):
			n[handoff.ErrRateLimited]++
		case errors.Is(err, handoff.ErrBusy):
			n[handoff.ErrBusy]++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	return n
}

// simultaneously runs login(i) for i < n, all at once, and returns their
// errors.
func simultaneously(n int, login func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = login(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func TestTheLoginLimitHoldsAgainstSimultaneousAttempts(t *testing.T) {
	// A bcrypt cost high enough that the checks overlap, as they do in
	// production (counting failures only after the check, all 50 were
	// checked); a long wait for a turn, so that every attempt the limit
	// lets through is checked, however slow (-race).
	newAgents := func(r *rig) *handoff.Agents {
		return handoff.NewAgents(r.db, handoff.AgentsOptions{Now: r.clock.Now, PasswordCost: 8, CheckWait: time.Minute})
	}
	t.Run("fifty guesses at one email from fifty addresses check five passwords", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		agents := newAgents(r)
		if _, err := agents.Add(r.ctx, handoff.NewAgent{Name: "Ann", Email: "ann@example.com", Role: handoff.RoleAgent, Password: "correct horse"}); err != nil {
			t.Fatal(err)
		}
		n := tally(t, simultaneously(50, func(i int) error {
			_, _, err := agents.Login(r.ctx, "ann@example.com", "guess "+strconv.Itoa(i), "198.51.100."+strconv.Itoa(i))
			return err
		}))
		if n[handoff.ErrBadCredentials] != 5 || n[handoff.ErrRateLimited] != 45 {
			t.Errorf("%d checked and refused, %d rate limited; want 5 and 45", n[handoff.ErrBadCredentials], n[handoff.ErrRateLimited])
		}
	})
	t.Run("fifty guesses from one address at fifty emails check five passwords", func(t *testing.T) {
		r := newRig(t, handoff.Options{})
		agents := newAgents(r)
		n := tally(t, simultaneously(50, func(i int) error {
			_, _, err := agents.Login(r.ctx, "user"+strconv.Itoa(i)+"@example.com", "guess", "203.0.113.9")
			return err
		}))
		if n[handoff.ErrBadCredentials] != 5 || n[handoff.ErrRateLimited] != 45 {
			t.Errorf("%d checked and refused, %d rate limited; want 5 and 45", n[handoff.ErrBadCredentials], n[handoff.ErrRateLimited])
		}
	})
}

func TestPasswordChecksRunFewAtATime(t *testing.T) {
	r := newRig(t, handoff.Options{})
	// One check at a time, each slow, and barely any wait for a turn:
	// of five attempts let through by the limiter, the first is checked
	// and most of the others are refused as busy.
	agents := handoff.NewAgents(r.db, handoff.AgentsOptions{Now: r.clock.Now, PasswordCost: bcrypt.DefaultCost, PasswordChecks: 1, CheckWait: time.Millisecond})
	if _, err := agents.Add(r.ctx, handoff.NewAgent{Name: "Ann", Email: "ann@example.com", Role: handoff.RoleAgent, Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	n := tally(t, simultaneously(20, func(i int) error {
		_, _, err := agents.Login(r.ctx, "ann@example.com", "guess", "198.51.100."+strconv.Itoa(i))
		return err
	}))
	checked, busy := n[handoff.ErrBadCredentials], n[handoff.ErrBusy]
	if checked < 1 || busy < 1 || checked+busy != 5 || n[handoff.ErrRateLimited] != 15 {
		t.Fatalf("%d checked, %d busy, %d rate limited; want some checked and some busy out of 5, and 15 rate limited", checked, busy, n[handoff.ErrRateLimited])
	}
	// An attempt refused as busy was never checked: it does not count
	// as a failure.
	for i := checked; i < 5; i++ {
		if _, _, err := agents.Login(r.ctx, "ann@example.com", "guess", "192.0.2.1"); !errors.Is(err, handoff.ErrBadCredentials) {
			t.Fatalf("failure %d: %v, want ErrBadCredentials", i+1, err)
		}
	}
	if _, _, err := agents.Login(r.ctx, "ann@example.com", "correct horse", "192.0.2.1"); !errors.Is(err, handoff.ErrRateLimited) {
		t.Errorf("after five failures: %v, want ErrRateLimited", err)
	}
}

func TestChangePasswordNeedsTheCurrentOne(t *testing.T) {
	r := newRig(t, handoff.Options{})
	ann := r.addAgent("ann@example.com", "correct horse", handoff.RoleAgent)
	token := r.login("ann@example.com", "correct horse")
	if err := r.agents.ChangePassword(r.ctx, ann.ID, "wrong horse", "battery staple", "192.0.2.1"); !errors.Is(err, handoff.ErrBadCredentials) {
		t.Errorf("with a wrong current password: %v, want ErrBadCredentials", err)
	}
	if err := r.agents.ChangePassword(r.ctx, ann.ID, "correct horse", "short", "192.0.2.1"); !errors.Is(err, handoff.ErrInvalid) {
		t.Errorf("with a short new password: %v, want ErrInvalid", err)
	}
	if _, _, err := r.agents.Authenticate(r.ctx, token); err != nil {
		t.Errorf("a refused change ended the session: %v", err)
	}
	if err := r.agents.ChangePassword(r.ctx, ann.ID, "correct horse", "battery staple", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.agents.Authenticate(r.ctx, token); !errors.Is(err, handoff.ErrNoSession) {
		t.Errorf("old session after the change: %v, want ErrNoSession", err)
	}
	r.login("ann@example.com", "battery staple")
}
