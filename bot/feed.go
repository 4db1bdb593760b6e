package bot

import "sync"

// Feed fans values out to subscribers in this process, by key. Publish
// never blocks: a subscriber whose buffer is full is dropped (its channel
// closed and Lagged set) and must catch up from durable state. The zero
// value is ready to use. Bus is a Feed of conversation events; the agent
// queue keeps one of its own.
type Feed[E any] struct {
	mu   sync.Mutex
	subs map[string]map[*Sub[E]]struct{} // by key; "" = everything
}

// Sub receives a Feed's values for one key, or for all.
type Sub[E any] struct {
	feed   *Feed[E]
	key    string
	c      chan E
	mu     sync.Mutex
	closed bool
	lagged bool
}

// Subscribe returns a subscription to the values published under key, or
// to every value when key is "". buffer bounds how many values may wait
// for the subscriber before it is dropped.
func (f *Feed[E]) Subscribe(key string, buffer int) *Sub[E] {
	s := &Sub[E]{feed: f, key: key, c: make(chan E, max(buffer, 1))}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[string]map[*Sub[E]]struct{}{}
	}
	m := f.subs[key]
	if m == nil {
		m = map[*Sub[E]]struct{}{}
		f.subs[key] = m
	}
	m[s] = struct{}{}
	return s
}

// Publish delivers e, in publishing order, to the subscribers of key and
// to those of everything.
func (f *Feed[E]) Publish(key string, e E) {
	keys := []string{""}
	if key != "" {
		keys = append(keys, key)
	}
	f.mu.Lock()
	var lagging []*Sub[E]
	for _, k := range keys {
		for s := range f.subs[k] {
			select {
			case s.c <- e:
			default:
				lagging = append(lagging, s)
				delete(f.subs[k], s)
			}
		}
	}
	f.mu.Unlock()
	for _, s := range lagging {
		s.shut(true)
	}
}

// C delivers the values; it is closed by Close or when the subscriber
// lagged.
func (s *Sub[E]) C() <-chan E { return s.c }

// Lagged reports whether values were dropped because the buffer was full.
func (s *Sub[E]) Lagged() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lagged
}

// Close ends the subscription. It is safe to call more than once.
func (s *Sub[E]) Close() {
	f := s.feed
	f.mu.Lock()
	delete(f.subs[s.key], s)
	if len(f.subs[s.key]) == 0 {
		delete(f.subs, s.key)
	}
	f.mu.Unlock()
	s.shut(false)
}

func (s *Sub[E]) shut(lagged bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed, s.lagged = true, lagged
		close(s.c)
	}
}

// LagAll drops every subscriber as lagged: the publisher may have missed
// values (its source was cut off), so each must catch up from durable
// state.
func (f *Feed[E]) LagAll() {
	f.mu.Lock()
	var lagging []*Sub[E]
	for _, m := range f.subs {
		for s := range m {
			lagging = append(lagging, s)
		}
	}
	f.subs = nil
	f.mu.Unlock()
	for _, s := range lagging {
		s.shut(true)
	}
}
