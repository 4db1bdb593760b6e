package telegram

import (
	"context"
	"net/http"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// poll runs getUpdates until ctx ends, from the persisted offset.
func (a *Adapter) poll(ctx context.Context) {
	a.client.setPollContext(ctx)
	backoff := a.opts.MinBackoff
	var off int64
	for {
		var err error
		if off, err = a.store.TelegramOffset(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		a.opts.Log.Error("telegram: read offset; retrying", "err", err, "wait", backoff)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(backoff*2, a.opts.MaxBackoff)
	}
	backoff = a.opts.MinBackoff
	for ctx.Err() == nil {
		ups, err := a.api.GetUpdates(tgbotapi.UpdateConfig{Offset: int(off), Timeout: int(a.opts.PollTimeout / time.Second),
			AllowedUpdates: []string{"message", "edited_message", "callback_query"}})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if apiCode(err) == http.StatusConflict {
				a.opts.Log.Warn("telegram: getUpdates conflict: another instance is polling or a webhook is set", "err", err)
			} else {
				a.opts.Log.Warn("telegram: getUpdates failed; retrying", "err", err, "wait", backoff)
			}
			if !sleep(ctx, backoff) {
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
			if ctx.Err() != nil {
				return // the rest wait at Telegram for the next poller
			}
			if !a.processRetrying(ctx, u) {
				return
			}
			off = int64(u.UpdateID) + 1
		}
	}
}

// processRetrying handles an update, retrying on errors (storage
// trouble). After several failures the update is logged and skipped, so
// that one bad update cannot stop the channel. It returns false when ctx
// ends.
func (a *Adapter) processRetrying(ctx context.Context, u tgbotapi.Update) bool {
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
		if ctx.Err() != nil {
			return false
		}
		if attempt == 5 {
			a.opts.Log.Error("telegram: giving up on update", "update", u.UpdateID, "err", err)
			if err := a.store.TelegramDone(ctx, int64(u.UpdateID), nil); err != nil {
				a.opts.Log.Error("telegram: skip update", "update", u.UpdateID, "err", err)
				return false
			}
			return true
		}
		a.opts.Log.Warn("telegram: handle update failed; retrying", "update", u.UpdateID, "err", err)
		if !sleep(ctx, wait) {
			return false
		}
		wait = min(wait*2, a.opts.MaxBackoff)
	}
}

// sleep waits d or until Stop, reporting whether it waited.
func (a *Adapter) sleep(d time.Duration) bool { return sleep(a.ctx, d) }

// sleep waits d or until ctx ends, reporting whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
