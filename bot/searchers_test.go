package bot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/kbtest"
	"github.com/frontdesk/frontdesk/kb"
)

// gated is the shop's knowledge base with each search held until the
// test lets it go, counting how many run at once.
type gated struct {
	*kb.KB
	enter   chan struct{} // a search has started
	release chan struct{} // lets one search finish
	running atomic.Int32
	most    atomic.Int32
}

func (g *gated) Decide(ctx context.Context, q string) (kb.Decision, error) {
	n := g.running.Add(1)
	for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
	}
	g.enter <- struct{}{}
	<-g.release
	defer g.running.Add(-1)
	return g.KB.Decide(ctx, q)
}

// TestSearchersBoundAndAnswerEachCaller: no more searches run at once than asked
// for, every caller gets the decision for its own question, and a
// caller whose context ends while it waits gives up.
func TestSearchersBoundAndAnswerEachCaller(t *testing.T) {
	shop := kbtest.Shop(t)
	g := &gated{KB: shop, enter: make(chan struct{}), release: make(chan struct{})}
	s := newSearchers(g, 2)
	questions := []string{"where is my parcel", "how do i return an item", "do you ship abroad", "reset my password", "how do i pay"}

	var wg sync.WaitGroup
	got := make([]kb.Decision, len(questions))
	for i, q := range questions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := s.decide(context.Background(), q)
			if err != nil {
				t.Errorf("%q: %v", q, err)
			}
			got[i] = d
		}()
	}
	// Two searches start; the rest wait.
	<-g.enter
	<-g.enter
	select {
	case <-g.enter:
		t.Fatal("a third search started while two were running")
	case <-time.After(50 * time.Millisecond):
	}

	// A caller that gives up while every searcher is busy gets its
	// context's error and takes no searcher.
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() { _, err := s.decide(ctx, "where is my parcel"); gaveUp <- err }()
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: err %v, want context.Canceled", err)
	}

	go func() {
		for range g.enter { // the waiting searches start in turn
		}
	}()
	for range questions {
		g.release <- struct{}{}
	}
	wg.Wait()
	close(g.enter)
	if m := g.most.Load(); m != 2 {
		t.Errorf("at most %d searches ran at once, want 2", m)
	}
	for i, q := range questions {
		want, err := shop.Decide(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if got[i].Kind != want.Kind || got[i].Article != want.Article {
			t.Errorf("%q: got %v %v, want %v %v", q, got[i].Kind, got[i].Article, want.Kind, want.Article)
		}
	}
}

// TestSearchersExitWhenIdle: a searcher with nothing to do goes away and
// gives its slot back, and the next search starts a new one.
func TestSearchersExitWhenIdle(t *testing.T) {
	shop := kbtest.Shop(t)
	s := newSearchers(shop, 1)
	s.idle = 10 * time.Millisecond
	if _, err := s.decide(context.Background(), "where is my parcel"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(s.slots) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the idle searcher did not exit")
		}
		time.Sleep(5 * time.Millisecond)
	}
	d, err := s.decide(context.Background(), "where is my parcel")
	if err != nil || d.Kind != kb.Answer {
		t.Fatalf("after the searcher exited: %v %v, want an answer", d.Kind, err)
	}
}
