package api

import (
	"encoding/json"
	"net/http"

	"github.com/frontdesk/frontdesk/bot"
)

// errorBody is every error response, as the agent API's: the message for
// a person under "error" and "message", the code under "code".
type errorBody struct {
	Error   string   `json:"error"`
	Code    bot.Code `json:"code"`
	Message string   `json:"message"`
}

// statusOfCode maps the core's error codes to HTTP statuses: the one
// table of the API.
var statusOfCode = map[bot.Code]int{
	bot.CodeInvalid:      http.StatusBadRequest,
	bot.CodeUnauthorized: http.StatusUnauthorized,
	bot.CodeForbidden:    http.StatusForbidden,
	bot.CodeNotFound:     http.StatusNotFound,
	bot.CodeConflict:     http.StatusConflict,
	bot.CodeRateLimited:  http.StatusTooManyRequests,
	bot.CodeUnavailable:  http.StatusServiceUnavailable,
	bot.CodeInternal:     http.StatusInternalServerError,
}

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
	writeJSON(w, statusOfCode[code], errorBody{Error: msg, Code: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
