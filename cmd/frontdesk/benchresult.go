package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// benchResult is what a bench run measured; `frontdesk bench --json`
// prints it as one JSON object.
type benchResult struct {
	URL           string  `json:"url"`           // the --url values, comma-separated
	Conversations int     `json:"conversations"` // asked for
	Connected     int64   `json:"connected"`     // said hello and got the greeting
	Rate          float64 `json:"rate"`          // turns a second per conversation; 0: as fast as answered
	Idle          bool    `json:"idle"`
	DurationS     float64 `json:"duration_s"`

	// Offered turns fell due; skipped ones were not sent because the
	// conversation's previous turn was still unanswered. Served turns were
	// answered by the bot, refused ones with an error frame; unanswered
	// ones were sent and had no answer when the bench stopped waiting.
	Offered       int64   `json:"offered"`
	OfferedPerSec float64 `json:"offered_per_sec"`
	Skipped       int64   `json:"skipped"`
	Served        int64   `json:"served"`
	TurnsPerSec   float64 `json:"turns_per_sec"`
	Refused       int64   `json:"refused"`
	Unanswered    int64   `json:"unanswered"`

	// Turn latency: from sending a message to the bot's first answer.
	P50Ms float64 `json:"p50_ms"`
	P90Ms float64 `json:"p90_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`

	Errors     int64            `json:"errors"`
	ErrorCodes map[string]int64 `json:"error_codes,omitempty"`
	Handoffs   int64            `json:"handoffs"`

	// Hello: from dialling to the greeting.
	HelloP50Ms float64 `json:"hello_p50_ms"`
	HelloP99Ms float64 `json:"hello_p99_ms"`
	// Echo: websocket ping to pong on extra connections during the run,
	// the bare websocket figure to set beside the turn latency.
	EchoP50Ms   float64 `json:"echo_p50_ms"`
	EchoP99Ms   float64 `json:"echo_p99_ms"`
	EchoSamples int     `json:"echo_samples"`

	// The server process, when it runs on this machine: its resident
	// memory before the connections and after them (--idle: once they
	// settled; otherwise at the end), and with --idle the difference per
	// connection.
	ServerLocal       bool    `json:"server_local"`
	ServerPID         int     `json:"server_pid,omitempty"`
	ServerRSSBeforeKB int64   `json:"server_rss_before_kb,omitempty"`
	ServerRSSAfterKB  int64   `json:"server_rss_after_kb,omitempty"`
	ServerKBPerConn   float64 `json:"server_kb_per_conn,omitempty"`
}

// summarise fills in res from the bench's counters and samples.
func (b *bench) summarise(res *benchResult, elapsed time.Duration) {
	res.DurationS = elapsed.Seconds()
	res.Offered, res.Skipped = b.offered.Load(), b.skipped.Load()
	res.Served, res.Refused = b.served.Load(), b.refused.Load()
	res.Unanswered = max(0, res.Offered-res.Skipped-res.Served-res.Refused)
	if res.DurationS > 0 {
		res.OfferedPerSec = float64(res.Offered) / res.DurationS
		res.TurnsPerSec = float64(res.Served) / res.DurationS
	}
	t := b.turns.sorted()
	res.P50Ms, res.P90Ms, res.P99Ms = millis(nearestRank(t, 0.5)), millis(nearestRank(t, 0.9)), millis(nearestRank(t, 0.99))
	if len(t) > 0 {
		res.MaxMs = millis(t[len(t)-1])
	}
	h := b.hellos.sorted()
	res.HelloP50Ms, res.HelloP99Ms = millis(nearestRank(h, 0.5)), millis(nearestRank(h, 0.99))
	e := b.echo.sorted()
	res.EchoP50Ms, res.EchoP99Ms, res.EchoSamples = millis(nearestRank(e, 0.5)), millis(nearestRank(e, 0.99)), len(e)
	res.Errors, res.Handoffs = b.errors.Load(), b.handoffs.Load()
	b.mu.Lock()
	if len(b.errCodes) > 0 {
		res.ErrorCodes = maps.Clone(b.errCodes)
	}
	b.mu.Unlock()
}

