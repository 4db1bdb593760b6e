package console_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/testclock"
)

func TestLoginGivesATokenAndAStrictCookie(t *testing.T) {
	r := newRig(t, manual)
	ann := r.addAgent("Ann", handoff.RoleAgent, "billing")

	req := r.anon().request("POST", "/api/agent/login", map[string]string{"email": "ANN@example.com", "password": password})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "frontdesk_agent" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Secure || cookie.Value == "" {
		t.Errorf("session cookie %+v, want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP", cookie)
	}

	c := r.login(ann)
	me := c.must(http.StatusOK, "GET", "/api/agent/me", nil)
	agent := me["agent"].(map[string]any)
	if agent["id"] != ann.ID || agent["email"] != "ann@example.com" || agent["role"] != "agent" || agent["name"] != "Ann" {
		t.Errorf("me %v", me)
	}
	if teams, _ := agent["teams"].([]any); len(teams) != 1 || teams[0] != "billing" {
		t.Errorf("teams %v", agent["teams"])
	}
	if _, leaked := agent["password_hash"]; leaked {
		t.Error("the password hash is in the response")
	}
	// The same session works as a cookie.
	c.withCookie().must(http.StatusOK, "GET", "/api/agent/me", nil)
}

func TestTheCookieIsSecureBehindATLSProxy(t *testing.T) {
	r := newRig(t, manual)
	r.addAgent("Ann", handoff.RoleAgent)
	req := r.anon().request("POST", "/api/agent/login", map[string]string{"email": "ann@example.com", "password": password})
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cs := resp.Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("cookies %+v, want one Secure cookie", cs)
	}
}

func TestLoginRefusesWrongPasswordsThenRateLimits(t *testing.T) {
	r := newRig(t, manual)
	r.addAgent("Ann", handoff.RoleAgent)
	anon := r.anon()
	for _, body := range []map[string]string{
		{"email": "ann@example.com", "password": "wrong password"},
		{"email": "nobody@example.com", "password": password},
		{"email": "ann@example.com"},
	} {
		status, m := anon.call("POST", "/api/agent/login", body)
		if status != http.StatusUnauthorized || m["error"] == "" || m["token"] != nil {
			t.Errorf("login %v: %d %v, want 401 with an error", body, status, m)
		}
	}
	for range 2 {
		anon.must(http.StatusUnauthorized, "POST", "/api/agent/login", map[string]string{"email": "ann@example.com", "password": "guess"})
	}
	// Five failures: even the right password waits now.
	status, m := anon.call("POST", "/api/agent/login", map[string]string{"email": "ann@example.com", "password": password})
	if status != http.StatusTooManyRequests || m["error"] == "" {
		t.Errorf("login after 5 failures: %d %v, want 429", status, m)
	}
	if status, _ := anon.call("POST", "/api/agent/login", map[string]string{"email": "x"}); status != http.StatusTooManyRequests {
		t.Errorf("from the same address: %d, want 429", status)
	}
}

func TestLoginWithBrokenJSONIs400(t *testing.T) {
	r := newRig(t, manual)
	req, err := http.NewRequest("POST", r.http.URL+"/api/agent/login", strings.NewReader("{not json"))
	if err != nil {
		t.Fatal(err)
	}
	if status, m := r.anon().do(req); status != http.StatusBadRequest || m["error"] == "" {
		t.Errorf("%d %v, want 400", status, m)
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	r := newRig(t, manual)
	c := r.login(r.addAgent("Ann", handoff.RoleAgent))
	c.must(http.StatusOK, "POST", "/api/agent/logout", nil)
	c.must(http.StatusUnauthorized, "GET", "/api/agent/me", nil)
	c.must(http.StatusUnauthorized, "POST", "/api/agent/logout", nil)
}

func TestEveryRouteNeedsASession(t *testing.T) {
	r := newRig(t, manual)
	c := r.newCustomer()
	routes := []struct{ method, path string }{
		{"GET", "/api/agent/me"},
		{"POST", "/api/agent/logout"},
		{"POST", "/api/agent/presence"},
		{"GET", "/api/agent/queue"},
		{"GET", conversationPath(c.conversation)},
		{"POST", conversationPath(c.conversation, "claim")},
		{"POST", conversationPath(c.conversation, "messages")},
		{"POST", conversationPath(c.conversation, "transfer")},
		{"POST", conversationPath(c.conversation, "escalate")},
		{"POST", conversationPath(c.conversation, "resolve")},
		{"POST", conversationPath(c.conversation, "return-to-bot")},
		{"POST", "/api/agent/customers/cus_x"},
		{"GET", "/api/agent/agents"},
		{"GET", "/api/agent/canned"},
		{"GET", "/api/agent/articles?q=delivery"},
		{"GET", "/api/agent/dashboard"},
		{"GET", "/api/agent/ws"},
	}
	// The customer's visitor token is a secret of the web channel; it is
	// no agent session, however it is presented.
	visitor := &agentClient{r: r, token: c.token}
	for _, rt := range routes {
		for name, client := range map[string]*agentClient{
			"no session":             r.anon(),
			"visitor token":          visitor,
			"visitor token (cookie)": visitor.withCookie(),
			"unknown token":          {r: r, token: "not-a-session"},
		} {
			status, m := client.call(rt.method, rt.path, map[string]any{})
			if status != http.StatusUnauthorized || m["error"] == nil {
				t.Errorf("%s %s with %s: %d %v, want 401 with an error", rt.method, rt.path, name, status, m)
			}
		}
	}
	if _, resp, err := r.dialAgent(nil, "?token="+c.token); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("agent websocket with the visitor token as ?token=: err %v, resp %v; want 401", err, resp)
	}
	if _, resp, err := r.dialAgent(http.Header{"Authorization": {"Bearer " + c.token}}, ""); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("agent websocket with the visitor token as bearer: err %v; want 401", err)
	}
}

