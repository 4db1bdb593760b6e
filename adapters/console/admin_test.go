package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/wait"
	"github.com/frontdesk/frontdesk/store/bolt"
	"github.com/frontdesk/frontdesk/store/records"
)

func TestAdminsManageAgentsWhileTheServerRuns(t *testing.T) {
	r := newRig(t, manual)
	root := r.login(r.addAgent("Root", handoff.RoleAdmin))
	sup := r.login(r.addAgent("Sue", handoff.RoleSupervisor))

	body := map[string]any{"name": "Nina", "email": "nina@example.com", "role": "agent", "teams": []string{"repairs"}, "password": "nina's password"}
	sup.must(http.StatusForbidden, "POST", "/api/agent/agents", body)
	a := root.must(http.StatusCreated, "POST", "/api/agent/agents", body)
	id, _ := a["id"].(string)
	if id == "" || a["role"] != "agent" || a["email"] != "nina@example.com" {
		t.Fatalf("created %v", a)
	}
	root.must(http.StatusConflict, "POST", "/api/agent/agents", body)
	root.must(http.StatusBadRequest, "POST", "/api/agent/agents", map[string]any{"name": "X", "email": "x@example.com", "password": "short"})

	login := func(pw string) int {
		status, _ := r.anon().call("POST", "/api/agent/login", map[string]string{"email": "nina@example.com", "password": pw})
		return status
	}
	if got := login("nina's password"); got != http.StatusOK {
		t.Fatalf("the new agent cannot log in: %d", got)
	}
	nina := &agentClient{r: r, agent: &handoff.Agent{ID: id}}
	_, b := r.anon().call("POST", "/api/agent/login", map[string]string{"email": "nina@example.com", "password": "nina's password"})
	nina.token = b["token"].(string)

	// An agent may change its own password, not another's.
	nina.must(http.StatusForbidden, "POST", "/api/agent/agents/"+sup.agent.ID+"/password", map[string]string{"password": "a new password"})
	nina.must(http.StatusOK, "POST", "/api/agent/agents/"+id+"/password", map[string]string{"password": "nina's new password", "current_password": "nina's password"})
	nina.must(http.StatusUnauthorized, "GET", "/api/agent/me", nil) // the change ends its sessions
	if login("nina's password") != http.StatusUnauthorized || login("nina's new password") != http.StatusOK {
		t.Error("the password did not change")
	}

	sup.must(http.StatusForbidden, "POST", "/api/agent/agents/"+id+"/disable", nil)
	root.must(http.StatusBadRequest, "POST", "/api/agent/agents/"+root.agent.ID+"/disable", nil)
	root.must(http.StatusNotFound, "POST", "/api/agent/agents/agt_nobody/disable", nil)
	if d := root.must(http.StatusOK, "POST", "/api/agent/agents/"+id+"/disable", nil); d["disabled"] != true {
		t.Errorf("disable answered %v", d)
	}
	if got := login("nina's new password"); got != http.StatusUnauthorized {
		t.Errorf("a disabled agent logged in: %d", got)
	}
	root.must(http.StatusOK, "POST", "/api/agent/agents/"+id+"/enable", nil)
	if got := login("nina's new password"); got != http.StatusOK {
		t.Errorf("an enabled agent cannot log in: %d", got)
	}
}

func TestChangingOnesOwnPasswordNeedsTheCurrentOne(t *testing.T) {
	r := newRig(t, manual)
	annAgent := r.addAgent("Ann", handoff.RoleAgent)
	ann := r.login(annAgent)
	path := "/api/agent/agents/" + annAgent.ID + "/password"
	login := func(pw string) int {
		status, _ := r.anon().call("POST", "/api/agent/login", map[string]string{"email": "ann@example.com", "password": pw})
		return status
	}

	// A stolen session alone cannot change the password.
	ann.must(http.StatusBadRequest, "POST", path, map[string]string{"password": "the thief's password"})
	ann.must(http.StatusForbidden, "POST", path, map[string]string{"password": "the thief's password", "current_password": "a guess"})
	ann.must(http.StatusOK, "GET", "/api/agent/me", nil) // refused changes end no session
	if login("the thief's password") != http.StatusUnauthorized {
		t.Fatal("the password changed without the current one")
	}
	// Wrong current passwords count as failed logins (two so far): no
	// endless guessing.
	for range 3 {
		ann.must(http.StatusForbidden, "POST", path, map[string]string{"password": "the thief's password", "current_password": "another guess"})
	}
	ann.must(http.StatusTooManyRequests, "POST", path, map[string]string{"password": "the thief's password", "current_password": password})
}

func TestAgentsChangeTheirOwnPasswordWithTheCurrentOne(t *testing.T) {
	r := newRig(t, manual)
	annAgent := r.addAgent("Ann", handoff.RoleAgent)
	ann := r.login(annAgent)
	path := "/api/agent/agents/" + annAgent.ID + "/password"
	ann.must(http.StatusBadRequest, "POST", path, map[string]string{"password": "short", "current_password": password})
	ann.must(http.StatusOK, "POST", path, map[string]string{"password": "battery staple horse", "current_password": password})
	ann.must(http.StatusUnauthorized, "GET", "/api/agent/me", nil)
	if status, _ := r.anon().call("POST", "/api/agent/login", map[string]string{"email": "ann@example.com", "password": "battery staple horse"}); status != http.StatusOK {
		t.Errorf("login with the new password: %d", status)
	}
}

