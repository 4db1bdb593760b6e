package console

import (
	"errors"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// cookieName is the session cookie. It holds the same token as the one
// login returns for Authorization: Bearer.
const cookieName = "frontdesk_agent"

// session is the logged-in agent a request acts for.
type session struct {
	agent *handoff.Agent
	token string
	hash  []byte    // the stored session's token hash
	exp   time.Time // when the session ends
	// cookie: the token came in the session cookie, so the request may
	// have been made by another site in the agent's browser (CSRF).
	cookie bool
}

// agentHandler handles a request made by a logged-in agent.
type agentHandler func(w http.ResponseWriter, r *http.Request, s *session)

// credentials returns the request's session token: from Authorization:
// Bearer, else (for the websocket, which browsers cannot give headers)
// from ?token=, else from the session cookie.
func credentials(r *http.Request, query bool) (token string, cookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", false
		}
		return strings.TrimSpace(tok), false
	}
	if query {
		if tok := r.URL.Query().Get("token"); tok != "" {
			return tok, false
		}
	}
	if c, err := r.Cookie(cookieName); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// authenticate returns the session of the request. A missing, unknown,
// expired or logged-out token, or a disabled agent, is handoff.ErrNoSession
// or handoff.ErrDisabled; anything else is a failure of the store.
func (s *Server) authenticate(r *http.Request, query bool) (*session, error) {
	token, cookie := credentials(r, query)
	if token == "" {
		return nil, handoff.ErrNoSession
	}
	a, sess, err := s.agents.Authenticate(r.Context(), token)
	if err != nil {
		return nil, err
	}
	return &session{agent: a, token: token, hash: sess.TokenHash, exp: sess.Expires, cookie: cookie}, nil
}

// authed runs h for a logged-in agent. It answers 401 without a valid
// session. A request authenticated by cookie that changes something must
// also pass the CSRF check (see csrfProblem), else 403.
func (s *Server) authed(h agentHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.authenticate(r, false)
		if !s.authOK(w, r, err) {
			return
		}
		if sess.cookie && r.Method != http.MethodGet && r.Method != http.MethodHead {
			if msg := s.csrfProblem(r); msg != "" {
				s.opts.Log.Warn("console request refused as cross-site", "agent", sess.agent.ID, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
				writeError(w, http.StatusForbidden, msg)
				return
			}
		}
		h(w, r, sess)
	})
}

// authOK writes the 401 (or 500) for a failed authentication, clearing a
// stale session cookie, and reports whether the request may go on.
func (s *Server) authOK(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, handoff.ErrNoSession), errors.Is(err, handoff.ErrDisabled):
		if _, cerr := r.Cookie(cookieName); cerr == nil {
			clearCookie(w, r)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="frontdesk"`)
		writeError(w, http.StatusUnauthorized, "log in first: no valid agent session")
	default:
		s.opts.Log.Error("authenticate agent", "err", err)
		writeError(w, http.StatusInternalServerError, "could not check the session; try again")
	}
	return false
}

// csrfProblem says why a cookie-authenticated request that changes
// something is refused, or "" if it may go on. Such a request must say
// Content-Type: application/json, which a cross-site form cannot send
// and a cross-site script can only send after a CORS preflight this
// server never grants, and must not come from another site's page.
func (s *Server) csrfProblem(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return "send the request with Content-Type: application/json"
	}
	if !s.originAllowed(r) {
		return "cross-site request refused"
	}
	return ""
}

// secure reports whether the request reached us over TLS, directly or
// through a proxy that says so.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r),
	})
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r),
	})
}

// clientAddr is the address login attempts are counted against: the
// peer's IP. X-Forwarded-For is not trusted, as anyone can send it.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token   string    `json:"token"`
	Agent   agentView `json:"agent"`
	Expires time.Time `json:"expires"`
}

// noAgentsYet is the login error when no agent account exists: a new
// install, whose owner has not yet added the first agent.
const noAgentsYet = `there are no agent accounts yet: on the server, add one with "frontdesk agent add --name NAME --email EMAIL --role admin" (it reads the password from standard input; see "frontdesk agent --help")`

// handleLogin checks an agent's email and password and starts a session:
// the token is returned in the body (for Authorization: Bearer) and set
// as an HttpOnly, SameSite=Strict cookie (for the console page).
func (s *Server) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.originAllowed(r) {
			writeError(w, http.StatusForbidden, "cross-site request refused")
			return
		}
		var in loginRequest
		if !decode(w, r, &in) {
			return
		}
		token, a, err := s.agents.Login(r.Context(), in.Email, in.Password, clientAddr(r))
		switch {
		case errors.Is(err, handoff.ErrRateLimited):
			writeError(w, http.StatusTooManyRequests, "too many failed logins; wait a few minutes and try again")
			return
		case errors.Is(err, handoff.ErrBusy):
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "too many logins at once; try again in a moment")
			return
		case errors.Is(err, handoff.ErrBadCredentials):
			if list, err := s.agents.List(r.Context()); err == nil && len(list) == 0 {
				writeError(w, http.StatusUnauthorized, noAgentsYet)
				return
			}
			writeError(w, http.StatusUnauthorized, "wrong email or password")
			return
		case errors.Is(err, handoff.ErrDisabled):
			writeError(w, http.StatusUnauthorized, "this account is disabled")
			return
		case err != nil:
			s.opts.Log.Error("agent login", "err", err)
			writeError(w, http.StatusInternalServerError, "could not log in; try again")
			return
		}
		_, sess, err := s.agents.Authenticate(r.Context(), token)
		if err != nil {
			s.opts.Log.Error("agent login: read the new session", "agent", a.ID, "err", err)
			writeError(w, http.StatusInternalServerError, "could not log in; try again")
			return
		}
		setCookie(w, r, token, sess.Expires)
		httperr.WriteJSON(w, http.StatusOK, loginResponse{Token: token, Agent: viewAgent(a), Expires: sess.Expires})
	})
}

// handleLogout ends the session, closes the websockets opened with it
// and clears the cookie.
func (s *Server) handleLogout() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if err := s.agents.Logout(r.Context(), sess.token); err != nil {
			s.opts.Log.Error("agent logout", "agent", sess.agent.ID, "err", err)
			writeError(w, http.StatusInternalServerError, "could not log out; try again")
			return
		}
		s.endSession(sess.hash)
		clearCookie(w, r)
		httperr.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
}

type meResponse struct {
	Agent    agentView        `json:"agent"`
	Presence handoff.Presence `json:"presence"`
	Expires  time.Time        `json:"expires"`
}

// handleMe tells the console who is logged in.
func (s *Server) handleMe() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		httperr.WriteJSON(w, http.StatusOK, meResponse{Agent: viewAgent(sess.agent), Presence: s.queue.Presence(sess.agent.ID), Expires: sess.exp})
	})
}

// CloseAgent closes every websocket of the agent, whose sessions were
// ended outside the agent API ("frontdesk agent disable" or "passwd"
// through the running server's admin socket).
func (s *Server) CloseAgent(agentID string) { s.closeAgent(agentID) }