func TestCookieRequestsMustBeJSONAndSameOrigin(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	cookie := ann.withCookie()
	cases := []struct {
		name        string
		contentType string
		origin      string
		client      *agentClient
		want        int
	}{
		{"a form post with the cookie", "application/x-www-form-urlencoded", "", cookie, http.StatusForbidden},
		{"a text/plain post with the cookie", "text/plain", "", cookie, http.StatusForbidden},
		{"no content type with the cookie", "", "", cookie, http.StatusForbidden},
		{"JSON from another site with the cookie", "application/json", "https://evil.example", cookie, http.StatusForbidden},
		{"JSON from the console with the cookie", "application/json", r.http.URL, cookie, http.StatusOK},
		{"JSON without Origin with the cookie", "application/json; charset=utf-8", "", cookie, http.StatusOK},
		{"a bearer token without content type", "", "https://evil.example", ann, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.client.request("POST", "/api/agent/presence", map[string]string{"presence": "online"})
			req.Header.Del("Content-Type")
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if status, m := tc.client.do(req); status != tc.want {
				t.Errorf("%d %v, want %d", status, m, tc.want)
			}
		})
	}
	// Reading needs no such care.
	cookie.must(http.StatusOK, "GET", "/api/agent/queue", nil)
}

func TestLoginFromAnotherSiteIsRefused(t *testing.T) {
	r := newRig(t, manual)
	r.addAgent("Ann", handoff.RoleAgent)
	req := r.anon().request("POST", "/api/agent/login", map[string]string{"email": "ann@example.com", "password": password})
	req.Header.Set("Origin", "https://evil.example")
	if status, _ := r.anon().do(req); status != http.StatusForbidden {
		t.Errorf("cross-site login: %d, want 403", status)
	}
}

func TestUnknownAPIPathsAnswerJSON404(t *testing.T) {
	r := newRig(t, manual)
	c := r.login(r.addAgent("Ann", handoff.RoleAgent))
	if status, m := c.call("GET", "/api/agent/nothing-here", nil); status != http.StatusNotFound || m["error"] == nil {
		t.Errorf("%d %v", status, m)
	}
}
func TestTheLoginLimitHoldsAgainstSimultaneousAttempts(t *testing.T) {
	clock := testclock.New(time.Now())
	r := newRigWithAgents(t, manual, handoff.AgentsOptions{PasswordCost: bcrypt.DefaultCost, Now: clock.Now})
	r.addAgent("Ann", handoff.RoleAgent)
	const attempts, limit = 200, 5 // limit: the default of handoff.AgentsOptions.MaxFailures

	// 199 wrong passwords and then the right one, all at once.
	statuses := make([]int, attempts)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attempts {
		pw := "wrong password " + strconv.Itoa(i)
		if i == attempts-1 {
			pw = password
		}
		req := r.anon().request("POST", "/api/agent/login", map[string]string{"email": "ann@example.com", "password": pw})
		wg.Go(func() {
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	t.Logf("%d simultaneous logins: %d × 401, %d × 200, %d × 429, %d × 503", attempts,
		count[http.StatusUnauthorized], count[http.StatusOK], count[http.StatusTooManyRequests], count[http.StatusServiceUnavailable])
	if other := attempts - count[http.StatusUnauthorized] - count[http.StatusOK] - count[http.StatusTooManyRequests] - count[http.StatusServiceUnavailable]; other > 0 {
		t.Errorf("%d answers were none of 401, 200, 429, 503: %v", other, count)
	}
	// Every 401 and 200 had its password checked. At most limit wrong
	// guesses may be; the right password, when it got a slot, gives it
	// back, so it may be checked on top.
	if count[http.StatusUnauthorized] > limit {
		t.Errorf("%d wrong passwords were checked, want at most %d", count[http.StatusUnauthorized], limit)
	}
	if checked := count[http.StatusUnauthorized] + count[http.StatusOK]; checked > limit+1 {
		t.Errorf("%d passwords were checked, want at most %d", checked, limit+1)
	}

	// The email (and the address) stay locked for the window...
	if status, _ := r.anon().call("POST", "/api/agent/login", map[string]string{"email": "ann@example.com", "password": password}); count[http.StatusUnauthorized] == limit && status != http.StatusTooManyRequests {
		t.Errorf("the right password right after %d failures: %d, want 429", limit, status)
	}
	// ...and after it the right password works again.
	clock.Add(15 * time.Minute)
	if status, m := r.anon().call("POST", "/api/agent/login", map[string]string{"email": "ann@example.com", "password": password}); status != http.StatusOK {
		t.Errorf("the right password after the window: %d %v, want 200", status, m)
	}
}

// TestLoginWithNoAgentsSaysHowToAddOne: on a new install the login's
// error tells the owner how to create the first account, and stops
// saying so once one exists.
func TestLoginWithNoAgentsSaysHowToAddOne(t *testing.T) {
	r := newRig(t, manual)
	anon := r.anon()
	body := map[string]string{"email": "ann@example.com", "password": password}
	status, m := anon.call("POST", "/api/agent/login", body)
	if msg, _ := m["error"].(string); status != http.StatusUnauthorized || !strings.Contains(msg, "frontdesk agent add") {
		t.Errorf("login with no agents: %d %v, want 401 naming frontdesk agent add", status, m)
	}
	r.addAgent("Ben", handoff.RoleAgent)
	status, m = anon.call("POST", "/api/agent/login", body)
	if msg, _ := m["error"].(string); status != http.StatusUnauthorized || msg != "wrong email or password" {
		t.Errorf("login with a wrong email once an agent exists: %d %v", status, m)
	}
}
