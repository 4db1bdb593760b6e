package main

import (
	"regexp"
	"strings"
	"time"
)

// tzAreas are the areas of the tz database's zone names (Europe/Berlin),
// with the sub-areas that hold cities (America/Argentina/Salta).
var tzAreas = []string{
	"Europe", "America", "Asia", "Africa", "Australia", "Pacific", "Atlantic", "Indian", "Antarctica",
	"America/Argentina", "America/Indiana", "America/Kentucky", "America/North_Dakota",
}

// timezoneHint suggests the tz database names that end in tz, as a person
// who types "Berlin" or "new york" means: "Europe/Berlin", or "" when
// none does. Names are looked up in the database itself (embedded with
// time/tzdata), city words capitalised and joined with '_'.
func timezoneHint(tz string) string {
	ws := strings.FieldsFunc(strings.TrimSpace(tz), func(r rune) bool { return r == ' ' || r == '_' || r == '/' })
	if len(ws) == 0 {
		return ""
	}
	city := ws[len(ws)-1:]
	if len(ws) > 1 && !strings.Contains(tz, "/") {
		city = ws
	}
	for i, w := range city {
		city[i] = strings.ToUpper(w[:1]) + strings.ToLower(w[1:])
	}
	name := strings.Join(city, "_")
	var found []string
	for _, area := range tzAreas {
		if _, err := time.LoadLocation(area + "/" + name); err == nil {
			found = append(found, area+"/"+name)
		}
	}
	if len(found) == 0 {
		if _, err := time.LoadLocation(strings.ToUpper(name)); err == nil {
			found = append(found, strings.ToUpper(name))
		}
	}
	if len(found) == 0 {
		return `time zones are tz database names such as "Europe/Berlin", "America/New_York" or "UTC"`
	}
	return `did you mean "` + strings.Join(found, `" or "`) + `"?`
}

// dayAfterComma finds a comma that starts another day's hours, as in
// "mon-fri 09:00-17:00, sat 10:00-14:00".
var dayAfterComma = regexp.MustCompile(`(?i),\s*(mon|tue|wed|thu|fri|sat|sun)`)

// hoursHint suggests the fix for a common mistake in --business-hours,
// or returns "".
func hoursHint(hours string) string {
	if loc := dayAfterComma.FindStringIndex(hours); loc != nil {
		fixed := dayAfterComma.ReplaceAllString(hours, "; $1")
		return `days are separated by ";", not ",": "` + fixed + `"`
	}
	return ""
}
