package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/frontdesk/frontdesk/bot"
)

// apiClient is the library's HTTP client. Long polls (getUpdates) are
// tied to the poller's context, so Stop, or the loss of the lead, ends
// them at once; other calls run to completion (bounded by timeout), so
// that a message Telegram accepted is also marked sent. Errors never
// carry the token.
type apiClient struct {
	pollMu   sync.Mutex
	pollCtx  context.Context // nil: no poller
	http     *http.Client
	token    string
	timeout  time.Duration
	observer Observer
}

// setPollContext ties the long polls from now on to ctx (the one poller
// of the adapter).
func (c *apiClient) setPollContext(ctx context.Context) {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	c.pollCtx = ctx
}

func (c *apiClient) Do(r *http.Request) (*http.Response, error) {
	ctx := context.Background()
	if strings.HasSuffix(r.URL.Path, "/getUpdates") {
		c.pollMu.Lock()
		if c.pollCtx != nil {
			ctx = c.pollCtx
		}
		c.pollMu.Unlock()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	start := time.Now()
	resp, err := c.http.Do(r.WithContext(ctx))
	c.observe(r, time.Since(start), resp, err)
	if err != nil {
		cancel()
		return nil, errors.New(strings.ReplaceAll(err.Error(), c.token, "<token>"))
	}
	resp.Body = cancelBody{resp.Body, cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelBody) Close() error { err := b.ReadCloser.Close(); b.cancel(); return err }

// apiCode returns the Bot API error code of err, or 0 for other errors
// (network, undecodable responses).
func apiCode(err error) int {
	var e *tgbotapi.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// retryAfter returns the retry_after of a 429, in seconds.
func retryAfter(err error) int {
	var e *tgbotapi.Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// outgoing is one queued Bot API request, stored as JSON in the outbox.
type outgoing struct {
	Method   string     `json:"method"` // sendMessage
	Chat     int64      `json:"chat"`
	Text     string     `json:"text"`
	Keyboard [][]button `json:"keyboard,omitempty"`
	// HTML: Text is Telegram HTML (parse_mode "HTML").
	HTML bool `json:"html,omitempty"`

	id uint64 // outbox key, set when loaded
}

// button is an inline-keyboard button; Data is the callback data.
type button struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
}

func (o outgoing) encode() []byte {
	data, err := json.Marshal(o)
	if err != nil {
		panic(err) // plain strings and numbers always marshal
	}
	return data
}

// maxText is the longest text Telegram accepts in one message, in
// UTF-16 code units.
const maxText = 4096

// outgoingMessages turns a conversation message into sendMessages: its
// Markdown rendered as Telegram HTML (bold, lists, links; a customer's
// escaped name reads as written), split at paragraphs, lines or words
// into parts Telegram accepts when it is longer. Agents' messages are
// signed with their name; quick replies become an inline keyboard on the
// last part,
// one button a row, whose callback data points at the message and the
// reply ("<conversation>:<seq>:<index>", within Telegram's 64 bytes), so
// a press is resolved from the store.
func outgoingMessages(chatID int64, m bot.Message) []outgoing {
	text := m.Text
	if m.From == bot.FromAgent && m.AgentName != "" {
		text = bot.EscapeMarkdown(m.AgentName) + ": " + text
	}
	parts := splitMarkdown(text, maxText)
	out := make([]outgoing, 0, len(parts))
	for _, p := range parts {
		out = append(out, outgoing{Method: "sendMessage", Chat: chatID, Text: telegramHTML(p), HTML: true})
	}
	last := &out[len(out)-1]
	for i, q := range m.QuickReplies {
		last.Keyboard = append(last.Keyboard, []button{{Text: q.Label, Data: m.ConversationID + ":" + strconv.FormatInt(m.Seq, 10) + ":" + strconv.Itoa(i)}})
	}
	return out
}

// reply is a direct answer of the adapter (commands, notes) to a chat.
func reply(chatID int64, text string) outgoing {
	return outgoing{Method: "sendMessage", Chat: chatID, Text: text}
}

// params builds the form-encoded request the Bot API expects.
func (o outgoing) params() tgbotapi.Params {
	p := tgbotapi.Params{"chat_id": strconv.FormatInt(o.Chat, 10), "text": o.Text}
	if o.HTML {
		p["parse_mode"] = "HTML"
	}
	if len(o.Keyboard) > 0 {
		kb, _ := json.Marshal(map[string]any{"inline_keyboard": o.Keyboard})
		p["reply_markup"] = string(kb)
	}
	return p
}

// Refused reports whether err is the Bot API refusing a request for good
// (a 4xx other than 429, such as 401 for a wrong token): trying again
// will not help, unlike after a network error, a 5xx or a 429.
func Refused(err error) bool {
	c := apiCode(err)
	return c >= 400 && c < 500 && c != 429
}
