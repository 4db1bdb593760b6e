package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// benchURL is the customer websocket of a server started with startServe.
func benchURL(base string) string {
	return "ws://" + strings.TrimPrefix(base, "http://") + "/ws"
}

// benchJSON runs bench --json and decodes its one JSON object.
func benchJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	r, _ := benchJSONLog(t, args...)
	return r
}

// benchJSONLog is benchJSON that also returns what bench wrote to
// stderr (its progress and the first errors), for a failure message.
func benchJSONLog(t *testing.T, args ...string) (map[string]any, string) {
	t.Helper()
	out, stderr, err := runCmd(t, append([]string{"bench", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var r map[string]any
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value on stdout:\n%s", out)
	}
	return r, stderr
}

func number(t *testing.T, r map[string]any, key string) float64 {
	t.Helper()
	v, ok := r[key].(float64)
	if !ok {
		t.Fatalf("%s missing or not a number: %v", key, r[key])
	}
	return v
}

func TestBenchAgainstARealServer(t *testing.T) {
	// The bench's visitors all come from here: more new visitors than one
	// address may start.
	url := benchURL(startServe(t, "--limit-exempt", "127.0.0.1"))
	for _, rate := range []string{"0", "1"} {
		t.Run("at rate "+rate+" every turn is answered without errors", func(t *testing.T) {
			r := benchJSON(t, "--url", url, "--conversations", "4", "--rate", rate, "--duration", "2s")
			if got := number(t, r, "conversations"); got != 4 {
				t.Errorf("conversations = %v, want 4", got)
			}
			if got := number(t, r, "connected"); got != 4 {
				t.Errorf("connected = %v, want 4", got)
			}
			if number(t, r, "turns_per_sec") <= 0 || number(t, r, "offered_per_sec") <= 0 {
				t.Errorf("no turns: %v", r)
			}
			p50, p90, p99, maxMs := number(t, r, "p50_ms"), number(t, r, "p90_ms"), number(t, r, "p99_ms"), number(t, r, "max_ms")
			if p50 <= 0 || p50 > p90 || p90 > p99 || p99 > maxMs {
				t.Errorf("latencies out of order: p50 %v, p90 %v, p99 %v, max %v", p50, p90, p99, maxMs)
			}
			for _, key := range []string{"errors", "handoffs", "refused", "unanswered", "skipped"} {
				if got := number(t, r, key); got != 0 {
					t.Errorf("%s = %v, want 0 (%v)", key, got, r)
				}
			}
			if number(t, r, "served") != number(t, r, "offered") {
				t.Errorf("served %v of %v offered turns", r["served"], r["offered"])
			}
			if number(t, r, "echo_samples") == 0 || number(t, r, "echo_p50_ms") > number(t, r, "echo_p99_ms") {
				t.Errorf("echo figure missing or out of order: %v", r)
			}
			if d := number(t, r, "duration_s"); d < 1.9 || d > 3 {
				t.Errorf("duration_s = %v, want about 2", d)
			}
			// Pacing: at rate 1 each conversation has 2 turns due in 2 s; at
			// rate 0 the client's bucket allows benchBurst at once, then 1/s,
			// which stays inside the server's limit (10 at once, then 1/s).
			perConv := number(t, r, "offered") / 4
			if rate == "1" && (perConv < 1.75 || perConv > 2) {
				t.Errorf("%v turns a conversation in 2 s at rate 1, want 2 (a last tick may just miss the end)", perConv)
			}
			if rate == "0" && (perConv < benchBurst || perConv > benchBurst+3) {
				t.Errorf("%v turns a conversation in 2 s at rate 0, want %d to %d", perConv, benchBurst, benchBurst+3)
			}
		})
	}
	t.Run("the report for people names every figure", func(t *testing.T) {
		out, stderr, err := runCmd(t, "bench", "--url", url, "--conversations", "2", "--duration", "1s")
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		for _, want := range []string{"2 conversations", "offered", "served", "turn latency", "p99", "errors", "hand-offs", "websocket echo"} {
			if !strings.Contains(out, want) {
				t.Errorf("report lacks %q:\n%s", want, out)
			}
		}
		if !strings.Contains(stderr, "connected 2/2") {
			t.Errorf("no progress line on stderr:\n%s", stderr)
		}
	})
	t.Run("idle connections report the server's memory", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("server memory is read from /proc")
		}
		// The server shares this process with the subtests before: what
		// their load left for the collector is given back to the system
		// first, or the memory the idle connections take can drown in
		// what the runtime returns meanwhile.
		debug.FreeOSMemory()
		r := benchJSON(t, "--url", url, "--conversations", "300", "--idle", "--duration", "1s")
		if got := number(t, r, "connected"); got != 300 {
			t.Errorf("connected = %v, want 300", got)
		}
		if r["server_local"] != true {
			t.Errorf("server_local = %v for a server on 127.0.0.1", r["server_local"])
		}
		// The server runs in the test's process.
		if got := number(t, r, "server_pid"); int(got) != os.Getpid() {
			t.Errorf("server_pid = %v, want this process, %d", got, os.Getpid())
		}
		if number(t, r, "server_rss_before_kb") <= 0 || number(t, r, "server_rss_after_kb") <= 0 {
			t.Errorf("no memory figures: %v", r)
		}
		if number(t, r, "server_kb_per_conn") <= 0 {
			t.Errorf("server_kb_per_conn = %v, want a positive figure", r["server_kb_per_conn"])
		}
		if number(t, r, "offered") != 0 || number(t, r, "errors") != 0 {
			t.Errorf("idle connections sent or failed: %v", r)
		}
	})
}

