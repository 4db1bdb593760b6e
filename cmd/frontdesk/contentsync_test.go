package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/pgtest"
)

// shopContent writes kb/testdata/shop's articles, synonyms and negatives
// to a new directory, as an operator's --content directory.
func shopContent(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"track-order.md", "delivery-times.md", "return-item.md", "synonyms.txt", "negatives.txt"} {
		data, err := os.ReadFile(filepath.Join("../../kb/testdata/shop", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// topHit is the article (id and title) an agent's knowledge base search
// on base finds first for q; "" when it finds none.
func topHit(t *testing.T, base, token, q string) (id, title string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/agent/articles?q="+url.QueryEscape(q), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Articles []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"articles"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if len(out.Articles) == 0 {
		return "", ""
	}
	return out.Articles[0].ID, out.Articles[0].Title
}

// topArticle is the id of topHit.
func topArticle(t *testing.T, base, token, q string) string {
	id, _ := topHit(t, base, token, q)
	return id
}

const giftWrap = `---
id: gift-wrap
title: Do you gift wrap?
questions:
  - do you offer gift wrapping
  - can you wrap my order as a present
  - gift wrap my parcel
---
Yes: gift wrapping costs 3 EUR an order.
`

// TestAnArticleEditedOnOneNodeIsAnsweredByEveryNode runs three nodes on
// one PostgreSQL database, each with a content directory of its own: an
// article an admin saves in the console of node 1 is written into node
// 2's directory and answered there without a restart; node 3, started
// afterwards on a fresh copy of the content, has it from the start; and
// a node whose own copy of the file is newer (deployed after the edit)
// keeps its copy.
func TestAnArticleEditedOnOneNodeIsAnsweredByEveryNode(t *testing.T) {
	dsn := pgtest.DB(t)
	withStdin(t, "correct horse battery\n")
	if _, _, err := runCmd(t, "agent", "add", "--store", dsn, "--data-dir", filepath.Join(t.TempDir(), "none"), "--name", "Ana", "--email", "ana@example.com", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	dir1, dir2 := shopContent(t), shopContent(t)
	node1 := startServeIn(t, filepath.Join(t.TempDir(), "node1"), "--store", dsn, "--content", dir1)
	node2 := startServeIn(t, filepath.Join(t.TempDir(), "node2"), "--store", dsn, "--content", dir2)
	token1 := loginToken(t, node1, "ana@example.com", "correct horse battery")
	token2 := loginToken(t, node2, "ana@example.com", "correct horse battery")
	const q = "can you gift wrap my order"
	if got := topArticle(t, node2, token2, q); got == "gift-wrap" {
		t.Fatalf("node 2 knows the article before it was written")
	}
	if code := agentAPI(t, node1, token1, "PUT", "/api/agent/admin/articles", map[string]any{"file": "gift-wrap.md", "markdown": giftWrap}, nil); code != http.StatusCreated {
		t.Fatalf("save the article on node 1: %d", code)
	}
	if got := topArticle(t, node1, token1, q); got != "gift-wrap" {
		t.Errorf("node 1 answers %q with %q, right after saving gift-wrap", q, got)
	}
	start := time.Now()
	for topArticle(t, node2, token2, q) != "gift-wrap" {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("node 2 does not answer with the article saved on node 1 after 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("node 2 answered with the article %v after it was saved on node 1", time.Since(start).Round(time.Millisecond))
	if data, err := os.ReadFile(filepath.Join(dir2, "gift-wrap.md")); err != nil || string(data) != giftWrap {
		t.Errorf("node 2's content directory has %q, %v", data, err)
	}

	// A node started later has it from the start.
	dir3 := shopContent(t)
	node3 := startServeIn(t, filepath.Join(t.TempDir(), "node3"), "--store", dsn, "--content", dir3)
	if got := topArticle(t, node3, loginToken(t, node3, "ana@example.com", "correct horse battery"), q); got != "gift-wrap" {
		t.Errorf("node 3, started after the edit, answers %q with %q", q, got)
	}

	// A copy deployed after the edit is newer: it stays.
	dir4 := shopContent(t)
	deployed := strings.Replace(giftWrap, "3 EUR", "4 EUR", 1)
	mine := filepath.Join(dir4, "gift-wrap.md")
	if err := os.WriteFile(mine, []byte(deployed), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(mine, later, later)
	startServeIn(t, filepath.Join(t.TempDir(), "node4"), "--store", dsn, "--content", dir4)
	if data, _ := os.ReadFile(mine); string(data) != deployed {
		t.Errorf("node 4's newer copy was overwritten with %q", data)
	}
}
