// Package asset serves the embedded files of the web widget and the agent
// console: one file a route, with its type, no sniffing, and the headers
// each side adds (its security policy, its caching).
package asset

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
)

// Handler serves the file name of fsys, or 404 when fsys is nil or has no
// such file. headers, if set, adds the side's own headers after the
// common ones (Content-Type, X-Content-Type-Options: nosniff).
func Handler(fsys fs.FS, name string, headers func(h http.Header, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fsys == nil {
			http.NotFound(w, r)
			return
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
		if path.Ext(name) == ".html" {
			h.Set("Content-Type", "text/html; charset=utf-8")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		if headers != nil {
			headers(h, r)
		}
		w.Write(data)
	})
}
