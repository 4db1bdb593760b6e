// Package telegram is the Telegram channel: it receives updates from the
// Bot API (long polling by default, a webhook optionally), hands customer
// messages to the bot engine, and delivers every customer-visible message
// of a Telegram conversation back to the chat through a durable outbox.
// It is the only importer of the Telegram library.
//
// Durability: an update is handled at most once and never skipped. The
// getUpdates offset moves past an update only in the transaction that
// records it as handled and queues its direct replies; the customer's
// message itself is stored by the engine with the client id
// "tg:<update_id>", so an update replayed after a crash is stored once.
// Outbound messages are queued in bbolt before they are sent and removed
// only after Telegram answered 2xx, so they survive restarts (a message
// in flight during a crash may be sent twice; nothing is lost).
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/frontdesk/frontdesk/bot"
)

// Store is the delivery state the channel keeps; store/bolt implements it.
// Every method that writes is durable when it returns nil.
type Store interface {
	// TelegramOffset returns the next getUpdates offset, 0 at first.
	TelegramOffset(ctx context.Context) (int64, error)
	// TelegramSeen reports whether the update was handled already.
	TelegramSeen(ctx context.Context, updateID int64) (bool, error)
	// TelegramDone records the update as handled, moves the offset past
	// it and queues out, atomically.
	TelegramDone(ctx context.Context, updateID int64, out [][]byte) error
	// TelegramTrack records that a conversation is delivered to a chat and
	// returns the seq of the last message queued for it.
	TelegramTrack(ctx context.Context, conversationID string, chatID int64) (int64, error)
	// TelegramChat returns the chat a conversation is delivered to and
	// its cursor, or bot.ErrNotFound when it is not tracked.
	TelegramChat(ctx context.Context, conversationID string) (chatID, cursor int64, err error)
	// TelegramChats calls fn for every tracked conversation.
	TelegramChats(ctx context.Context, fn func(conversationID string, chatID, cursor int64) error) error
	// TelegramQueue moves a conversation's cursor forward and queues out,
	// atomically.
	TelegramQueue(ctx context.Context, conversationID string, cursor int64, out [][]byte) error
	// TelegramOutbox calls fn for every queued request, oldest first.
	TelegramOutbox(ctx context.Context, fn func(id uint64, data []byte) error) error
	// TelegramSent removes requests from the outbox.
	TelegramSent(ctx context.Context, ids ...uint64) error
	// TelegramSetBlocked records whether a chat blocked the bot.
	TelegramSetBlocked(ctx context.Context, chatID int64, blocked bool) error
	// TelegramBlocked reports whether a chat blocked the bot.
	TelegramBlocked(ctx context.Context, chatID int64) (bool, error)
}

// DefaultAPIURL is Telegram's Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// Options configure the channel. Zero values take the defaults.
type Options struct {
	// Token is the bot's token from BotFather (required).
	Token string
	// APIURL is the Bot API server (default DefaultAPIURL); requests go
	// to APIURL/bot<token>/<method>.
	APIURL string
	// WebhookURL, if set, is the public HTTPS address Telegram posts
	// updates to (webhook mode); empty means long polling.
	WebhookURL string
	// WebhookSecret is the secret Telegram sends in the
	// X-Telegram-Bot-Api-Secret-Token header (required in webhook mode).
	WebhookSecret string
	// PublicURL is the web address of the site with the widget, for the
	// /web command's links ("" disables /web).
	PublicURL string
	// PollTimeout is the long-poll timeout of getUpdates (default 50 s).
	PollTimeout time.Duration
	// ChatInterval is the least time between two messages to one chat
	// (default 1 s); GlobalRate the most messages a second overall
	// (default 30). Telegram's limits.
	ChatInterval time.Duration
	GlobalRate   float64
	// MinBackoff and MaxBackoff bound the wait before retrying after a
	// 5xx or network error (defaults 500 ms and 1 min).
	MinBackoff, MaxBackoff time.Duration
	// RetryAfterUnit is what one second of a 429's retry_after is worth
	// (default 1 s; tests shorten it).
	RetryAfterUnit time.Duration
	// HTTPClient is the transport (default a new http.Client).
	HTTPClient *http.Client
	Log        *slog.Logger
	// Observer is told of API latency, retries and failures (default:
	// nobody).
	Observer Observer
}

