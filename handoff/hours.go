package handoff

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Hours are when people answer: weekly opening hours in a time zone, and
// holidays on which they do not. The zero value is always open, in UTC.
//
// Outside hours the queue keeps accepting tickets; the customer is told
// when people are back (NextOpen), and SLA timers count only open time
// (Elapsed).
type Hours struct {
	loc      *time.Location
	week     [7][]span // by time.Weekday
	holidays map[date]bool
}

// span is an opening on one day, in minutes after midnight, wall clock.
type span struct{ start, end int }

type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

// ParseHours reads business hours from their configuration form.
//
// week lists openings separated by semicolons. Each opening is a set of
// days, a space, and one or more comma-separated time ranges:
//
//	mon-fri 09:00-17:00; sat 10:00-14:00
//	mon,wed,fri 08:00-12:00,13:00-17:30; sun 00:00-24:00
//
// Days are mon, tue, wed, thu, fri, sat, sun (or their full English
// names), alone, in comma lists, or as ranges (fri-mon wraps around the
// week). Times are 24-hour HH:MM on the wall clock of the time zone; a
// range ends after it starts and at 24:00 at the latest, so hours past
// midnight are written as two openings. Days not listed are closed. An
// empty week means open every day, all day.
//
// holidays is a comma-separated list of dates, 2006-01-02 style, on which
// it is closed all day. tz is an IANA time zone such as "Europe/Berlin"
// ("" means UTC). Errors wrap ErrInvalid and quote the offending part.
func ParseHours(week, holidays, tz string) (Hours, error) {
	var h Hours
	loc, err := time.LoadLocation(strings.TrimSpace(tz))
	if err != nil {
		return Hours{}, fmt.Errorf("%w: time zone %q: %v", ErrInvalid, tz, err)
	}
	h.loc = loc
	for entry := range strings.SplitSeq(week, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if err := h.parseOpening(entry); err != nil {
			return Hours{}, fmt.Errorf("%w: hours %q: %v", ErrInvalid, entry, err)
		}
	}
	for wd := range h.week {
		spans := h.week[wd]
		slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
		for i := 1; i < len(spans); i++ {
			if spans[i].start < spans[i-1].end {
				return Hours{}, fmt.Errorf("%w: hours on %s overlap (%s and %s)", ErrInvalid,
					strings.ToLower(time.Weekday(wd).String()[:3]), spans[i-1], spans[i])
			}
		}
	}
	for s := range strings.SplitSeq(holidays, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return Hours{}, fmt.Errorf("%w: holiday %q is not a date like 2026-12-25", ErrInvalid, s)
		}
		if h.holidays == nil {
			h.holidays = map[date]bool{}
		}
		h.holidays[dateOf(d)] = true
	}
	return h, nil
}

// MustParseHours is ParseHours for hours known to be valid, such as
// constants in tests; it panics on an error.
func MustParseHours(week, holidays, tz string) Hours {
	h, err := ParseHours(week, holidays, tz)
	if err != nil {
		panic(err)
	}
	return h
}

