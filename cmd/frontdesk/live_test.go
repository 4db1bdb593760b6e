package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeFollowsTheContentDirectory runs serve on a content directory,
// breaks an article and adds one: /readyz reports the broken file while
// the server stays ready, the broken article's previous version keeps
// answering, and the new article is found, all without a restart.
func TestServeFollowsTheContentDirectory(t *testing.T) {
	dir := shopContent(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	withStdin(t, "correct horse battery\n")
	if _, _, err := runCmd(t, "agent", "add", "--data-dir", dataDir, "--name", "Ana", "--email", "ana@example.com", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	base := startServeIn(t, dataDir, "--content", dir)
	token := loginToken(t, base, "ana@example.com", "correct horse battery")
	top := func(q string) string {
		id, title := topHit(t, base, token, q)
		if id == "" {
			return ""
		}
		return id + ": " + title
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("after 15 s: %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	readyz := func() (int, []string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rep healthReport
		json.NewDecoder(resp.Body).Decode(&rep)
		return resp.StatusCode, rep.Content
	}
	if got := top("how can i track my package"); !strings.HasPrefix(got, "track-order: Where is my package?") {
		t.Fatalf("before: %q", got)
	}
	if got := sample(families(t, base+"/metrics"), "frontdesk_kb_articles"); got != 3 {
		t.Errorf("frontdesk_kb_articles = %v, want 3", got)
	}

	if err := os.WriteFile(filepath.Join(dir, "track-order.md"), []byte("---\nid: track-order\ntitle: [oops\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually("/readyz names the broken file", func() bool {
		_, content := readyz()
		return strings.Contains(strings.Join(content, "\n"), "track-order.md")
	})
	if code, _ := readyz(); code != http.StatusOK {
		t.Errorf("/readyz %d with a broken content file, want 200 (the old version serves)", code)
	}
	req, _ := http.NewRequest("GET", base+"/api/agent/insights/content", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Kept []string `json:"kept"`
	}
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if len(st.Kept) != 1 || st.Kept[0] != "track-order" {
		t.Errorf("console content status keeps %v, want [track-order]", st.Kept)
	}
	if got := top("how can i track my package"); !strings.HasPrefix(got, "track-order: Where is my package?") {
		t.Errorf("with the file broken: %q, want the previous version", got)
	}

	gift := "---\nid: gift-cards\ntitle: Gift cards\nquestions:\n  - do you sell gift cards\n  - can I buy a gift card\n---\nYes, from 10 to 200 euros.\n"
	if err := os.WriteFile(filepath.Join(dir, "gift-cards.md"), []byte(gift), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually("the new article is found", func() bool { return strings.HasPrefix(top("can I buy a gift card"), "gift-cards") })
	// The metric counts the articles served now: five files, one broken
	// (its previous version kept), one new.
	if got := sample(families(t, base+"/metrics"), "frontdesk_kb_articles"); got != 4 {
		t.Errorf("frontdesk_kb_articles = %v after the reload, want 4", got)
	}
}

// loginToken logs an agent in over the API and returns the bearer token.
func loginToken(t *testing.T, base, email, password string) string {
	t.Helper()
	body := strings.NewReader(`{"email":"` + email + `","password":"` + password + `"}`)
	resp, err := http.Post(base+"/api/agent/login", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("login %s: %d %v", email, resp.StatusCode, err)
	}
	return out.Token
}
