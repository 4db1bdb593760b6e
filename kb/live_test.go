package kb

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// copyShop copies testdata/shop into a fresh directory the test may edit.
func copyShop(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir("testdata/shop")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join("testdata/shop", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newLiveShop(t *testing.T, dir string) *Live {
	t.Helper()
	c, err := Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	k, err := Build(context.Background(), c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLive(k, c, Options{})
	t.Cleanup(func() { l.Close() })
	return l
}

func answers(t *testing.T, l *Live, q string) string {
	t.Helper()
	d, err := l.Decide(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != Answer {
		return d.Kind.String()
	}
	return d.Article.ID
}

func TestLiveReloadKeepsABrokenArticleAndAddsANewOne(t *testing.T) {
	dir := copyShop(t)
	l := newLiveShop(t, dir)
	ctx := context.Background()
	if got := answers(t, l, "how can i track my package"); got != "track-order" {
		t.Fatalf("before: %q", got)
	}
	// An editor breaks the article: its previous version keeps serving.
	if err := os.WriteFile(filepath.Join(dir, "track-order.md"), []byte("---\nid: track-order\ntitle: [unclosed\n---\nbody\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := l.Reload(ctx, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Kept, []string{"track-order"}) {
		t.Errorf("kept %v, want [track-order]", st.Kept)
	}
	if !slices.ContainsFunc(st.Problems, func(p Problem) bool { return p.File == "track-order.md" }) {
		t.Errorf("problems %v do not name the broken file", st.Problems)
	}
	if got := answers(t, l, "how can i track my package"); got != "track-order" {
		t.Errorf("with the file broken: %q, want the old track-order", got)
	}
	a, _ := l.Article("track-order")
	if a == nil || a.Title != "Where is my package?" {
		t.Errorf("article %+v, want the previous version", a)
	}

	// A new article is answered once reloaded.
	const giftCards = "---\nid: gift-cards\ntitle: Do you sell gift cards?\nquestions:\n  - do you sell gift cards\n  - can I buy a gift card\n  - gift voucher for a friend\n---\nYes: gift cards from 10 to 200 euros, sent by email.\n"
	if err := os.WriteFile(filepath.Join(dir, "gift-cards.md"), []byte(giftCards), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reload(ctx, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if got := answers(t, l, "can I buy a gift card"); got != "gift-cards" {
		t.Errorf("new article: %q, want gift-cards", got)
	}
	if got := answers(t, l, "how can i track my package"); got != "track-order" {
		t.Errorf("still broken: %q, want the kept track-order", got)
	}

	// Fixed with new text: the new version serves and nothing is kept.
	fixed := "---\nid: track-order\ntitle: Track your parcel\nquestions:\n  - how can i track my package\n  - where is my package\n---\nOpen the tracking link.\n"
	if err := os.WriteFile(filepath.Join(dir, "track-order.md"), []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err = l.Reload(ctx, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Kept) != 0 {
		t.Errorf("kept %v after the fix", st.Kept)
	}
	if a, _ := l.Article("track-order"); a == nil || a.Title != "Track your parcel" {
		t.Errorf("after the fix: %+v", a)
	}

	// A deleted file takes its article away.
	if err := os.Remove(filepath.Join(dir, "gift-cards.md")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reload(ctx, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Article("gift-cards"); ok {
		t.Error("a deleted article still serves")
	}
}

// TestLiveSearchesDuringReloads searches from many goroutines while the
// content is reloaded again and again: every search sees a whole index
// (none fails on a closed or half-built one).
func TestLiveSearchesDuringReloads(t *testing.T) {
	dir := copyShop(t)
	l := newLiveShop(t, dir)
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := l.Decide(ctx, "how can i track my package")
				if err != nil {
					errs <- err.Error()
					return
				}
				if d.Kind != Answer || d.Article.ID != "track-order" {
					errs <- "answered " + d.Kind.String()
					return
				}
			}
		})
	}
	for i := range 6 {
		extra := []byte("---\nid: extra\ntitle: Extra " + string(rune('a'+i)) + "\nquestions: [extra question]\n---\nExtra.\n")
		if err := os.WriteFile(filepath.Join(dir, "extra.md"), extra, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Reload(ctx, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
