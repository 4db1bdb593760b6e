package web

// Observer is told what the web channel does, for monitoring; the
// metrics package implements it. Options.Observer is optional. Its
// methods are called on connection goroutines and must be quick and safe
// for concurrent use.
type Observer interface {
	// ObserveSendQueue is told how many frames already wait for a
	// client's writer each time another is queued.
	ObserveSendQueue(depth int)
	// Refused is told of input refused at the edge: reason
	// "rate_limited", "too_large" (a frame over MaxFrame) or "origin".
	Refused(channel, reason string)
	// Error is told the code of every error frame sent to a client.
	Error(channel, code string)
	// ConnOpened and ConnClosed are told when a customer websocket
	// starts and ends.
	ConnOpened(channel string)
	ConnClosed(channel string)
}

// nopObserver is the Observer used when none is given.
type nopObserver struct{}

func (nopObserver) ObserveSendQueue(int)   {}
func (nopObserver) Refused(string, string) {}
func (nopObserver) Error(string, string)   {}
func (nopObserver) ConnOpened(string)      {}
func (nopObserver) ConnClosed(string)      {}
