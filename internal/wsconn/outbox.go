package wsconn

import "sync"

// outbox is a connection's queue of frames for its writer. It holds
// memory only for the frames waiting, up to a limit: an idle connection
// costs one empty slice, a burst grows it, and a client that lets the
// limit fill is too slow and is disconnected (see Conn.Send).
type outbox struct {
	mu     sync.Mutex
	frames []any
	limit  int
	// ready wakes the writer; room wakes a producer waiting for space.
	// Each holds at most one signal.
	ready chan struct{}
	room  chan struct{}
}

func (o *outbox) init(limit int) {
	o.limit, o.ready, o.room = limit, make(chan struct{}, 1), make(chan struct{}, 1)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// push queues f and returns how many frames were waiting before it, or
// reports false when the outbox is full.
func (o *outbox) push(f any) (depth int, ok bool) {
	o.mu.Lock()
	depth = len(o.frames)
	if depth >= o.limit {
		o.mu.Unlock()
		return depth, false
	}
	o.frames = append(o.frames, f)
	o.mu.Unlock()
	signal(o.ready)
	return depth, true
}

// pushWait queues f, waiting for room while the outbox is full, until
// done is closed (false).
func (o *outbox) pushWait(f any, done <-chan struct{}) bool {
	for {
		if _, ok := o.push(f); ok {
			return true
		}
		select {
		case <-o.room:
		case <-done:
			return false
		}
	}
}

// take returns the waiting frames, oldest first, and empties the outbox.
// The writer calls it when ready fires.
func (o *outbox) take() []any {
	o.mu.Lock()
	fs := o.frames
	o.frames = nil
	o.mu.Unlock()
	if len(fs) > 0 {
		signal(o.room)
	}
	return fs
}
