package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/adapters/api"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/kbtest"
	"github.com/frontdesk/frontdesk/store/bolt"
)

type rig struct {
	t      *testing.T
	url    string
	db     *bolt.DB
	path   string
	engine *bot.Engine
}

func newRig(t *testing.T) *rig {
	t.Helper()
	k := kbtest.Shop(t)
	path := filepath.Join(t.TempDir(), "frontdesk.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := bot.NewEngine(k, db, bot.NewBus(), bot.Options{})
	mux := http.NewServeMux()
	api.NewServer(e, db, db, api.Options{}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &rig{t: t, url: srv.URL, db: db, path: path, engine: e}
}

// key stores a new key with the scope and returns the text to present.
func (r *rig) key(scope bot.Scope) (bot.APIKey, string) {
	r.t.Helper()
	k, text, err := bot.NewAPIKey("shop backend "+string(scope), scope, time.Now())
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.db.PutAPIKey(context.Background(), k); err != nil {
		r.t.Fatal(err)
	}
	return k, text
}

func (r *rig) do(method, path, key, body string) (int, map[string]any) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		r.t.Fatalf("%s %s: body %q is not JSON: %v", method, path, data, err)
	}
	return resp.StatusCode, out
}

func TestAPIKeysAreStoredHashed(t *testing.T) {
	r := newRig(t)
	k, text := r.key(bot.ScopeWrite)
	_, secret, ok := bot.ParseAPIKey(text)
	if !ok || !strings.HasPrefix(text, "fd_"+k.ID+"_") {
		t.Fatalf("key text %q does not parse", text)
	}
	stored, err := r.db.APIKey(context.Background(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Hash == "" || strings.Contains(stored.Hash, secret) {
		t.Errorf("stored key %+v holds the secret", stored)
	}
	r.db.Close()
	file, err := os.ReadFile(r.path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(secret)) {
		t.Error("the database file holds the key's secret")
	}
	if !bytes.Contains(file, []byte(stored.Hash)) {
		t.Error("the database file does not hold the key's hash (is it stored at all?)")
	}
}

func TestAuthorization(t *testing.T) {
	r := newRig(t)
	_, read := r.key(bot.ScopeRead)
	revoked, revokedText := r.key(bot.ScopeWrite)
	revoked.Revoked = time.Now()
	if err := r.db.PutAPIKey(context.Background(), revoked); err != nil {
		t.Fatal(err)
	}
	_, write := r.key(bot.ScopeWrite)
	id, _, _ := bot.ParseAPIKey(write)
	for _, tc := range []struct {
		name, method, key string
		status            int
		code              string
	}{
		{"no key is unauthorized", "GET", "", 401, "unauthorized"},
		{"a made-up key is unauthorized", "GET", "fd_" + id + "_guess", 401, "unauthorized"},
		{"a revoked key is unauthorized", "GET", revokedText, 401, "unauthorized"},
		{"a read key cannot write", "PUT", read, 403, "forbidden"},
		{"a read key cannot forget", "DELETE", read, 403, "forbidden"},
		{"a read key reads", "GET", read, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := r.do(tc.method, "/api/v1/customers/shop-1", tc.key, `{"name":"Ana"}`)
			if status != tc.status || body["code"] != tc.code || body["message"] == "" {
				t.Errorf("%d %v, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
	if _, err := r.engine.CustomerByExternalID(context.Background(), "shop-1"); err == nil {
		t.Error("a refused PUT created the customer")
	}
}

func TestPutIsIdempotent(t *testing.T) {
	r := newRig(t)
	_, write := r.key(bot.ScopeWrite)
	body := `{"name":"Ana Lima","email":"ana@shop.example","segment":"VIP","tags":["lamps"],
		"attributes":{"order_status":"shipped","last_order":"Arco floor lamp","orders":3}}`
	status, first := r.do("PUT", "/api/v1/customers/shop-42", write, body)
	if status != 201 {
		t.Fatalf("first PUT %d %v, want 201", status, first)
	}
	status, second := r.do("PUT", "/api/v1/customers/shop-42", write, body)
	if status != 200 {
		t.Fatalf("second PUT %d %v, want 200", status, second)
	}
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if !bytes.Equal(a, b) {
		t.Errorf("second PUT answered\n%s\nfirst\n%s", b, a)
	}
	attrs := first["attributes"].(map[string]any)
	if first["segment"] != "vip" || attrs["orders"] != "3" || attrs["last_order"] != "Arco floor lamp" || first["external_id"] != "shop-42" {
		t.Errorf("customer %v", first)
	}
	all, err := r.db.ListCustomers(context.Background(), 0)
	if err != nil || len(all) != 1 {
		t.Errorf("customers %v %v, want one", all, err)
	}
	// A later PUT changes only what it gives.
	status, third := r.do("PUT", "/api/v1/customers/shop-42", write, `{"attributes":{"order_status":"delivered"}}`)
	if status != 200 || third["name"] != "Ana Lima" || third["attributes"].(map[string]any)["order_status"] != "delivered" {
		t.Errorf("partial PUT %d %v", status, third)
	}
	for _, bad := range []string{`{"attributes":{"x":{"nested":1}}}`, `{"attributes":{"merged_into":"cus_x"}}`, `{"segment":"not a segment!"}`, `{"nmae":"typo"}`, `[1]`} {
		if status, body := r.do("PUT", "/api/v1/customers/shop-42", write, bad); status != 400 || body["code"] != "invalid" {
			t.Errorf("PUT %s: %d %v, want 400 invalid", bad, status, body)
		}
	}
}

func TestConversationsAndForget(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	_, write := r.key(bot.ScopeWrite)
	if status, body := r.do("PUT", "/api/v1/customers/shop-7", write, `{"name":"Ben"}`); status != 201 {
		t.Fatalf("PUT %d %v", status, body)
	}
	visitor := bot.Identity{Channel: bot.Web, ID: "visitor-hash"}
	if _, err := r.engine.Identify(ctx, visitor, bot.Verified{ExternalID: "shop-7"}); err != nil {
		t.Fatal(err)
	}
	s, err := r.engine.Start(ctx, visitor, bot.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, ClientID: "c1", Text: "how do I return a lamp"}); err != nil {
		t.Fatal(err)
	}
	status, body := r.do("GET", "/api/v1/conversations?customer=shop-7&since=2000-01-01T00:00:00Z", write, "")
	convs, _ := body["conversations"].([]any)
	if status != 200 || len(convs) != 1 {
		t.Fatalf("conversations %d %v", status, body)
	}
	log := convs[0].(map[string]any)["log"].([]any)
	if len(log) < 3 || log[1].(map[string]any)["text"] != "how do I return a lamp" {
		t.Errorf("log %v", log)
	}
	if _, body := r.do("GET", "/api/v1/conversations?customer=shop-7&since=2999-01-01T00:00:00Z", write, ""); len(body["conversations"].([]any)) != 0 {
		t.Errorf("conversations since the future: %v", body)
	}
	if status, body := r.do("GET", "/api/v1/conversations?customer=shop-7&since=yesterday", write, ""); status != 400 || body["code"] != "invalid" {
		t.Errorf("bad since: %d %v", status, body)
	}
	status, body = r.do("GET", "/api/v1/customers/shop-7", write, "")
	if status != 200 || len(body["conversations"].([]any)) != 1 || body["customer"].(map[string]any)["name"] != "Ben" {
		t.Errorf("GET customer %d %v", status, body)
	}
	status, body = r.do("DELETE", "/api/v1/customers/shop-7", write, "")
	if status != 200 || body["erased"].(map[string]any)["customers"] != 1.0 {
		t.Fatalf("DELETE %d %v", status, body)
	}
	if status, _ := r.do("GET", "/api/v1/customers/shop-7", write, ""); status != 404 {
		t.Errorf("GET after DELETE %d, want 404", status)
	}
	if _, err := r.engine.CustomerByIdentity(ctx, visitor); err == nil {
		t.Error("the visitor's identity outlived the forget")
	}
}
