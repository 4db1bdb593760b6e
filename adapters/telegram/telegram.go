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

// chat is a tracked conversation and where its delivery stands. Its
// mutex serialises queueing for that conversation alone, so no chat waits
// for another's disk writes.
type chat struct {
	mu       sync.Mutex
	id       int64
	cursor   int64     // seq of the last message queued
	lastUsed time.Time // guarded by Adapter.chatsMu
}

// chatIdle is how long a chat stays in memory without a message.
const chatIdle = 30 * time.Minute

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

// poll runs getUpdates until Stop, from the persisted offset.
func (a *Adapter) poll() {
	off, err := a.store.TelegramOffset(a.ctx)
	if err != nil {
		a.opts.Log.Error("telegram: read offset", "err", err)
		return
	}
	backoff := a.opts.MinBackoff
	for a.ctx.Err() == nil {
		ups, err := a.api.GetUpdates(tgbotapi.UpdateConfig{Offset: int(off), Timeout: int(a.opts.PollTimeout / time.Second),
			AllowedUpdates: []string{"message", "edited_message", "callback_query"}})
		if err != nil {
			if a.ctx.Err() != nil {
				return
			}
			if apiCode(err) == http.StatusConflict {
				a.opts.Log.Warn("telegram: getUpdates conflict: another instance is polling or a webhook is set", "err", err)
			} else {
				a.opts.Log.Warn("telegram: getUpdates failed; retrying", "err", err, "wait", backoff)
			}
			if !a.sleep(backoff) {
				return
			}
			backoff = min(backoff*2, a.opts.MaxBackoff)
			continue
		}
		backoff = a.opts.MinBackoff
		for _, u := range ups {
			if int64(u.UpdateID) < off {
				continue // already confirmed
			}
			if !a.processRetrying(u) {
				return
			}
			off = int64(u.UpdateID) + 1
		}
	}
}

// processRetrying handles an update, retrying on errors (storage
// trouble). After several failures the update is logged and skipped, so
// that one bad update cannot stop the channel. It returns false on Stop.
func (a *Adapter) processRetrying(u tgbotapi.Update) bool {
	wait := a.opts.MinBackoff
	for attempt := 1; ; attempt++ {
		// An update under way is finished even if Stop is called, so that
		// the bot's answer is not cut off between the customer's message
		// and the reply (a replay would find the message stored and not
		// answer it again).
		err := a.process(context.Background(), u)
		if err == nil {
			return true
		}
		if a.ctx.Err() != nil {
			return false
		}
		if attempt == 5 {
			a.opts.Log.Error("telegram: giving up on update", "update", u.UpdateID, "err", err)
			if err := a.store.TelegramDone(a.ctx, int64(u.UpdateID), nil); err != nil {
				a.opts.Log.Error("telegram: skip update", "update", u.UpdateID, "err", err)
				return false
			}
			return true
		}
		a.opts.Log.Warn("telegram: handle update failed; retrying", "update", u.UpdateID, "err", err)
		if !a.sleep(wait) {
			return false
		}
		wait = min(wait*2, a.opts.MaxBackoff)
	}
}

// sleep waits d or until Stop, reporting whether it waited.
func (a *Adapter) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.ctx.Done():
		return false
	}
}

// follow watches the bus for messages in Telegram conversations and
// queues them for delivery. If it lags, it catches up from the store.
// Now and then it forgets chats that have been idle (evict).
func (a *Adapter) follow(sub bot.Subscription) {
	sweep := time.NewTicker(chatIdle / 2)
	defer sweep.Stop()
	for {
		select {
		case e, ok := <-sub.C():
			if !ok {
				a.opts.Log.Warn("telegram: event bus lagged; catching up from the store")
				sub = a.engine.Subscribe("", 1024)
				a.syncAll()
				continue
			}
			if e.Kind == bot.EventMessage && e.Message != nil && e.Message.From != bot.FromCustomer && !e.Message.Internal &&
				(e.Channel == "" || e.Channel == bot.Telegram) {
				a.sync(a.ctx, e.ConversationID)
			}
		case now := <-sweep.C:
			a.evict(now)
		case <-a.ctx.Done():
			sub.Close()
			return
		}
	}
}

