package httperr

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/frontdesk/frontdesk/bot"
)

// TestTheErrorTableCoversEveryCode walks the one table from the core's
// error codes to HTTP statuses: every code has a status of its own, and
// an error decided at the edge gets its code back from its status.
func TestTheErrorTableCoversEveryCode(t *testing.T) {
	seen := map[int]bot.Code{}
	for _, c := range bot.Codes {
		st, ok := Status(c)
		if !ok {
			t.Errorf("code %q has no HTTP status", c)
			continue
		}
		if st < 400 {
			t.Errorf("code %q maps to a success status %d", c, st)
		}
		if other, dup := seen[st]; dup {
			t.Errorf("codes %q and %q share status %d", c, other, st)
		}
		seen[st] = c
		if back := CodeOf(st); back != c {
			t.Errorf("status %d gives code %q, want %q", st, back, c)
		}
	}
	if CodeOf(http.StatusRequestEntityTooLarge) != bot.CodeInvalid {
		t.Error("413 is not invalid input")
	}
}

// TestWriteJSONIsNeitherCachedNorSniffed: every JSON answer of the two
// APIs carries its type, is never stored by a cache (it holds a
// customer's or an agent's data) and is not sniffed as another type.
func TestWriteJSONIsNeitherCachedNorSniffed(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteJSON(rec, http.StatusCreated, map[string]string{"note": "<b>x</b>"})
	if rec.Code != http.StatusCreated {
		t.Errorf("status %d, want 201", rec.Code)
	}
	for k, want := range map[string]string{
		"Content-Type":           "application/json; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &back); err != nil || back["note"] != "<b>x</b>" {
		t.Errorf("body %q (%v)", rec.Body.String(), err)
	}
}
