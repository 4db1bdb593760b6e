package handoff

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/bot"
)

// Role is what an agent may do.
type Role string

// Roles, from least to most powerful. Agents act on the queue and on their
// own conversations; supervisors on anyone's and see the dashboard; admins
// also manage agents and the data (backups, customers' exports and
// erasure).
const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	return r == RoleAgent || r == RoleSupervisor || r == RoleAdmin
}

// CanManageData reports whether a may take backups of the database and
// export or erase a customer's data: admins only, as these reach
// everything Frontdesk keeps.
func CanManageData(a *Agent) bool {
	return a != nil && !a.Disabled && a.Role == RoleAdmin
}

// DefaultMaxChats is how many conversations an agent handles at once when
// the account does not say.
const DefaultMaxChats = 5

// Agent is a person who answers customers in the console.
type Agent struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"` // lower case, unique
	Role  Role   `json:"role"`
	// Teams the agent belongs to, matched against Ticket.Team.
	Teams []string `json:"teams,omitempty"`
	// MaxChats is how many assigned conversations routing gives the agent
	// at most (0 means DefaultMaxChats).
	MaxChats int  `json:"max_chats"`
	Disabled bool `json:"disabled,omitempty"`
	// PasswordHash is the bcrypt hash of the password. It is never
	// marshalled to JSON, so an Agent can be sent to a client as is;
	// storage persists it explicitly.
	PasswordHash string    `json:"-"`
	Created      time.Time `json:"created"`
}

