package api

import (
	"net/http"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/httperr"
)

// writeError answers with err's code and message; an internal error's
// message is not shown.
func writeError(w http.ResponseWriter, err error) {
	code := bot.ErrorCode(err)
	msg := bot.ErrorMessage(err)
	if code == bot.CodeInternal {
		msg = "internal error; try again"
	}
	if code == bot.CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="frontdesk"`)
	}
	httperr.WriteJSON(w, httperr.StatusOf(code), httperr.NewBody(code, msg))
}
