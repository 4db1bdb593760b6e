package web

import (
	"encoding/json"
	"net/http"

	"github.com/frontdesk/frontdesk/bot"
)

// The demo shop page's "log in as a demo customer" switch: the page asks
// this server, standing in for the shop's own server, for the demo
// customer's identity signed with the identity secret, and hands it to
// Frontdesk.identify. It signs one fixed customer only, and only with
// Options.DemoLogin: a real shop signs its customers on its own server.

// DemoCustomerID is the external id of the demo customer.
const DemoCustomerID = "demo-ana"

// demoIdentity is the demo customer as the shop's page identifies them.
type demoIdentity struct {
	UserID     string            `json:"user_id"`
	Name       string            `json:"name"`
	Email      string            `json:"email"`
	Attributes map[string]string `json:"attributes"`
	UserHash   string            `json:"user_hash"`
}

// handleDemoLogin answers the demo customer's signed identity, or 404
// when the demo login is off (or no identity secret is set).
func (s *Server) handleDemoLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.opts.DemoLogin || len(s.opts.IdentitySecret) == 0 {
			http.NotFound(w, r)
			return
		}
		id := demoIdentity{
			UserID: DemoCustomerID, Name: "Ana Demo", Email: "ana@demo.example",
			Attributes: map[string]string{"last_order": "Arco floor lamp", "order_status": "shipped", "order_number": "LC-10424"},
			UserHash:   bot.UserHash(s.opts.IdentitySecret, DemoCustomerID),
		}
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		json.NewEncoder(w).Encode(id)
	})
}
