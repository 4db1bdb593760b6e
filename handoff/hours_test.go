package handoff_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/handoff"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// berlin has a DST change on 2026-03-29 (CET, UTC+1, to CEST, UTC+2) and
// Christmas holidays, one of them on a Saturday it would be open.
var berlin = handoff.MustParseHours("mon-fri 09:00-17:00; sat 10:00-14:00", "2026-12-25, 2026-12-26", "Europe/Berlin")

func TestHoursOpen(t *testing.T) {
	cases := []struct {
		name string
		at   string // UTC
		want bool
	}{
		{"a Friday morning in winter time is open", "2026-03-27 08:30", true},
		{"a Friday evening is closed", "2026-03-27 16:30", false},
		{"the last minute before closing is open", "2026-03-27 15:59", true},
		{"closing time itself is closed", "2026-03-27 16:00", false},
		{"a Saturday at 10:30 is open", "2026-03-28 09:30", true},
		{"a Sunday is closed", "2026-03-29 10:00", false},
		{"07:30 UTC on a Monday in winter time is 08:30 local and closed", "2026-03-23 07:30", false},
		{"07:30 UTC on the Monday after the DST change is 09:30 local and open", "2026-03-30 07:30", true},
		{"a holiday on a weekday is closed", "2026-12-25 10:00", false},
		{"a holiday on a Saturday is closed", "2026-12-26 10:00", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := berlin.Open(utc(tc.at)); got != tc.want {
				t.Errorf("Open(%s UTC) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}

func TestHoursNextOpen(t *testing.T) {
	cases := []struct {
		name     string
		from     string // UTC
		want     string // UTC
		wantZone string // the opening in Berlin's wall clock
	}{
		{"when open it is open now", "2026-03-27 08:30", "2026-03-27 08:30", "09:30 CET"},
		{"early on a weekday it opens at nine the same day", "2026-03-24 05:00", "2026-03-24 08:00", "09:00 CET"},
		{"after Saturday closing it opens on Monday at nine, summer time", "2026-03-28 13:00", "2026-03-30 07:00", "09:00 CEST"},
		{"on Christmas Eve evening it skips both holidays and Sunday", "2026-12-24 16:00", "2026-12-28 08:00", "09:00 CET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := berlin.NextOpen(utc(tc.from))
			if !got.Equal(utc(tc.want)) {
				t.Errorf("NextOpen(%s UTC) = %v, want %s UTC", tc.from, got.UTC(), tc.want)
			}
			if local := got.In(berlin.Location()).Format("15:04 MST"); local != tc.wantZone {
				t.Errorf("opens at %s local, want %s", local, tc.wantZone)
			}
		})
	}
}

func TestHoursElapsed(t *testing.T) {
	night := handoff.MustParseHours("sun 01:00-04:00", "", "Europe/Berlin")
	cases := []struct {
		name     string
		hours    handoff.Hours
		from, to string // UTC
		want     time.Duration
	}{
		{"over a weekend only open time counts, across the DST change", berlin, "2026-03-27 15:00", "2026-03-30 08:00", 6 * time.Hour},
		{"an hour skipped by the DST change is not counted", night, "2026-03-29 00:00", "2026-03-29 03:00", 2 * time.Hour},
		{"a holiday counts nothing", berlin, "2026-12-25 00:00", "2026-12-26 23:00", 0},
		{"within open hours all of it counts", berlin, "2026-03-27 08:00", "2026-03-27 08:20", 20 * time.Minute},
		{"a reversed interval is zero", berlin, "2026-03-27 09:00", "2026-03-27 08:00", 0},
		{"the zero value is always open", handoff.Hours{}, "2026-03-27 15:00", "2026-03-30 08:00", 65 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.hours.Elapsed(utc(tc.from), utc(tc.to)); got != tc.want {
				t.Errorf("Elapsed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestZeroHoursAreAlwaysOpen(t *testing.T) {
	var h handoff.Hours
	at := utc("2026-12-25 03:00")
	if !h.Open(at) || !h.NextOpen(at).Equal(at) || h.Location() != time.UTC {
		t.Error("the zero Hours should be open all the time, in UTC")
	}
	holidaysOnly := handoff.MustParseHours("", "2026-12-25", "")
	if holidaysOnly.Open(at) || !holidaysOnly.Open(utc("2026-12-24 03:00")) {
		t.Error("with no weekly hours but a holiday, only the holiday should be closed")
	}
	if got := holidaysOnly.NextOpen(at); !got.Equal(utc("2026-12-26 00:00")) {
		t.Errorf("after a holiday it opens at %v, want midnight", got)
	}
}

func TestParseHours(t *testing.T) {
	t.Run("lists, ranges across the week end, spaces and whole days are understood", func(t *testing.T) {
		h, err := handoff.ParseHours("mon, wed 09:00 - 12:00 , 13:00-17:00; fri-sun 10:00-11:00; Thursday 00:00-24:00", "", "UTC")
		if err != nil {
			t.Fatal(err)
		}
		for at, want := range map[string]bool{
			"2026-11-23 11:00": true,  // Monday
			"2026-11-23 12:30": false, // lunch
			"2026-11-24 11:00": false, // Tuesday
			"2026-11-25 16:59": true,  // Wednesday
			"2026-11-26 23:59": true,  // Thursday, all day
			"2026-11-29 10:30": true,  // Sunday, in fri-sun
		} {
			if got := h.Open(utc(at)); got != want {
				t.Errorf("Open(%s) = %v, want %v", at, got, want)
			}
		}
	})
	bad := []struct {
		name               string
		week, holidays, tz string
		wantInErrorMessage string
	}{
		{"days without times", "mon-fri", "", "", `want days and times`},
		{"an unknown day", "mox 09:00-17:00", "", "", `unknown day "mox"`},
		{"a time without two-digit hours", "mon 9:00-17:00", "", "", `time "9:00"`},
		{"a range that ends before it starts", "mon 17:00-09:00", "", "", `must end after it starts`},
		{"an hour past 24", "mon 09:00-25:00", "", "", `time "25:00"`},
		{"a range without a dash", "mon 09:00", "", "", `want HH:MM-HH:MM`},
		{"overlapping ranges on one day", "mon-fri 09:00-12:00; wed 11:00-13:00", "", "", `hours on wed overlap`},
		{"a holiday that is not a date", "", "2026-13-01", "", `holiday "2026-13-01"`},
		{"an unknown time zone", "", "", "Mars/Olympus", `time zone "Mars/Olympus"`},
	}
	for _, tc := range bad {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			_, err := handoff.ParseHours(tc.week, tc.holidays, tc.tz)
			if !errors.Is(err, handoff.ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.wantInErrorMessage) {
				t.Errorf("error %q does not say %q", err, tc.wantInErrorMessage)
			}
		})
	}
}