func TestAdminsResetOtherAgentsPasswordsWithoutTheirCurrentOne(t *testing.T) {
	r := newRig(t, manual)
	root := r.login(r.addAgent("Root", handoff.RoleAdmin))
	bob := r.addAgent("Bob", handoff.RoleAgent)
	root.must(http.StatusOK, "POST", "/api/agent/agents/"+bob.ID+"/password", map[string]string{"password": "bob's new password"})
	if status, _ := r.anon().call("POST", "/api/agent/login", map[string]string{"email": "bob@example.com", "password": "bob's new password"}); status != http.StatusOK {
		t.Errorf("Bob's login with the password the admin set: %d", status)
	}
	// An admin's own password is its own: the current one is needed.
	root.must(http.StatusBadRequest, "POST", "/api/agent/agents/"+root.agent.ID+"/password", map[string]string{"password": "root's new password"})
	root.must(http.StatusOK, "POST", "/api/agent/agents/"+root.agent.ID+"/password", map[string]string{"password": "root's new password", "current_password": password})
}

func TestAdminsBackUpExportAndForgetWhileTheServerRuns(t *testing.T) {
	r := newRig(t, manual)
	root := r.login(r.addAgent("Root", handoff.RoleAdmin))
	sup := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	c := r.waitingCustomer()
	c.Send(map[string]any{"type": "profile", "name": "Wilhelmina Oakes", "email": "w.oakes@example.org"})
	conv := root.must(http.StatusOK, "GET", conversationPath(c.conversation), nil)
	customerID := conv["conversation"].(map[string]any)["customer_id"].(string)
	// A profile frame has no reply: wait until it is stored.
	wait.For(t, 5*time.Second, "the customer's email stored", func() bool {
		cust, err := r.db.Customer(context.Background(), customerID)
		return err == nil && cust.Email == "w.oakes@example.org"
	})
	exportPath := "/api/agent/admin/customers/" + customerID + "/export"
	forgetPath := "/api/agent/admin/customers/" + customerID + "/forget"

	t.Run("only admins", func(t *testing.T) {
		sup.must(http.StatusForbidden, "GET", "/api/agent/admin/backup", nil)
		sup.must(http.StatusForbidden, "GET", exportPath, nil)
		sup.must(http.StatusForbidden, "POST", forgetPath, nil)
		r.anon().must(http.StatusUnauthorized, "GET", "/api/agent/admin/backup", nil)
	})
	t.Run("a backup is a whole database file", func(t *testing.T) {
		resp, err := http.DefaultClient.Do(root.request("GET", "/api/agent/admin/backup", nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="frontdesk-`) {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		path := filepath.Join(t.TempDir(), "backup.db")
		f, _ := os.Create(path)
		io.Copy(f, resp.Body)
		f.Close()
		contents, err := bolt.Verify(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if contents.Customers != 1 || contents.Conversations != 1 || contents.Agents != 2 {
			t.Errorf("the backup holds %+v", contents)
		}
	})
	t.Run("an export is everything about the customer", func(t *testing.T) {
		root.must(http.StatusNotFound, "GET", "/api/agent/admin/customers/cus_nobody/export", nil)
		resp, err := http.DefaultClient.Do(root.request("GET", exportPath, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var exp records.Export
		if err := json.NewDecoder(resp.Body).Decode(&exp); err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Content-Disposition") != `attachment; filename="customer-`+customerID+`.json"` {
			t.Errorf("disposition %q", resp.Header.Get("Content-Disposition"))
		}
		if exp.Customer.ID != customerID || exp.Customer.Email != "w.oakes@example.org" || len(exp.Conversations) != 1 ||
			len(exp.Conversations[0].Messages) < 4 || len(exp.Conversations[0].Tickets) != 1 {
			t.Errorf("export %+v", exp)
		}
	})
	t.Run("forget waits until people are done with the conversation", func(t *testing.T) {
		root.must(http.StatusConflict, "POST", forgetPath, nil)
		root.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
		root.must(http.StatusOK, "POST", conversationPath(c.conversation, "return-to-bot"), nil)
		// Cookie-authenticated erasure is a write: it needs a JSON body.
		req := root.withCookie().request("POST", forgetPath, nil)
		if status, _ := root.do(req); status != http.StatusForbidden {
			t.Errorf("cookie without JSON: %d, want 403", status)
		}
		got := root.must(http.StatusOK, "POST", forgetPath, nil)
		if got["customer_id"] != customerID || got["customers"] != 1.0 || got["conversations"] != 1.0 {
			t.Errorf("forget answered %v", got)
		}
		root.must(http.StatusNotFound, "GET", conversationPath(c.conversation), nil)
		root.must(http.StatusNotFound, "GET", exportPath, nil)
		root.must(http.StatusNotFound, "POST", forgetPath, nil)
	})
}
