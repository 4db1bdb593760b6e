package telegram_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzWebhookUpdate posts arbitrary update JSON to the webhook of a
// channel on real parts (engine, bbolt, the fake Bot API), which turns
// it into a customer message, a command, a button press or nothing. It
// must not panic, and must answer 200 (handled, or nothing to handle) or
// 400 (not an update): anything else makes Telegram retry the update
// for ever. Seeds are in testdata/fuzz/FuzzWebhookUpdate.
func FuzzWebhookUpdate(f *testing.F) {
	r := newRig(f)
	opts := r.options()
	opts.WebhookURL, opts.WebhookSecret = "https://chat.example.com/telegram/webhook", "s3cret-value"
	h := r.start(opts).WebhookHandler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret-value")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Errorf("update %.300q (%d bytes): status %d %s", body, len(body), rec.Code, rec.Body)
		}
	})
}