func (o *Options) defaults() {
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	o.APIURL = strings.TrimSuffix(o.APIURL, "/")
	if o.PollTimeout == 0 {
		o.PollTimeout = 50 * time.Second
	}
	if o.ChatInterval == 0 {
		o.ChatInterval = time.Second
	}
	if o.GlobalRate == 0 {
		o.GlobalRate = 30
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = time.Minute
	}
	if o.RetryAfterUnit == 0 {
		o.RetryAfterUnit = time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	o.PublicURL = strings.TrimSuffix(o.PublicURL, "/")
}

// Adapter is a running Telegram channel. Start it once and Stop it once
// (Stop is safe to call again). Updates are handled one at a time, in
// order; deliveries run per chat, in order.
type Adapter struct {
	engine Engine
	store  Store
	opts   Options
	api    *tgbotapi.BotAPI
	self   tgbotapi.User

	ctx    context.Context // cancelled by Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	handling sync.Mutex // serialises update handling
	// chatsMu guards chats, the tracked conversations in use lately; the
	// rest stay on disk only (see chatFor and evict).
	chatsMu sync.Mutex
	chats   map[string]*chat
	out     *sender
}

// New connects to the Bot API (getMe) and returns a channel ready to
// Start. It fails if the token is refused or the server is unreachable.
func New(ctx context.Context, e Engine, st Store, opts Options) (*Adapter, error) {
	opts.defaults()
	if opts.Token == "" {
		return nil, errors.New("telegram: no bot token")
	}
	if opts.WebhookURL != "" && opts.WebhookSecret == "" {
		return nil, errors.New("telegram: webhook mode needs a secret")
	}
	actx, cancel := context.WithCancel(context.Background())
	a := &Adapter{engine: e, store: st, opts: opts, ctx: actx, cancel: cancel, chats: map[string]*chat{}}
	client := &apiClient{pollCtx: actx, http: opts.HTTPClient, token: opts.Token, timeout: opts.PollTimeout + 15*time.Second, observer: opts.Observer}
	api, err := newAPI(ctx, opts, client)
	if err != nil {
		cancel()
		return nil, err
	}
	a.api = api
	a.self = api.Self
	a.out = newSender(a)
	return a, nil
}

// newAPI calls getMe, retrying briefly on network errors and 5xx.
func newAPI(ctx context.Context, opts Options, client *apiClient) (*tgbotapi.BotAPI, error) {
	endpoint := opts.APIURL + "/bot%s/%s"
	var err error
	for attempt := range 3 {
		var api *tgbotapi.BotAPI
		api, err = tgbotapi.NewBotAPIWithClient(opts.Token, endpoint, client)
		if err == nil {
			return api, nil
		}
		if c := apiCode(err); c > 0 && c < 500 && c != 429 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(opts.MinBackoff << attempt):
		}
	}
	return nil, fmt.Errorf("telegram: getMe: %w", err)
}

// Username returns the bot's username, from getMe.
func (a *Adapter) Username() string { return a.self.UserName }

// Start begins delivering queued messages, follows the Telegram
// conversations on the engine's bus, offers Telegram for "continue on
// Telegram" links, and in polling mode starts polling (after removing any
// webhook); in webhook mode it registers the webhook with Telegram, and
// updates arrive through WebhookHandler. The goroutines run until Stop.
func (a *Adapter) Start(ctx context.Context) error {
	if a.opts.WebhookURL != "" {
		if _, err := a.api.MakeRequest("setWebhook", tgbotapi.Params{"url": a.opts.WebhookURL, "secret_token": a.opts.WebhookSecret,
			"allowed_updates": `["message","edited_message","callback_query"]`}); err != nil {
			return fmt.Errorf("telegram: setWebhook: %w", err)
		}
	} else if _, err := a.api.MakeRequest("deleteWebhook", tgbotapi.Params{"drop_pending_updates": "false"}); err != nil {
		a.opts.Log.Warn("telegram: deleteWebhook failed; polling may conflict with a webhook", "err", err)
	}
	if a.self.UserName != "" {
		if err := a.engine.OfferChannel(ctx, bot.Telegram, "https://t.me/"+a.self.UserName+"?start="); err != nil {
			return fmt.Errorf("telegram: offer channel: %w", err)
		}
	}
	sub := a.engine.Subscribe("", 1024)
	if err := a.out.load(); err != nil {
		sub.Close()
		return fmt.Errorf("telegram: load outbox: %w", err)
	}
	a.syncAll()
	a.wg.Go(func() { a.follow(sub) })
	if a.opts.WebhookURL == "" {
		a.wg.Go(a.poll)
	}
	a.opts.Log.Info("telegram channel started", "bot", a.self.UserName, "webhook", a.opts.WebhookURL != "")
	return nil
}

// Stop stops polling and delivery and waits for the goroutines. Queued
// messages stay in the outbox for the next Start. Safe to call twice.
func (a *Adapter) Stop() {
	a.once.Do(func() {
		a.cancel()
		a.wg.Wait()
		a.out.wait()
	})
}
