package kb

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEditorWritesAnArticleThatIsAnsweredAtOnce(t *testing.T) {
	dir := copyShop(t)
	l := newLiveShop(t, dir)
	e := NewEditor(os.DirFS(dir), dir, l)
	ctx := context.Background()
	if err := e.Writable(); err != nil {
		t.Fatal(err)
	}
	a := Article{ID: Slug("Do you sell gift cards?"), Title: "Do you sell gift cards?",
		Questions: []string{"Do you sell gift cards?"}, Body: "Yes: gift cards from 10 to 200 euros, sent by email."}
	if a.ID != "do-you-sell-gift-cards" {
		t.Fatalf("slug %q", a.ID)
	}
	name := e.NewFile(a.ID)
	if name != "do-you-sell-gift-cards.md" {
		t.Errorf("new file %q in a flat content directory", name)
	}
	got, probs, err := e.Write(ctx, name, Markdown(a))
	if err != nil || len(probs) > 0 {
		t.Fatalf("write: %v %v", err, probs)
	}
	if got.ID != a.ID || got.Body != a.Body || len(got.Questions) != 1 {
		t.Errorf("wrote %+v", got)
	}
	// The file is valid content, as index --check sees it.
	c, err := Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Problems {
		if p.File == name {
			t.Errorf("the written file has a problem: %v", p)
		}
	}
	if ans := answers(t, l, "do you sell gift cards"); ans != a.ID {
		t.Errorf("the next question is answered with %q, want %q", ans, a.ID)
	}

	// Adding a phrasing to an existing article.
	file, src, ok := e.Source("track-order")
	if !ok || file != "track-order.md" || !strings.Contains(string(src), "where is my package") {
		t.Fatalf("source %q %q %v", file, src, ok)
	}
	cur, _ := l.Article("track-order")
	more := *cur
	more.Questions = append(append([]string(nil), cur.Questions...), "has my lamp shipped")
	if _, probs, err := e.Write(ctx, file, Markdown(more)); err != nil || len(probs) > 0 {
		t.Fatalf("add a phrasing: %v %v", err, probs)
	}
	if a, _ := l.Article("track-order"); a == nil || a.Questions[len(a.Questions)-1] != "has my lamp shipped" {
		t.Errorf("phrasing not added: %+v", a)
	}
}

func TestEditorChecksAsIndexCheckDoes(t *testing.T) {
	dir := copyShop(t)
	l := newLiveShop(t, dir)
	e := NewEditor(os.DirFS(dir), dir, l)
	ctx := context.Background()
	cases := []struct {
		name, file, data, want string
	}{
		{"a missing body", "x.md", "---\nid: x\ntitle: X\nquestions: [x]\n---\n", "missing body"},
		{"an id taken by another file", "x.md", "---\nid: track-order\ntitle: X\nquestions: [x]\n---\nBody.\n", "duplicate id"},
		{"an id taken by a file sorted after it", "a.md", "---\nid: track-order\ntitle: X\nquestions: [x]\n---\nBody.\n", "duplicate id"},
		{"bad YAML", "x.md", "---\nid: x\ntitle: [x\n---\nBody.\n", "bad front matter"},
		{"an unknown related id", "x.md", "---\nid: x\ntitle: X\nquestions: [x]\nrelated: [nope]\n---\nBody.\n", "related id"},
	}
	for _, tc := range cases {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, probs, err := e.Write(ctx, tc.file, []byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if len(probs) == 0 || !strings.Contains(probs[0].Msg, tc.want) {
				t.Fatalf("problems %v, want one about %q", probs, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, tc.file)); !os.IsNotExist(err) {
				t.Errorf("the refused file was written")
			}
		})
	}
	for _, name := range []string{"../x.md", "x.txt", "/etc/x.md", "README.md", ".x.md"} {
		if _, _, err := e.Check(name, []byte("---\nid: x\ntitle: X\n---\nB\n")); err == nil {
			t.Errorf("Check accepted the file name %q", name)
		}
	}
	t.Run("embedded content is not writable", func(t *testing.T) {
		ro := NewEditor(os.DirFS(dir), "", l)
		if _, _, err := ro.Write(ctx, "x.md", Markdown(Article{ID: "x", Title: "X", Body: "B"})); !errors.Is(err, ErrNotWritable) {
			t.Errorf("got %v, want ErrNotWritable", err)
		}
	})
}

func TestMarkdownRoundTrips(t *testing.T) {
	a := Article{ID: "a-b", Title: `Quotes "and": colons`, Questions: []string{"one?", "- two"}, Tags: []string{"x"},
		Related: []string{"c"}, Handoff: true, Body: "Line one.\n\n**Bold** line."}
	got, _, probs := parseArticle("a-b.md", Markdown(a))
	if got == nil || len(probs) > 0 {
		t.Fatalf("parse %s: %v", Markdown(a), probs)
	}
	got.File = ""
	if got.Title != a.Title || strings.Join(got.Questions, "|") != "one?|- two" || !got.Handoff || got.Body != a.Body || got.Related[0] != "c" {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, a)
	}
}

// TestEditorSharesBeforeItWrites: with SetShare, a checked article is
// handed to share first; when share fails nothing is written here, so
// the nodes never disagree about an edit one of them refused.
func TestEditorSharesBeforeItWrites(t *testing.T) {
	dir := copyShop(t)
	e := NewEditor(os.DirFS(dir), dir, newLiveShop(t, dir))
	ctx := context.Background()
	a := Article{ID: "gift-cards", Title: "Do you sell gift cards?", Questions: []string{"do you sell gift cards"}, Body: "Yes."}
	data := Markdown(a)
	down := errors.New("database down")
	e.SetShare(func(context.Context, string, []byte) error { return down })
	if _, _, err := e.Write(ctx, "gift-cards.md", data); !errors.Is(err, down) {
		t.Errorf("write with a failing share: %v, want its error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gift-cards.md")); !os.IsNotExist(err) {
		t.Errorf("the file was written though sharing it failed: %v", err)
	}
	var shared []string
	e.SetShare(func(_ context.Context, name string, b []byte) error {
		if !bytes.Equal(b, data) {
			t.Errorf("shared %q, want the article's file", b)
		}
		shared = append(shared, name)
		return nil
	})
	if _, probs, err := e.Write(ctx, "gift-cards.md", data); err != nil || len(probs) > 0 {
		t.Fatalf("write: %v %v", err, probs)
	}
	if !slices.Equal(shared, []string{"gift-cards.md"}) {
		t.Errorf("shared %v, want the one file", shared)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "gift-cards.md")); err != nil || !bytes.Equal(got, data) {
		t.Errorf("written %q, %v", got, err)
	}
}

// TestWriteArticleFileStaysInsideTheDirectory: a name from elsewhere (a
// cluster's stored edits) that is no article file inside the directory
// is refused and nothing is written.
func TestWriteArticleFileStaysInsideTheDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "content")
	for _, name := range []string{"../escape.md", "/etc/x.md", "articles/../../escape.md", "notes.txt", ".hidden.md", "README.md"} {
		if err := WriteArticleFile(dir, name, []byte("x")); err == nil {
			t.Errorf("%q written", name)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "escape.md")); !os.IsNotExist(err) {
		t.Errorf("a file was written outside the content directory: %v", err)
	}
	if err := WriteArticleFile(dir, "articles/new.md", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "articles", "new.md")); err != nil || string(got) != "x" {
		t.Errorf("articles/new.md: %q, %v", got, err)
	}
}
