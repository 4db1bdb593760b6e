// Package origin decides which web pages may open Frontdesk's websockets
// and call its cookie-authenticated APIs: the server's own pages, and the
// sites an operator allowed (--allowed-origins). The customer channel and
// the agent console share it, so the two can never disagree.
package origin

import (
	"net/http"
	"net/url"
	"strings"
)

// Allowed reports whether the request may proceed: it has no Origin
// header (not sent by a browser, so no cross-site risk), or its Origin is
// this server's own host, or one of allowed (scheme://host[:port],
// compared without case and a trailing slash; "*" allows any). A browser's
// "null" origin is refused.
func Allowed(r *http.Request, allowed []string) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(strings.TrimSuffix(a, "/"), o) {
			return true
		}
	}
	return false
}
