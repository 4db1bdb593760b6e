package handoff_test

import (
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/handoff"
)

func TestAboutWaitSaysAWaitInWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second:               "about a minute",
		4*time.Minute + 10*time.Second: "about 4 minutes",
		65 * time.Minute:               "about an hour",
		3*time.Hour + 10*time.Minute:   "about 3 hours",
		30 * time.Hour:                 "a day or more",
	} {
		if got := handoff.AboutWait(d); got != want {
			t.Errorf("AboutWait(%s) = %q, want %q", d, got, want)
		}
	}
}