// evict forgets chats idle since before now - chatIdle; they stay on disk
// and are read again on their next message.
func (a *Adapter) evict(now time.Time) {
	a.chatsMu.Lock()
	defer a.chatsMu.Unlock()
	for id, c := range a.chats {
		if now.Sub(c.lastUsed) > chatIdle {
			delete(a.chats, id)
		}
	}
}

// chatFor returns the tracked chat of the conversation, from memory or
// the store, or nil when the conversation is not delivered to Telegram.
func (a *Adapter) chatFor(ctx context.Context, conversationID string) (*chat, error) {
	a.chatsMu.Lock()
	c, ok := a.chats[conversationID]
	if ok {
		c.lastUsed = time.Now()
	}
	a.chatsMu.Unlock()
	if ok {
		return c, nil
	}
	chatID, cursor, err := a.store.TelegramChat(ctx, conversationID)
	if errors.Is(err, bot.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a.chatsMu.Lock()
	defer a.chatsMu.Unlock()
	if c, ok := a.chats[conversationID]; ok {
		return c, nil // loaded meanwhile
	}
	c = &chat{id: chatID, cursor: cursor, lastUsed: time.Now()}
	a.chats[conversationID] = c
	return c, nil
}

// syncAll queues what every tracked conversation has not yet sent, after
// a lag: the events it missed may have been for any of them.
func (a *Adapter) syncAll() {
	var convs []string
	err := a.store.TelegramChats(a.ctx, func(conv string, _, _ int64) error {
		convs = append(convs, conv)
		return nil
	})
	if err != nil {
		a.opts.Log.Error("telegram: list chats", "err", err)
	}
	for _, id := range convs {
		a.sync(a.ctx, id)
	}
}

// sync queues, in order and once each, the customer-visible messages of
// a tracked conversation that are not from the customer and not queued
// yet. A failure is logged; the next sync catches up.
func (a *Adapter) sync(ctx context.Context, conversationID string) {
	c, err := a.chatFor(ctx, conversationID)
	if err != nil {
		if ctx.Err() == nil {
			a.opts.Log.Error("telegram: read chat", "conversation", conversationID, "err", err)
		}
		return
	}
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ms, err := a.engine.Messages(ctx, conversationID, c.cursor)
	if err != nil || len(ms) == 0 {
		if err != nil && ctx.Err() == nil {
			a.opts.Log.Error("telegram: read messages", "conversation", conversationID, "err", err)
		}
		return
	}
	blocked, err := a.store.TelegramBlocked(ctx, c.id)
	if err != nil {
		a.opts.Log.Error("telegram: read blocked flag", "conversation", conversationID, "err", err)
		return
	}
	var out [][]byte
	for _, m := range ms {
		if m.From == bot.FromCustomer || blocked {
			continue
		}
		for _, o := range outgoingMessages(c.id, m) {
			out = append(out, o.encode())
		}
	}
	last := ms[len(ms)-1].Seq
	if err := a.store.TelegramQueue(ctx, conversationID, last, out); err != nil {
		if ctx.Err() == nil {
			a.opts.Log.Error("telegram: queue messages", "conversation", conversationID, "err", err)
		}
		return
	}
	c.cursor = last
	if len(out) > 0 {
		a.out.kick()
	}
}

// track records that the conversation is delivered to the chat and
// returns its cursor.
func (a *Adapter) track(ctx context.Context, conversationID string, chatID int64) (int64, error) {
	c, err := a.chatFor(ctx, conversationID)
	if err != nil {
		return 0, err
	}
	if c != nil && c.id == chatID {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.cursor, nil
	}
	cursor, err := a.store.TelegramTrack(ctx, conversationID, chatID)
	if err != nil {
		return 0, err
	}
	a.chatsMu.Lock()
	a.chats[conversationID] = &chat{id: chatID, cursor: cursor, lastUsed: time.Now()}
	a.chatsMu.Unlock()
	return cursor, nil
}
