package handoff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Session is a logged-in agent. Only the SHA-256 hash of its token is
// kept: whoever reads the database cannot log in with what they find.
type Session struct {
	TokenHash []byte    `json:"token_hash"`
	AgentID   string    `json:"agent_id"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	// RemoteAddr is where the login came from, for the audit trail.
	RemoteAddr string `json:"remote_addr,omitempty"`
}

// tokenBytes is the entropy of a session token.
const tokenBytes = 32

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Login checks an agent's email and password and starts a session. It
// returns the session token, to be sent back as a cookie or bearer token,
// and the agent. An unknown email and a wrong password both fail with
// ErrBadCredentials and take as long; a disabled agent with the right
// password gets ErrDisabled. Every attempt counts against the email and
// remoteAddr before the password is checked: after too many failures, or
// attempts under way, for either within the window, Login fails with
// ErrRateLimited without looking at the password; an empty remoteAddr (a
// command-line login) skips the per-address limit. When too many
// passwords are being checked at once, Login fails with ErrBusy. When
// Login returns, the session is stored and survives a restart.
func (as *Agents) Login(ctx context.Context, email, password, remoteAddr string) (string, *Agent, error) {
	now := as.opts.Now()
	a, err := as.verify(ctx, email, password, remoteAddr)
	if err != nil {
		if errors.Is(err, ErrRateLimited) || errors.Is(err, ErrBadCredentials) || errors.Is(err, ErrBusy) {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if a.Disabled {
		return "", nil, fmt.Errorf("login %s: %w", a.ID, ErrDisabled)
	}

	var raw [tokenBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, fmt.Errorf("login: make token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	s := Session{TokenHash: hashToken(token), AgentID: a.ID, Created: now.UTC(), Expires: now.Add(as.opts.SessionTTL).UTC(), RemoteAddr: remoteAddr}
	if _, err := as.store.DeleteSessions(ctx, func(s Session) bool { return !now.Before(s.Expires) }); err != nil {
		return "", nil, fmt.Errorf("login: prune expired sessions: %w", err)
	}
	if err := as.store.SaveSession(ctx, s); err != nil {
		return "", nil, fmt.Errorf("login: save session: %w", err)
	}
	as.opts.Log.Info("agent logged in", "agent", a.ID, "remote", remoteAddr)
	return token, a, nil
}

// verify checks the password of the account with the email and returns
// the account, disabled or not. The attempt is counted against the email
// and remoteAddr ("" for none) before the check, so that simultaneous
// attempts cannot all pass the limit while bcrypt runs: over the limit,
// verify fails with ErrRateLimited at once. A wrong password (or an
// unknown email) becomes a failure, ErrBadCredentials; the right one gives
// its attempt back and clears the email's failures; an attempt that was
// never checked (ErrBusy, a store error) is given back too.
func (as *Agents) verify(ctx context.Context, email, password, remoteAddr string) (*Agent, error) {
	now := as.opts.Now()
	keys := []string{"email:" + strings.ToLower(strings.TrimSpace(email))}
	if remoteAddr != "" {
		keys = append(keys, "addr:"+remoteAddr)
	}
	if !as.limiter.reserve(now, keys...) {
		as.opts.Log.Warn("login rate limited", "remote", remoteAddr)
		return nil, ErrRateLimited
	}
	var hash []byte
	a, err := as.store.AgentByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		// As slow as a real check: the time tells nothing either.
		a, hash = nil, as.dummy()
	case err != nil:
		as.limiter.release(keys...)
		return nil, err
	default:
		hash = []byte(a.PasswordHash)
	}
	ok, err := as.compare(ctx, hash, password)
	switch {
	case err != nil:
		as.limiter.release(keys...)
		return nil, err
	case !ok || a == nil:
		as.limiter.fail(now, keys...)
		return nil, ErrBadCredentials
	}
	as.limiter.release(keys...)
	as.limiter.reset(keys[0])
	return a, nil
}

// compare reports whether password is the one hashed. bcrypt is slow on
// purpose, so at most opts.PasswordChecks comparisons run at once, lest
// a burst of logins take every CPU; a caller waits up to opts.CheckWait
// for its turn, then gets ErrBusy.
func (as *Agents) compare(ctx context.Context, hash []byte, password string) (bool, error) {
	wait := time.NewTimer(as.opts.CheckWait)
	defer wait.Stop()
	select {
	case as.checks <- struct{}{}:
	case <-wait.C:
		as.opts.Log.Warn("too many password checks at once; attempt refused")
		return false, ErrBusy
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-as.checks }()
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil, nil
}

func (as *Agents) dummy() []byte {
	as.dummyOnce.Do(func() {
		as.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), as.opts.PasswordCost)
	})
	return as.dummyHash
}

// Authenticate returns the agent a session token belongs to. It fails with
// ErrNoSession for an unknown, expired or logged-out token, and with
// ErrDisabled once the agent is disabled.
func (as *Agents) Authenticate(ctx context.Context, token string) (*Agent, *Session, error) {
	if token == "" {
		return nil, nil, ErrNoSession
	}
	h := hashToken(token)
	s, err := as.store.Session(ctx, h)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil, ErrNoSession
	case err != nil:
		return nil, nil, fmt.Errorf("authenticate: %w", err)
	}
	// The lookup was by hash; compare the stored hash in constant time
	// all the same, so no code path compares secrets byte by byte.
	if subtle.ConstantTimeCompare(s.TokenHash, h) != 1 {
		return nil, nil, ErrNoSession
	}
	if !as.opts.Now().Before(s.Expires) {
		return nil, nil, fmt.Errorf("session expired at %s: %w", s.Expires.Format(time.RFC3339), ErrNoSession)
	}
	a, err := as.store.Agent(ctx, s.AgentID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil, ErrNoSession
	case err != nil:
		return nil, nil, fmt.Errorf("authenticate: %w", err)
	case a.Disabled:
		return nil, nil, fmt.Errorf("authenticate %s: %w", a.ID, ErrDisabled)
	}
	return a, s, nil
}

// Logout ends the session of the token. Ending an unknown session is not
// an error. When Logout returns nil, the token no longer works, even after
// a restart.
func (as *Agents) Logout(ctx context.Context, token string) error {
	h := hashToken(token)
	if _, err := as.store.DeleteSessions(ctx, func(s Session) bool { return subtle.ConstantTimeCompare(s.TokenHash, h) == 1 }); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// CanActOn reports whether agent a may act on ticket t (claim, reply,
// transfer, escalate, resolve). Agents act on waiting first-tier tickets
// and on their own; supervisors and admins on any ticket. A disabled
// agent may do nothing.
func CanActOn(a *Agent, t *Ticket) bool {
	switch {
	case a == nil || a.Disabled:
		return false
	case CanSupervise(a):
		return true
	case t.Agent != "":
		return t.Agent == a.ID
	default:
		return t.Tier <= 1
	}
}

// CanSupervise reports whether a may act on anyone's conversations and see
// the supervisor dashboard.
func CanSupervise(a *Agent) bool {
	return a != nil && !a.Disabled && (a.Role == RoleSupervisor || a.Role == RoleAdmin)
}

// CanManageAgents reports whether a may add, change and disable agents.
func CanManageAgents(a *Agent) bool {
	return a != nil && !a.Disabled && a.Role == RoleAdmin
}
