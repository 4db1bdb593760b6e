package metrics

import (
	"bufio"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
)

// HTTPOptions name the endpoints HTTP measures; the paths come from the
// adapters' routes, which this package does not know.
type HTTPOptions struct {
	// WebSockets maps the path of a websocket endpoint to its channel:
	// its upgraded connections count in frontdesk_connections while open.
	WebSockets map[string]string
	// APIs maps a path prefix to its channel: its error responses count
	// in frontdesk_errors_total by code, and a 429 as a refusal.
	APIs map[string]string
}

// HTTP wraps the server's handler to measure the endpoints o names;
// other requests pass through untouched. A websocket connection counts
// from the moment the handler takes it over (hijacks it) until the
// handler returns, which for Frontdesk's websockets is when the
// connection ends.
func (m *Metrics) HTTP(next http.Handler, o HTTPOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, isWS := o.WebSockets[r.URL.Path]
		api := ""
		for prefix, ch := range o.APIs {
			if strings.HasPrefix(r.URL.Path, prefix) {
				api = ch
				break
			}
		}
		if !isWS && api == "" {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w}
		if isWS {
			rec.hijacked = func() { m.ConnOpened(ws) }
		}
		next.ServeHTTP(rec, r)
		switch {
		case rec.upgraded:
			m.ConnClosed(ws)
		case api != "" && rec.status >= 400:
			m.Error(api, statusCode(rec.status))
			if rec.status == http.StatusTooManyRequests {
				m.Refused(api, "rate_limited")
			}
		}
	})
}

// statusCode maps an HTTP error status to the error codes the core uses.
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusMethodNotAllowed:
		return "invalid"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal"
	}
	return "invalid"
}

// recorder remembers a response's status, and whether the connection was
// taken over for a websocket.
type recorder struct {
	http.ResponseWriter
	status   int
	upgraded bool
	hijacked func() // called once the connection is taken over
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the recorder.
func (r *recorder) Flush() { http.NewResponseController(r.ResponseWriter).Flush() }

// Hijack lets the websocket upgrader take the connection over.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && !r.upgraded {
		r.upgraded = true
		if r.hijacked != nil {
			r.hijacked()
		}
	}
	return c, rw, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// DebugRoutes registers Go's profiler on mux under /debug/pprof/ (index,
// cmdline, profile, symbol, trace, and every named profile: heap,
// goroutine, allocs, block, mutex, threadcreate). Register it only on a
// private listener: profiles reveal the program's internals and cost CPU.
// (Importing net/http/pprof also registers it on http.DefaultServeMux,
// which Frontdesk never serves.)
func DebugRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