// With --url given twice, the conversations are spread over both
// servers in turn (as over the nodes of a cluster): each server stores
// the customer messages of its half, and the result names both URLs.
func TestBenchSpreadsConversationsOverSeveralURLs(t *testing.T) {
	base1 := startServe(t, "--limit-exempt", "127.0.0.1")
	base2 := startServe(t, "--limit-exempt", "127.0.0.1")
	r, stderr := benchJSONLog(t, "--url", benchURL(base1), "--url", benchURL(base2), "--conversations", "4", "--rate", "0", "--duration", "2s")
	if got := number(t, r, "connected"); got != 4 {
		t.Errorf("connected = %v, want 4\n%s", got, stderr)
	}
	if got := number(t, r, "errors"); got != 0 {
		t.Errorf("errors = %v (%v), want 0\n%s", got, r["error_codes"], stderr)
	}
	if got, want := r["url"], benchURL(base1)+","+benchURL(base2); got != want {
		t.Errorf("url = %v, want %s", got, want)
	}
	served := number(t, r, "served")
	var stored float64
	for _, base := range []string{base1, base2} {
		n := sample(families(t, base+"/metrics"), "frontdesk_messages_total", "channel", "web", "from", "customer")
		if !(n >= 2) { // at least one message from each of its 2 conversations
			t.Errorf("%s stored %v customer messages, want its share of the %v turns", base, n, served)
		}
		stored += n
	}
	if stored < served {
		t.Errorf("the servers stored %v customer messages, fewer than the %v turns served", stored, served)
	}
}

func TestBenchRejectsMalformedQuestions(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		lines []string
		want  string
	}{
		{"a line that is not JSON", []string{`{"text": "where is my order"}`, `{"text": "oops"`}, "bad.jsonl:2"},
		{"a misspelt field", []string{`{"txt": "where is my order"}`}, `bad.jsonl:1: not a JSON object {"text": ...}: json: unknown field "txt"`},
		{"an empty text", []string{`{"text": "ok", "intent": "x"}`, `{"text": "  "}`}, `bad.jsonl:2: "text" must be a non-empty string`},
		{"no questions at all", []string{""}, "no questions"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is refused before connecting", func(t *testing.T) {
			file := writeSet(t, dir, "bad.jsonl", tc.lines...)
			out, _, err := runCmd(t, "bench", "--url", "ws://127.0.0.1:1/ws", "--questions", file, "--json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
			if out != "" {
				t.Errorf("stdout not empty on error: %q", out)
			}
		})
	}
	if _, _, err := runCmd(t, "bench", "--questions", filepath.Join(dir, "missing.jsonl")); err == nil || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestBenchFailsClearlyWithoutAServer(t *testing.T) {
	addr := freeAddr(t)
	start := time.Now()
	out, _, err := runCmd(t, "bench", "--url", "ws://"+addr+"/ws", "--duration", "1s", "--json")
	if err == nil {
		t.Fatal("bench against a closed port succeeded")
	}
	for _, want := range []string{"connect to ws://" + addr + "/ws", "connection refused", "is frontdesk serve running"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if out != "" {
		t.Errorf("stdout not empty on error: %q", out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to fail", d)
	}
}

func TestBenchSaysWhenTheServerLimitsItsAddress(t *testing.T) {
	url := benchURL(startServe(t))
	out, stderr, err := runCmd(t, "bench", "--json", "--url", url, "--conversations", "70", "--idle", "--duration", "1s")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if got := number(t, r, "connected"); got < 60 || got > 62 {
		t.Errorf("connected = %v, want 60 (the new visitors one address may start at once) or a little more", got)
	}
	if !strings.Contains(stderr, "--limit-exempt") {
		t.Errorf("the refusals do not say how to exempt this machine:\n%s", stderr)
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	cases := [][]string{
		{"--url", "http://127.0.0.1:8080/ws"},
		{"--url", "ws://127.0.0.1:8080/ws", "--url", "127.0.0.1:8081"},
		{"--conversations", "0"},
		{"--conversations", "many"},
		{"--rate", "-1"},
		{"--duration", "0s"},
		{"--duration", "30"},
		{"--idle=maybe"},
		{"extra-argument"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " ")+" is a usage error", func(t *testing.T) {
			_, _, err := runCmd(t, append([]string{"bench"}, args...)...)
			if !errors.As(err, new(usageError)) {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}
}

func TestNearestRank(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	cases := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.9, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 1, 10 * time.Millisecond},
	}
	for _, tc := range cases {
		if got := nearestRank(tc.sorted, tc.p); got != tc.want {
			t.Errorf("nearestRank(%v, %v) = %v, want %v", tc.sorted, tc.p, got, tc.want)
		}
	}
}
