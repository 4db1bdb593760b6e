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
//
// On several nodes (Options.Lease), one node at a time leads: it polls,
// follows the conversations and sends the outbox; the others only answer
// webhook requests, which any node may handle.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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
	// Lease, on a node among several sharing one store, makes the
	// channel's leading part (polling, following conversations, sending
	// the outbox) run on one node at a time: the holder of the
	// "telegram" role (see Lease). nil: this node is alone and always
	// leads.
	Lease Lease
	// LeaseRetry is how often a node that does not lead tries to
	// (default 1 s); Handover how long a new leader waits before polling
	// and sending, so that the one before, which learns at once that it
	// lost, finishes the update or request it had under way (default
	// 1 s).
	LeaseRetry, Handover time.Duration
}

// Lease is a cluster-wide role (internal/leader.Lease): Hold runs fn
// whenever this node holds it, cancelling fn's context when it is lost,
// and tries again every interval, until ctx ends.
type Lease interface {
	Hold(ctx context.Context, role string, interval time.Duration, fn func(ctx context.Context))
}

// LeaseRole is the role the leading node holds.
const LeaseRole = "telegram"

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
	if o.LeaseRetry == 0 {
		o.LeaseRetry = time.Second
	}
	if o.Handover == 0 {
		o.Handover = time.Second
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
	client *apiClient
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
	// out is the leader's sender, nil while this node does not lead.
	out atomic.Pointer[sender]
	// afterTrack, if set (by tests), runs in track between the store's
	// TelegramTrack and the chat's entry in memory.
	afterTrack func(conversationID string)
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
	client := &apiClient{http: opts.HTTPClient, token: opts.Token, timeout: opts.PollTimeout + 15*time.Second, observer: opts.Observer}
	api, err := newAPI(ctx, opts, client)
	if err != nil {
		cancel()
		return nil, err
	}
	a.api = api
	a.self = api.Self
	a.client = client
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
// With a Lease, the node does the polling, following and sending only
// while it holds the role; the webhook is served either way.
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
	if a.opts.Lease == nil {
		wait, err := a.lead(a.ctx)
		if err != nil {
			return err
		}
		a.wg.Go(wait)
	} else {
		a.wg.Go(func() { a.opts.Lease.Hold(a.ctx, LeaseRole, a.opts.LeaseRetry, a.leadWhileHeld) })
	}
	a.opts.Log.Info("telegram channel started", "bot", a.self.UserName, "webhook", a.opts.WebhookURL != "", "shared", a.opts.Lease != nil)
	return nil
}

// lead starts the leading part under ctx: the sender (after loading the
// outbox), following the conversations on the bus (after queueing what
// they have not sent yet) and, in polling mode, polling. The returned
// wait waits, after ctx ends, for them to stop.
func (a *Adapter) lead(ctx context.Context) (wait func(), err error) {
	sub := a.engine.Subscribe("", 1024)
	s := newSender(a, ctx)
	// In webhook mode, other nodes queue the direct replies to the
	// updates they handle: the leader looks for them every second.
	rescan := time.Duration(0)
	if a.opts.Lease != nil && a.opts.WebhookURL != "" {
		rescan = time.Second
	}
	if err := s.load(rescan); err != nil {
		sub.Close()
		return nil, fmt.Errorf("telegram: load outbox: %w", err)
	}
	a.out.Store(s)
	a.syncAll(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.follow(ctx, sub) })
	if a.opts.WebhookURL == "" {
		wg.Go(func() { a.poll(ctx) })
	}
	return func() {
		wg.Wait()
		a.out.CompareAndSwap(s, nil)
		s.wait()
	}, nil
}

// leadWhileHeld leads while this node holds the role (ctx): after the
// handover wait, with the chats read afresh (the node before moved their
// cursors), until the role is lost.
func (a *Adapter) leadWhileHeld(ctx context.Context) {
	a.opts.Log.Info("telegram: this node leads the channel (polls and sends)")
	defer a.opts.Log.Info("telegram: this node no longer leads the channel")
	if !sleep(ctx, a.opts.Handover) {
		return
	}
	a.forgetChats()
	wait, err := a.lead(ctx)
	if err != nil {
		a.opts.Log.Error("telegram: cannot lead; letting another node try", "err", err)
		return
	}
	wait()
}

// leading reports whether this node leads the channel now.
func (a *Adapter) leading() bool { return a.out.Load() != nil }

// kick tells the leader's sender, on this node, that the outbox has new
// entries; on another node it finds them itself.
func (a *Adapter) kick() {
	if s := a.out.Load(); s != nil {
		s.kick()
	}
}

// Stop stops polling and delivery and waits for the goroutines. Queued
// messages stay in the outbox for the next Start (or the next leader).
// Safe to call twice.
func (a *Adapter) Stop() {
	a.once.Do(func() {
		a.cancel()
		a.wg.Wait()
	})
}
