package telegram

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// Observer is told how the Bot API behaves, for monitoring; the metrics
// package implements it. Options.Observer is optional. Its methods must be
// quick and safe for concurrent use.
type Observer interface {
	// ObserveTelegram is told of every Bot API request: its method, how
	// long it took to the response headers, and the error (a network
	// error, or an error status) if it failed.
	ObserveTelegram(method string, d time.Duration, err error)
	// TelegramRetry is told that a send will be tried again: reason
	// "rate_limited" (429) or "unavailable" (a network error or 5xx).
	TelegramRetry(reason string)
	// TelegramFailed is told that a send was given up: reason "refused"
	// (a 4xx) or "blocked" (the user blocked the bot).
	TelegramFailed(reason string)
}

// nopObserver is the Observer used when none is given.
type nopObserver struct{}

func (nopObserver) ObserveTelegram(string, time.Duration, error) {}
func (nopObserver) TelegramRetry(string)                         {}
func (nopObserver) TelegramFailed(string)                        {}

// observe tells the Observer about one request: its method (the last
// element of the path, after the token), and whether it failed. A long
// poll ended by Stop is not a failure and is not reported.
func (c *apiClient) observe(r *http.Request, d time.Duration, resp *http.Response, err error) {
	if err != nil && c.pollCtx.Err() != nil {
		return
	}
	method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	switch {
	case err != nil:
		err = errors.New("request failed")
	case resp.StatusCode >= 400:
		err = errors.New(resp.Status)
	}
	c.observer.ObserveTelegram(method, d, err)
}
