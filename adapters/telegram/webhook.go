package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// maxUpdate bounds a webhook request body; a longer one is refused with
// 413 and its connection closed.
const maxUpdate = 1 << 20

// WebhookHandler receives updates Telegram posts in webhook mode. It
// checks the X-Telegram-Bot-Api-Secret-Token header against the
// configured secret in constant time (403 otherwise), handles the update
// and answers 200 only once it is stored: any other answer makes Telegram
// retry, and a retried update is handled once.
func (a *Adapter) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, `{"error":"method not allowed"}`, http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if a.opts.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.opts.WebhookSecret)) != 1 {
			a.opts.Log.Warn("telegram: webhook request with a wrong secret refused", "remote", r.RemoteAddr)
			http.Error(w, `{"error":"forbidden"}`, http.StatusForbidden)
			return
		}
		var u tgbotapi.Update
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxUpdate)).Decode(&u); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				http.Error(w, `{"error":"update too large"}`, http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, `{"error":"bad update"}`, http.StatusBadRequest)
			return
		}
		if err := a.process(r.Context(), u); err != nil {
			a.opts.Log.Error("telegram: webhook update failed; Telegram will retry", "update", u.UpdateID, "err", err)
			http.Error(w, `{"error":"try again"}`, http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
