package console

import (
	"net/http"

	"github.com/frontdesk/frontdesk/internal/asset"
)

// Routes registers the console on mux:
//
//	GET  /console                      the console page
//	GET  /console/console.js           its script
//	GET  /console/console.css          its styles
//	POST /api/agent/login              start a session (cookie and token)
//	POST /api/agent/logout             end it
//	GET  /api/agent/me                 who is logged in
//	POST /api/agent/presence           set presence without a websocket
//	GET  /api/agent/queue              waiting tickets, and the agent's own
//	GET  /api/agent/inbox?view=&q=     Mine/Unassigned/All/Resolved, with search (inbox.go)
//	GET  /api/agent/conversations/{id} transcript, customer, suggestions
//	GET  /api/agent/conversations/{id}/suggestions  articles for the latest question
//	POST /api/agent/conversations/{id}/claim
//	POST /api/agent/conversations/{id}/messages
//	POST /api/agent/conversations/{id}/transfer
//	POST /api/agent/conversations/{id}/escalate
//	POST /api/agent/conversations/{id}/resolve
//	POST /api/agent/conversations/{id}/return-to-bot
//	POST /api/agent/conversations/{id}/article   save a question and reply as an article (articles.go)
//	GET  /api/agent/admin/articles/{id}          an article's file (admins)
//	POST /api/agent/admin/articles/check         validate and preview a file (admins)
//	PUT  /api/agent/admin/articles               write a file (admins)
//	POST /api/agent/customers/{id}     segment, dedicated agent
//	GET  /api/agent/agents             agents with presence and load, teams
//	POST /api/agent/agents             add an agent (admins; admin.go)
//	POST /api/agent/agents/{id}/disable|enable|password
//	GET  /api/agent/canned             canned replies
//	GET  /api/agent/articles?q=        knowledge base search
//	GET  /api/agent/dashboard          supervisors' overview
//	GET  /api/agent/insights/gaps?since=7d   knowledge gaps (supervisors; insights.go)
//	GET  /api/agent/stats?from=…&to=…  the dashboard over time, JSON or CSV (supervisors; stats.go)
//	GET  /api/agent/insights/content   the live content's problems (supervisors)
//	GET  /api/agent/admin/backup       a consistent copy of the database (admins; admin.go)
//	GET  /api/agent/admin/customers/{id}/export   everything about a customer, as JSON (admins)
//	POST /api/agent/admin/customers/{id}/forget   erase a customer for good (admins)
//	POST   /api/agent/admin/apikeys       make a customer API key (admins; apikeys.go)
//	GET    /api/agent/admin/apikeys       list them (admins)
//	DELETE /api/agent/admin/apikeys/{id}  revoke one (admins)
//	GET    /api/agent/admin/webhooks      the outgoing webhooks' state and last failures (admins; webhooks.go)
//	GET  /api/agent/ws                 the agent websocket
//
// docs/agent-api.md is the contract.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.Handle("GET /console", s.handleAsset("index.html"))
	mux.Handle("GET /console/{$}", http.RedirectHandler("/console", http.StatusMovedPermanently))
	mux.Handle("GET /console/console.js", s.handleAsset("console.js"))
	mux.Handle("GET /console/console.css", s.handleAsset("console.css"))
	mux.Handle("GET /console/insights.js", s.handleAsset("insights.js"))

	mux.Handle("POST /api/agent/login", s.handleLogin())
	mux.Handle("POST /api/agent/logout", s.handleLogout())
	mux.Handle("GET /api/agent/me", s.handleMe())
	mux.Handle("POST /api/agent/presence", s.handlePresence())
	mux.Handle("GET /api/agent/queue", s.handleQueue())
	mux.Handle("GET /api/agent/inbox", s.handleInbox())
	mux.Handle("GET /api/agent/conversations/{id}", s.handleConversation())
	mux.Handle("GET /api/agent/conversations/{id}/suggestions", s.handleSuggestions())
	mux.Handle("POST /api/agent/conversations/{id}/claim", s.handleClaim())
	mux.Handle("POST /api/agent/conversations/{id}/messages", s.handleMessage())
	mux.Handle("POST /api/agent/conversations/{id}/attachments", s.handleSendAttachment())
	mux.Handle("POST /api/agent/conversations/{id}/read", s.handleRead())
	mux.Handle("GET /api/agent/conversations/{id}/attachments/{attachment}", s.handleAttachment())
	mux.Handle("POST /api/agent/conversations/{id}/transfer", s.handleTransfer())
	mux.Handle("POST /api/agent/conversations/{id}/escalate", s.handleEscalate())
	mux.Handle("POST /api/agent/conversations/{id}/resolve", s.handleResolve())
	mux.Handle("POST /api/agent/conversations/{id}/return-to-bot", s.handleReturnToBot())
	mux.Handle("POST /api/agent/conversations/{id}/article", s.handleSaveAnswer())
	mux.Handle("GET /api/agent/admin/articles/{id}", s.handleArticleSource())
	mux.Handle("POST /api/agent/admin/articles/check", s.handleArticleCheck())
	mux.Handle("PUT /api/agent/admin/articles", s.handleArticleSave())
	mux.Handle("POST /api/agent/customers/{id}", s.handleCustomer())
	mux.Handle("GET /api/agent/agents", s.handleAgents())
	mux.Handle("POST /api/agent/agents", s.handleAddAgent())
	mux.Handle("POST /api/agent/agents/{id}/disable", s.handleAgentStatus(true))
	mux.Handle("POST /api/agent/agents/{id}/enable", s.handleAgentStatus(false))
	mux.Handle("POST /api/agent/agents/{id}/password", s.handleAgentPassword())
	mux.Handle("GET /api/agent/canned", s.handleCanned())
	mux.Handle("GET /api/agent/articles", s.handleArticles())
	mux.Handle("GET /api/agent/dashboard", s.handleDashboard())
	mux.Handle("GET /api/agent/insights/gaps", s.handleGaps())
	mux.Handle("GET /api/agent/stats", s.handleStats())
	mux.Handle("GET /api/agent/insights/content", s.handleContentStatus())
	mux.Handle("GET /api/agent/admin/backup", s.handleBackup())
	mux.Handle("GET /api/agent/admin/customers/{id}/export", s.handleExportCustomer())
	mux.Handle("POST /api/agent/admin/customers/{id}/forget", s.handleForgetCustomer())
	s.apiKeyRoutes(mux)
	mux.Handle("GET /api/agent/ws", s.handleWS())
	// Anything else under the API answers in JSON too.
	mux.Handle("/api/agent/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	}))
}

// csp lets the console page load its own script and styles and talk to
// its own server, and nothing else: no inline script, no framing.
func csp(r *http.Request) string {
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self' ws://" + r.Host + " wss://" + r.Host + "; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// handleAsset serves one embedded file of the console.
func (s *Server) handleAsset(name string) http.Handler {
	return asset.Handler(s.opts.Assets, name, func(h http.Header, r *http.Request) {
		h.Set("Content-Security-Policy", csp(r))
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		// Small files; always revalidate so that an upgrade shows at once.
		h.Set("Cache-Control", "no-cache")
	})
}
