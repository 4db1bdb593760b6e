package bot

import (
	"context"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/kb"
)

// searchers runs knowledge-base searches on a few long-lived goroutines,
// at most cap(slots) at once, in the order they were asked for.
//
// A search needs a deeper stack than the rest of a turn. Run on the
// connection's own goroutine, whose stack the garbage collector shrinks
// again between its turns, every search under load began by copying
// that stack to a larger one (a tenth of the search's CPU at 3,000
// conversations). A searcher's stack stays grown while it is busy; one
// that has had nothing to do for searcherIdle exits.
type searchers struct {
	answer Answerer
	jobs   chan *searchJob // unbuffered: handed to an idle searcher
	slots  chan struct{}   // one token for each running searcher
	pool   sync.Pool       // of *searchJob
	idle   time.Duration   // how long a searcher waits for work
}

// searcherIdle is how long a searcher without work lives on.
const searcherIdle = 10 * time.Second

// searchJob is one search and, once done is signalled, its result.
type searchJob struct {
	ctx  context.Context
	q    string
	d    kb.Decision
	err  error
	done chan struct{}
}

func newSearchers(a Answerer, n int) *searchers {
	return &searchers{answer: a, jobs: make(chan *searchJob), slots: make(chan struct{}, n), idle: searcherIdle}
}

// decide searches for q on a searcher, waiting for one to be free; it
// gives up waiting when ctx ends.
func (s *searchers) decide(ctx context.Context, q string) (kb.Decision, error) {
	j, _ := s.pool.Get().(*searchJob)
	if j == nil {
		j = &searchJob{done: make(chan struct{}, 1)}
	}
	j.ctx, j.q = ctx, q
	select {
	case s.jobs <- j:
	default:
		select {
		case s.jobs <- j:
		case s.slots <- struct{}{}:
			go s.run(j)
		case <-ctx.Done():
			j.ctx = nil
			s.pool.Put(j)
			return kb.Decision{}, ctx.Err()
		}
	}
	<-j.done
	d, err := j.d, j.err
	*j = searchJob{done: j.done}
	s.pool.Put(j)
	return d, err
}

// run does j and then whatever is handed to it, until it has been idle
// for s.idle.
func (s *searchers) run(j *searchJob) {
	defer func() { <-s.slots }()
	t := time.NewTimer(s.idle)
	defer t.Stop()
	for {
		j.d, j.err = s.answer.Decide(j.ctx, j.q)
		j.done <- struct{}{}
		t.Reset(s.idle)
		select {
		case j = <-s.jobs:
		case <-t.C:
			return
		}
	}
}