func (h *Hours) parseOpening(entry string) error {
	i := strings.IndexAny(entry, "0123456789")
	if i <= 0 {
		return fmt.Errorf("want days and times, like \"mon-fri 09:00-17:00\"")
	}
	days := strings.ReplaceAll(entry[:i], " ", "")
	ranges := strings.ReplaceAll(entry[i:], " ", "")
	var spans []span
	for r := range strings.SplitSeq(ranges, ",") {
		from, to, ok := strings.Cut(r, "-")
		if !ok {
			return fmt.Errorf("time range %q: want HH:MM-HH:MM", r)
		}
		start, err := parseClock(from)
		if err != nil {
			return err
		}
		end, err := parseClock(to)
		if err != nil {
			return err
		}
		if start == 24*60 || end <= start {
			return fmt.Errorf("time range %q must end after it starts, on the same day (split hours past midnight in two)", r)
		}
		spans = append(spans, span{start, end})
	}
	for d := range strings.SplitSeq(days, ",") {
		first, last, isRange := strings.Cut(d, "-")
		a, err := parseDay(first)
		if err != nil {
			return err
		}
		b := a
		if isRange {
			if b, err = parseDay(last); err != nil {
				return err
			}
		}
		for wd := a; ; wd = (wd + 1) % 7 {
			h.week[wd] = append(h.week[wd], spans...)
			if wd == b {
				break
			}
		}
	}
	return nil
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func parseDay(s string) (time.Weekday, error) {
	d, ok := dayNames[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return 0, fmt.Errorf("unknown day %q (use mon, tue, wed, thu, fri, sat, sun)", s)
	}
	return d, nil
}

// parseClock returns the minutes after midnight of "HH:MM" (up to 24:00).
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	hour, err1 := strconv.Atoi(hh)
	minute, err2 := strconv.Atoi(mm)
	if !ok || len(hh) != 2 || len(mm) != 2 || err1 != nil || err2 != nil ||
		hour < 0 || minute < 0 || minute > 59 || hour > 24 || (hour == 24 && minute != 0) {
		return 0, fmt.Errorf("time %q: want HH:MM between 00:00 and 24:00", s)
	}
	return hour*60 + minute, nil
}

func (s span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.start/60, s.start%60, s.end/60, s.end%60)
}

// Location returns the time zone the hours are in, for telling a customer
// when people are back in local time.
func (h Hours) Location() *time.Location {
	if h.loc == nil {
		return time.UTC
	}
	return h.loc
}

func (h Hours) scheduled() bool {
	for _, s := range h.week {
		if len(s) > 0 {
			return true
		}
	}
	return false
}

// openings returns the open intervals of the day starting at midnight
// (local), as instants.
func (h Hours) openings(midnight time.Time) [][2]time.Time {
	if h.holidays[dateOf(midnight)] {
		return nil
	}
	y, m, d := midnight.Date()
	if !h.scheduled() {
		return [][2]time.Time{{midnight, time.Date(y, m, d+1, 0, 0, 0, 0, h.Location())}}
	}
	var out [][2]time.Time
	for _, s := range h.week[midnight.Weekday()] {
		out = append(out, [2]time.Time{
			time.Date(y, m, d, s.start/60, s.start%60, 0, 0, h.Location()),
			time.Date(y, m, d, s.end/60, s.end%60, 0, 0, h.Location()),
		})
	}
	return out
}

func (h Hours) midnight(t time.Time) time.Time {
	y, m, d := t.In(h.Location()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, h.Location())
}

// Open reports whether people answer at t.
func (h Hours) Open(t time.Time) bool {
	lt := t.In(h.Location())
	if h.holidays[dateOf(lt)] {
		return false
	}
	if !h.scheduled() {
		return true
	}
	m := lt.Hour()*60 + lt.Minute()
	for _, s := range h.week[lt.Weekday()] {
		if s.start <= m && m < s.end {
			return true
		}
	}
	return false
}

// searchDays bounds how far NextOpen looks ahead.
const searchDays = 400

// NextOpen returns t if it is open then, else the next time it opens. It
// returns the zero time if it does not open within a year (every day a
// holiday).
func (h Hours) NextOpen(t time.Time) time.Time {
	if h.Open(t) {
		return t
	}
	day := h.midnight(t)
	for range searchDays {
		for _, o := range h.openings(day) {
			if o[0].After(t) {
				return o[0]
			}
		}
		y, m, d := day.Date()
		day = time.Date(y, m, d+1, 0, 0, 0, 0, h.Location())
	}
	return time.Time{}
}

// Elapsed returns how much of the interval from from to to was open: the
// waiting time that counts against an SLA.
func (h Hours) Elapsed(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if !h.scheduled() && len(h.holidays) == 0 {
		return to.Sub(from)
	}
	var total time.Duration
	for day := h.midnight(from); day.Before(to); {
		for _, o := range h.openings(day) {
			start, end := later(o[0], from), earlier(o[1], to)
			if end.After(start) {
				total += end.Sub(start)
			}
		}
		y, m, d := day.Date()
		day = time.Date(y, m, d+1, 0, 0, 0, 0, h.Location())
	}
	return total
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
