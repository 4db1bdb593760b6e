package bot

import "errors"

// Code classifies an error so that every edge answers it the same way:
// the agent API maps it to an HTTP status, the customer websocket to an
// error frame's code, the CLI to its message and exit status. The rule
// that decides returns the coded error; nobody downstream re-derives it.
type Code string

// Error codes.
const (
	CodeInvalid      Code = "invalid"      // the request is malformed or breaks a rule
	CodeUnauthorized Code = "unauthorized" // who is asking is not known (login, session)
	CodeForbidden    Code = "forbidden"    // known, but not allowed to do this
	CodeNotFound     Code = "not_found"    // no such thing
	CodeConflict     Code = "conflict"     // the thing's state does not allow it now
	CodeRateLimited  Code = "rate_limited" // too many attempts; wait and try again
	CodeUnavailable  Code = "unavailable"  // a part needed is down or closed
	CodeInternal     Code = "internal"     // anything else: a bug or a broken disk
)

// Codes lists every code, for documentation and tests.
var Codes = []Code{CodeInvalid, CodeUnauthorized, CodeForbidden, CodeNotFound, CodeConflict,
	CodeRateLimited, CodeUnavailable, CodeInternal}

// Error is an error with a code and a message that may be shown to the
// person who caused it. Sentinel errors (ErrNotFound, ErrNotOwner and the
// handoff package's) are *Error values, compared with errors.Is; wrapping
// them with what was being done keeps both.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// NewError returns an error with the code and message.
func NewError(code Code, message string) *Error { return &Error{Code: code, Message: message} }

// ErrorCode returns the code of the first *Error in err's chain:
// CodeInternal for an error without one, "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the message of the first *Error in err's chain,
// fit to show to a person, or a generic one for an internal error (whose
// details belong in the log, not on a screen).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "something went wrong on our side; please try again"
}
