// Package wstest is the websocket client of the adapters' tests: it
// speaks JSON frames to a real server over loopback (the customer's /ws,
// the agent console's /api/agent/ws) and fails the test on an error.
package wstest

import (
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// FrameTimeout is how long Frame waits for the next frame.
const FrameTimeout = 5 * time.Second

// Conn is one test client's websocket. Its methods are called from the
// test's goroutine.
type Conn struct {
	T  testing.TB
	WS *websocket.Conn
	// Name says whose frames failed to arrive ("customer", "agent").
	Name string
}

// Dial opens a websocket to url (ws://…) with the header; the
// connection is closed when the test ends.
func Dial(t testing.TB, url string, header http.Header, name string) (*Conn, *http.Response, error) {
	ws, resp, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { ws.Close() })
	return &Conn{T: t, WS: ws, Name: name}, resp, nil
}

// Send writes v as a JSON frame.
func (c *Conn) Send(v any) {
	c.T.Helper()
	if err := c.WS.WriteJSON(v); err != nil {
		c.T.Fatal(err)
	}
}

// Frame reads the next frame as a map, waiting up to FrameTimeout.
func (c *Conn) Frame() map[string]any {
	c.T.Helper()
	c.WS.SetReadDeadline(time.Now().Add(FrameTimeout))
	var m map[string]any
	if err := c.WS.ReadJSON(&m); err != nil {
		c.T.Fatalf("%s: read frame: %v", c.Name, err)
	}
	return m
}

// Until reads frames until one satisfies ok, returning all read.
func (c *Conn) Until(ok func(map[string]any) bool) []map[string]any {
	c.T.Helper()
	var fs []map[string]any
	for {
		f := c.Frame()
		fs = append(fs, f)
		if ok(f) {
			return fs
		}
	}
}
