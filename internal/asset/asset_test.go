package asset

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

func TestHandlerServesTypedFilesWithTheSidesHeaders(t *testing.T) {
	fsys := fstest.MapFS{"index.html": {Data: []byte("<p>hi</p>")}, "app.js": {Data: []byte("1")}}
	extra := func(h http.Header, r *http.Request) { h.Set("X-Side", r.URL.Path) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			Handler(fsys, "index.html", extra).ServeHTTP(w, r)
		case "/app.js":
			Handler(fsys, "app.js", nil).ServeHTTP(w, r)
		case "/gone.js":
			Handler(fsys, "gone.js", extra).ServeHTTP(w, r)
		default:
			Handler(nil, "app.js", extra).ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct{ path, status, typ, side string }{
		{"/", "200 OK", "text/html; charset=utf-8", "/"},
		{"/app.js", "200 OK", "text/javascript; charset=utf-8", ""},
		{"/gone.js", "404 Not Found", "", ""},
		{"/nothing", "404 Not Found", "", ""},
	} {
		res, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Status != tc.status {
			t.Errorf("%s: %s, want %s", tc.path, res.Status, tc.status)
			continue
		}
		if tc.typ == "" {
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tc.typ {
			t.Errorf("%s: type %q, want %q", tc.path, got, tc.typ)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Side") != tc.side {
			t.Errorf("%s: headers %v", tc.path, res.Header)
		}
	}
}
