// Package httperr is the HTTP edge of the core's error codes (bot.Code),
// shared by the agent API and the customer API: one table from code to
// status and back, the body every error answers with, and how both
// write a JSON answer.
package httperr

import (
	"encoding/json"
	"net/http"

	"github.com/frontdesk/frontdesk/bot"
)

// Body is every error response: the message for a person under "error"
// (the agent API's original form) and "message", and the code a program
// branches on under "code".
type Body struct {
	Error   string   `json:"error"`
	Code    bot.Code `json:"code"`
	Message string   `json:"message"`
}

// NewBody is the body of an error with code and message msg.
func NewBody(code bot.Code, msg string) Body { return Body{Error: msg, Code: code, Message: msg} }

// statuses maps the core's error codes to HTTP statuses: the one table.
var statuses = map[bot.Code]int{
	bot.CodeInvalid:      http.StatusBadRequest,
	bot.CodeUnauthorized: http.StatusUnauthorized,
	bot.CodeForbidden:    http.StatusForbidden,
	bot.CodeNotFound:     http.StatusNotFound,
	bot.CodeConflict:     http.StatusConflict,
	bot.CodeRateLimited:  http.StatusTooManyRequests,
	bot.CodeUnavailable:  http.StatusServiceUnavailable,
	bot.CodeInternal:     http.StatusInternalServerError,
}

// Status is the HTTP status of code, and whether the table has it.
func Status(code bot.Code) (int, bool) {
	st, ok := statuses[code]
	return st, ok
}

// StatusOf is the HTTP status of code; 500 for a code the table lacks.
func StatusOf(code bot.Code) int {
	if st, ok := statuses[code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// CodeOf is the code of an error answered with status: the inverse of
// the table, for errors decided at the edge (a malformed body, a missing
// session); any other 4xx (413, say) is invalid input, anything else
// internal.
func CodeOf(status int) bot.Code {
	for c, st := range statuses {
		if st == status {
			return c
		}
	}
	if status >= 400 && status < 500 {
		return bot.CodeInvalid
	}
	return bot.CodeInternal
}

// WriteJSON answers with status and v as JSON, never cached and never
// sniffed as another type.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
