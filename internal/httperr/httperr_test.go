package httperr

import (
	"net/http"
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
