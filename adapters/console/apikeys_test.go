package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

func TestAdminsManageAPIKeys(t *testing.T) {
	r := newRig(t, manual)
	root := r.login(r.addAgent("Root", handoff.RoleAdmin))
	sup := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	body := map[string]any{"name": "shop backend", "scope": "write"}
	sup.must(http.StatusForbidden, "POST", "/api/agent/admin/apikeys", body)
	root.must(http.StatusBadRequest, "POST", "/api/agent/admin/apikeys", map[string]any{"name": "x", "scope": "admin"})
	k := root.must(http.StatusCreated, "POST", "/api/agent/admin/apikeys", body)
	text, _ := k["key"].(string)
	id, _ := k["id"].(string)
	if !strings.HasPrefix(text, "fd_"+id+"_") || k["scope"] != "write" {
		t.Fatalf("created %v", k)
	}
	ctx := context.Background()
	if _, err := bot.CheckAPIKey(ctx, r.db, text); err != nil {
		t.Fatalf("the new key does not work: %v", err)
	}
	list := root.must(http.StatusOK, "GET", "/api/agent/admin/apikeys", nil)
	keys := list["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["key"] != nil || keys[0].(map[string]any)["hash"] != nil {
		t.Errorf("list %v shows more than it should", list)
	}
	root.must(http.StatusNotFound, "DELETE", "/api/agent/admin/apikeys/nokey", nil)
	if v := root.must(http.StatusOK, "DELETE", "/api/agent/admin/apikeys/"+id, nil); v["revoked"] == nil {
		t.Errorf("revoke answered %v", v)
	}
	if _, err := bot.CheckAPIKey(ctx, r.db, text); err == nil {
		t.Error("a revoked key still works")
	}
}
