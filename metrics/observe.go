package metrics

import (
	"time"
)

// The observer methods below are what other packages call, each through
// a small interface of its own (web.Observer, telegram.Observer, the
// store's commit hook), so that none of them imports this package. All
// are safe for concurrent use and cheap: a few atomic adds.

// ObserveTurn records one bot turn: from the customer's message being
// stored to the bot's reply being stored. Follow measures turns from the
// conversation events; it is exported for sources that time turns
// themselves.
func (m *Metrics) ObserveTurn(d time.Duration) { m.turn.Observe(d.Seconds()) }

// ObserveSearch records one knowledge-base search plus decision (see
// Answerer).
func (m *Metrics) ObserveSearch(d time.Duration) { m.search.Observe(d.Seconds()) }

// ObserveCommit records one store commit: how many acts it made durable
// together (the group-commit batch) and how long it took, fsync included.
func (m *Metrics) ObserveCommit(acts int, d time.Duration) {
	m.commitActs.Observe(float64(acts))
	m.commit.Observe(d.Seconds())
}

// ObserveSendQueue records how many frames were already waiting in a
// customer websocket's send queue when another was queued: a queue that
// is often deep means slow clients or a slow writer.
func (m *Metrics) ObserveSendQueue(depth int) { m.sendQueue.Observe(float64(depth)) }

// ObserveTelegram records one Bot API request: its method, how long it
// took to the response headers, and whether it failed (a network error
// or an error status).
func (m *Metrics) ObserveTelegram(method string, d time.Duration, err error) {
	method = telegramMethod(method)
	m.telegram.WithLabelValues(method).Observe(d.Seconds())
	if err != nil {
		m.telegramErrors.WithLabelValues(method).Inc()
	}
}

// TelegramRetry counts a send that will be tried again: reason
// "rate_limited" (a 429) or "unavailable" (a network error or a 5xx).
func (m *Metrics) TelegramRetry(reason string) {
	m.telegramRetries.WithLabelValues(label(reason)).Inc()
}

// TelegramFailed counts a send given up for good: reason "refused" (a 4xx)
// or "blocked" (the user blocked the bot).
func (m *Metrics) TelegramFailed(reason string) {
	m.telegramFailures.WithLabelValues(label(reason)).Inc()
}

// Refused counts input refused at the edge of a channel: reason
// "rate_limited", "too_large" or "origin".
func (m *Metrics) Refused(channel, reason string) {
	m.refusals.WithLabelValues(label(channel), label(reason)).Inc()
}

// Error counts an error reported to a client of the channel, by its code
// (a websocket error frame's code, an agent API status mapped to a code).
func (m *Metrics) Error(channel, code string) {
	m.errors.WithLabelValues(label(channel), label(code)).Inc()
}

// ConnOpened counts a websocket connection of the channel as open until
// ConnClosed.
func (m *Metrics) ConnOpened(channel string) { m.connections.WithLabelValues(label(channel)).Inc() }

// ConnClosed counts a connection ConnOpened counted as closed.
func (m *Metrics) ConnClosed(channel string) { m.connections.WithLabelValues(label(channel)).Dec() }

// label returns v if it looks like the identifiers our code uses as label
// values (lower-case letters, digits and '_', at most 32 bytes), else
// "other": whatever a caller passes, the label stays low-cardinality and
// never carries free text.
func label(v string) string {
	if v == "" || len(v) > 32 {
		return "other"
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return "other"
		}
	}
	return v
}

// telegramMethods are the Bot API methods the label may name.
var telegramMethods = map[string]bool{
	"getMe": true, "getUpdates": true, "sendMessage": true, "answerCallbackQuery": true,
	"setWebhook": true, "deleteWebhook": true, "getWebhookInfo": true, "editMessageText": true,
	"editMessageReplyMarkup": true, "sendChatAction": true, "setMyCommands": true, "getFile": true,
}

func telegramMethod(method string) string {
	if telegramMethods[method] {
		return method
	}
	return "other"
}