// print writes the result for people.
func (r *benchResult) print(w io.Writer) {
	ms := func(v float64) string { return fmtMs(time.Duration(v * float64(time.Millisecond))) }
	if r.Idle {
		fmt.Fprintf(w, "Frontdesk bench --idle: %d connections held for %.1f s (%s)\n", r.Conversations, r.DurationS, r.URL)
	} else {
		pace := fmt.Sprintf("%g turns/s each", r.Rate)
		if r.Conversations == 1 {
			pace = fmt.Sprintf("%g turns/s", r.Rate)
		}
		if r.Rate == 0 {
			pace = fmt.Sprintf("each turn as soon as the last was answered (%d at once, then 1/s)", benchBurst)
		}
		fmt.Fprintf(w, "Frontdesk bench: %s, %s, for %.1f s (%s)\n", plural(r.Conversations, "conversation"), pace, r.DurationS, r.URL)
	}
	fmt.Fprintf(w, "  connected       %d of %d; hello to greeting p50 %s, p99 %s\n", r.Connected, r.Conversations, ms(r.HelloP50Ms), ms(r.HelloP99Ms))
	if !r.Idle {
		fmt.Fprintf(w, "  offered         %.1f turns/s (%d turns; %d skipped: the previous turn was unanswered)\n", r.OfferedPerSec, r.Offered, r.Skipped)
		fmt.Fprintf(w, "  served          %.1f turns/s (%d answered, %d refused, %d unanswered)\n", r.TurnsPerSec, r.Served, r.Refused, r.Unanswered)
		fmt.Fprintf(w, "  turn latency    p50 %s, p90 %s, p99 %s, max %s\n", ms(r.P50Ms), ms(r.P90Ms), ms(r.P99Ms), ms(r.MaxMs))
	}
	errs := fmt.Sprint(r.Errors)
	if len(r.ErrorCodes) > 0 {
		var parts []string
		for _, c := range slices.Sorted(maps.Keys(r.ErrorCodes)) {
			parts = append(parts, fmt.Sprintf("%s %d", c, r.ErrorCodes[c]))
		}
		errs += " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(w, "  errors          %s\n", errs)
	if !r.Idle {
		fmt.Fprintf(w, "  hand-offs       %d\n", r.Handoffs)
	}
	fmt.Fprintf(w, "  websocket echo  p50 %s, p99 %s (ping to pong on %d more connections, %d samples)\n", ms(r.EchoP50Ms), ms(r.EchoP99Ms), benchEchoConns, r.EchoSamples)
	switch {
	case !r.ServerLocal:
		if r.Idle {
			fmt.Fprintf(w, "  server memory   not measured: the server is not on this machine\n")
		}
	case r.ServerPID == 0:
		fmt.Fprintf(w, "  server memory   not measured: its process was not found\n")
	case r.Idle:
		fmt.Fprintf(w, "  server memory   %s before, %s with the connections (pid %d): %.1f KB a connection\n", kbString(r.ServerRSSBeforeKB), kbString(r.ServerRSSAfterKB), r.ServerPID, r.ServerKBPerConn)
	default:
		fmt.Fprintf(w, "  server memory   %s before, %s at the end (pid %d)\n", kbString(r.ServerRSSBeforeKB), kbString(r.ServerRSSAfterKB), r.ServerPID)
	}
}

// plural is "1 conversation" or "2 conversations".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// kbString shows a resident size in kB as MB.
func kbString(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

// samples keeps every measurement, so that percentiles are exact.
type samples struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *samples) add(d time.Duration) {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
}

// sorted returns a sorted copy.
func (s *samples) sorted() []time.Duration {
	s.mu.Lock()
	d := slices.Clone(s.d)
	s.mu.Unlock()
	slices.Sort(d)
	return d
}

// percentile returns the p-quantile (0 < p <= 1) of the samples so far.
func (s *samples) percentile(p float64) time.Duration {
	return nearestRank(s.sorted(), p)
}

// nearestRank is the p-quantile of sorted by the nearest-rank method: the
// smallest sample with at least p of all samples at or below it.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtMs(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", millis(d))
	default:
		return fmt.Sprintf("%.0f ms", millis(d))
	}
}