// SortAgents orders agents as every store lists them: by name, then
// by id.
func SortAgents(agents []Agent) {
	slices.SortStableFunc(agents, func(a, b Agent) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
}

// CheckSave says why a can't be stored, or nil: every store's SaveAgent
// needs an id and an email.
func (a *Agent) CheckSave() error {
	if a.ID == "" || strings.TrimSpace(a.Email) == "" {
		return errors.New("save agent: no id or email")
	}
	return nil
}

// Capacity returns how many assigned conversations the agent takes.
func (a *Agent) Capacity() int {
	if a.MaxChats <= 0 {
		return DefaultMaxChats
	}
	return a.MaxChats
}

// InTeam reports whether the agent belongs to the team.
func (a *Agent) InTeam(team string) bool {
	return team != "" && slices.Contains(a.Teams, team)
}

// NewAgent is what it takes to create an agent account.
type NewAgent struct {
	Name     string
	Email    string
	Role     Role
	Teams    []string
	MaxChats int // 0: DefaultMaxChats
	Password string
}

// Password length limits. bcrypt ignores bytes past 72, so longer
// passwords are refused rather than silently truncated.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// AgentsOptions configure Agents. The zero value is usable.
type AgentsOptions struct {
	// SessionTTL is how long a login lasts (default 12 hours, fixed from
	// login: using a session does not extend it).
	SessionTTL time.Duration
	// MaxFailures failed logins within FailureWindow, for one email or one
	// remote address, lock further attempts for that key until the oldest
	// failure leaves the window (defaults 5 and 15 minutes). Attempts
	// under way count as failures until they succeed.
	MaxFailures   int
	FailureWindow time.Duration
	// PasswordCost is the bcrypt cost (default bcrypt.DefaultCost). Tests
	// lower it to bcrypt.MinCost.
	PasswordCost int
	// PasswordChecks is how many passwords are checked at once at most
	// (default 4); an attempt waits up to CheckWait (default 2 s) for its
	// turn, then fails with ErrBusy.
	PasswordChecks int
	CheckWait      time.Duration
	Log            *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Agents manages agent accounts and their login sessions. Accounts and
// sessions are durable (Store); the login rate limiter is in memory and
// starts empty after a restart. Agents is safe for concurrent use.
type Agents struct {
	store   Store
	opts    AgentsOptions
	limiter *limiter
	checks  chan struct{} // a token for each password check under way
	// dummyHash is compared against when the email is unknown, so that a
	// failed login takes as long whether or not the account exists.
	dummyOnce sync.Once
	dummyHash []byte
}

// NewAgents returns Agents keeping accounts and sessions in st.
func NewAgents(st Store, opts AgentsOptions) *Agents {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	if opts.FailureWindow <= 0 {
		opts.FailureWindow = 15 * time.Minute
	}
	if opts.PasswordCost == 0 {
		opts.PasswordCost = bcrypt.DefaultCost
	}
	if opts.PasswordChecks <= 0 {
		opts.PasswordChecks = 4
	}
	if opts.CheckWait <= 0 {
		opts.CheckWait = 2 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Agents{store: st, opts: opts, limiter: newLimiter(opts.MaxFailures, opts.FailureWindow), checks: make(chan struct{}, opts.PasswordChecks)}
}

// Add creates an agent account after validating n: a name, a plain email
// address not used by another agent (ErrEmailTaken), a known role, a
// password of MinPasswordLen to MaxPasswordLen bytes and a MaxChats that
// is not negative. When Add returns, the account is stored.
func (as *Agents) Add(ctx context.Context, n NewAgent) (*Agent, error) {
	name := strings.TrimSpace(n.Name)
	if name == "" {
		return nil, fmt.Errorf("add agent: %w: name is required", ErrInvalid)
	}
	email, err := normalEmail(n.Email)
	if err != nil {
		return nil, fmt.Errorf("add agent: %w", err)
	}
	if !n.Role.Valid() {
		return nil, fmt.Errorf("add agent: %w: role %q is not agent, supervisor or admin", ErrInvalid, n.Role)
	}
	if n.MaxChats < 0 {
		return nil, fmt.Errorf("add agent: %w: max chats %d is negative", ErrInvalid, n.MaxChats)
	}
	hash, err := as.hash(n.Password)
	if err != nil {
		return nil, fmt.Errorf("add agent: %w", err)
	}
	if n.MaxChats == 0 {
		n.MaxChats = DefaultMaxChats
	}
	a := &Agent{
		ID: bot.NewID("agt_"), Name: name, Email: email, Role: n.Role,
		Teams: cleanTeams(n.Teams), MaxChats: n.MaxChats,
		PasswordHash: string(hash), Created: as.opts.Now().UTC(),
	}
	if err := as.store.SaveAgent(ctx, a); err != nil {
		return nil, fmt.Errorf("add agent %s: %w", email, err)
	}
	as.opts.Log.Info("agent added", "agent", a.ID, "role", a.Role)
	return a, nil
}

// SetPassword replaces the agent's password and ends all its sessions,
// so that a leaked password or token stops working everywhere. It asks
// for no current password: it is for admins and the command line; an
// agent changing its own password goes through ChangePassword.
func (as *Agents) SetPassword(ctx context.Context, id, password string) error {
	hash, err := as.hash(password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", id, err)
	}
	a, err := as.store.Agent(ctx, id)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", id, err)
	}
	a.PasswordHash = string(hash)
	if err := as.store.SaveAgent(ctx, a); err != nil {
		return fmt.Errorf("set password of %s: %w", id, err)
	}
	return as.endSessions(ctx, id)
}

// ChangePassword is an agent changing its own password: it replaces the
// password as SetPassword does, but only given the current one, so that
// whoever holds a stolen session cannot lock the agent out and keep the
// account. The current password is checked as a login's is, counted
// against the agent's email and remoteAddr: a wrong one fails with
// ErrBadCredentials, too many with ErrRateLimited, too many checks at
// once with ErrBusy. A new password of the wrong length fails with
// ErrInvalid before anything is checked.
func (as *Agents) ChangePassword(ctx context.Context, id, current, password, remoteAddr string) error {
	if err := validPassword(password); err != nil {
		return fmt.Errorf("change password of %s: %w", id, err)
	}
	a, err := as.store.Agent(ctx, id)
	if err != nil {
		return fmt.Errorf("change password of %s: %w", id, err)
	}
	if _, err := as.verify(ctx, a.Email, current, remoteAddr); err != nil {
		return fmt.Errorf("change password of %s: %w", id, err)
	}
	return as.SetPassword(ctx, id, password)
}

// Disable disables the agent's account and ends its sessions: the agent
// can no longer log in, routing skips it, and its open session tokens stop
// working at once. Conversations it owns stay with it until a supervisor
// transfers them.
func (as *Agents) Disable(ctx context.Context, id string) error {
	a, err := as.store.Agent(ctx, id)
	if err != nil {
		return fmt.Errorf("disable agent %s: %w", id, err)
	}
	if !a.Disabled {
		a.Disabled = true
		if err := as.store.SaveAgent(ctx, a); err != nil {
			return fmt.Errorf("disable agent %s: %w", id, err)
		}
	}
	as.opts.Log.Info("agent disabled", "agent", id)
	return as.endSessions(ctx, id)
}

// List returns every agent, disabled ones too.
func (as *Agents) List(ctx context.Context) ([]Agent, error) {
	list, err := as.store.Agents(ctx)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return list, nil
}

// Agent returns the agent with the id, or ErrNotFound.
func (as *Agents) Agent(ctx context.Context, id string) (*Agent, error) {
	a, err := as.store.Agent(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load agent %s: %w", id, err)
	}
	return a, nil
}

func (as *Agents) endSessions(ctx context.Context, agentID string) error {
	_, err := as.store.DeleteSessions(ctx, func(s Session) bool { return s.AgentID == agentID })
	if err != nil {
		return fmt.Errorf("end sessions of %s: %w", agentID, err)
	}
	return nil
}

// validPassword fails with ErrInvalid unless the password's length is
// within MinPasswordLen and MaxPasswordLen.
func validPassword(password string) error {
	switch {
	case len(password) < MinPasswordLen:
		return fmt.Errorf("%w: password shorter than %d bytes", ErrInvalid, MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("%w: password longer than %d bytes", ErrInvalid, MaxPasswordLen)
	}
	return nil
}

func (as *Agents) hash(password string) ([]byte, error) {
	if err := validPassword(password); err != nil {
		return nil, err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), as.opts.PasswordCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// normalEmail returns the address in lower case if s is a plain email
// address (no display name, no angle brackets).
func normalEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", fmt.Errorf("%w: email %q is not an address like name@example.com", ErrInvalid, s)
	}
	return strings.ToLower(s), nil
}

func cleanTeams(teams []string) []string {
	var out []string
	for _, t := range teams {
		t = strings.TrimSpace(t)
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// usableAgent loads the agent that is to act or be given work, failing
// with ErrNotFound or ErrDisabled.
func usableAgent(ctx context.Context, st AgentStore, id string) (*Agent, error) {
	a, err := st.Agent(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("agent %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load agent %s: %w", id, err)
	}
	if a.Disabled {
		return nil, fmt.Errorf("agent %s: %w", id, ErrDisabled)
	}
	return a, nil
}

// Enable lets a disabled agent log in and be routed to again.
func (as *Agents) Enable(ctx context.Context, id string) error {
	a, err := as.store.Agent(ctx, id)
	if err != nil {
		return fmt.Errorf("enable agent %s: %w", id, err)
	}
	if a.Disabled {
		a.Disabled = false
		if err := as.store.SaveAgent(ctx, a); err != nil {
			return fmt.Errorf("enable agent %s: %w", id, err)
		}
	}
	return nil
}

// ByEmail returns the agent with the email address, or ErrNotFound.
func (as *Agents) ByEmail(ctx context.Context, email string) (*Agent, error) {
	a, err := as.store.AgentByEmail(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("find agent %s: %w", email, err)
	}
	return a, nil
}
