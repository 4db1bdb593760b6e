package web

import (
	"net/http"

	"github.com/frontdesk/frontdesk/internal/asset"
)

// Routes registers the web channel's endpoints on mux:
//
//	GET /ws          the customer websocket
//	GET /widget.js   the chat widget (one script tag)
//	GET /widget.css  its styles
//	GET /{$}         the demo shop page with the widget
//	GET /home        the widget's first screen (topics, reply time, team)
//	POST /attachments                      a visitor's file (docs/protocol.md)
//	GET  /attachments/{conversation}/{id}  a file of the visitor's conversation
//	GET /demo.js     the demo page's "log in as a demo customer" switch
//	GET /demo/login  the demo customer's signed identity (Options.DemoLogin; demo.go)
func (s *Server) Routes(mux *http.ServeMux) {
	mux.Handle("GET /ws", s.handleWS())
	mux.Handle("GET /home", s.handleHome())
	mux.Handle("POST /attachments", s.handleUpload())
	mux.Handle("GET /attachments/{conversation}/{id}", s.handleDownload())
	mux.Handle("OPTIONS /attachments/{conversation}/{id}", s.handleDownload())
	mux.Handle("GET /widget.js", s.handleAsset("widget.js"))
	mux.Handle("GET /widget.css", s.handleAsset("widget.css"))
	mux.Handle("GET /{$}", s.handleAsset("index.html"))
	mux.Handle("GET /demo.js", s.handleAsset("demo.js"))
	mux.Handle("GET /demo/login", s.handleDemoLogin())
}

// handleAsset serves one embedded file.
func (s *Server) handleAsset(name string) http.Handler {
	return asset.Handler(s.opts.Assets, name, func(h http.Header, _ *http.Request) {
		h.Set("Cache-Control", "public, max-age=300")
		if name == "index.html" {
			h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'")
			h.Set("Cache-Control", "no-cache")
		} else {
			// The widget is embedded on the shop's own site.
			h.Set("Access-Control-Allow-Origin", "*")
		}
	})
}
