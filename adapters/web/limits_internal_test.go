package web

import (
	"fmt"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/internal/testclock"
)

func testLimits() (*limits, *testclock.Clock) {
	// 3 at once, refilled in 150 s.
	s := NewServer(nil, Options{RateBurst: 3, RatePerSecond: 0.02})
	clock := testclock.New(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	s.limits.now = clock.Now
	return s.limits, clock
}

func TestIdleLimitsArePrunedOnlyOnceTheyForgetNothing(t *testing.T) {
	l, clock := testLimits()
	addr := netip.MustParsePrefix("203.0.113.1/32")

	busy := l.visitor("cus_busy") // connected throughout
	spent := l.visitor("cus_spent")
	for range 3 {
		if !l.allowMessage(spent, l.address(addr, false)) {
			t.Fatal("refused within the burst")
		}
	}
	l.releaseVisitor(spent)
	idle := l.visitor("cus_idle")
	l.releaseVisitor(idle)
	_ = busy

	clock.Add(4 * sweepEvery) // cus_spent's bucket is full again
	l.visitor("cus_new")      // a use sweeps
	if _, ok := l.visitors["cus_idle"]; ok {
		t.Error("an idle visitor with a full bucket was kept")
	}
	if _, ok := l.visitors["cus_busy"]; !ok {
		t.Error("a connected visitor was dropped")
	}
	if _, ok := l.visitors["cus_spent"]; ok {
		t.Error("a visitor whose bucket had refilled was kept")
	}

	// A visitor who used up their bucket and left is remembered until it
	// refills: reconnecting at once does not start afresh.
	again := l.visitor("cus_again")
	for l.allowMessage(again, l.address(netip.MustParsePrefix("203.0.113.2/32"), false)) {
	}
	l.releaseVisitor(again)
	clock.Add(sweepEvery + time.Second)
	l.visitor("cus_other")
	back := l.visitor("cus_again")
	if back != again || back.msgs.TokensAt(clock.Now()) >= 3 {
		t.Error("a visitor who used up their bucket got a fresh one by reconnecting")
	}
}

func TestTheLimitMapsStayBounded(t *testing.T) {
	l, _ := testLimits()
	held := l.visitor("held")
	for i := range maxTracked + 10 {
		v := l.visitor(fmt.Sprint("cus_", i))
		l.allowMessage(v, &addrLimit{exempt: true}) // a spent bucket is not refilled
		l.releaseVisitor(v)
	}
	if n, _ := l.size(); n > maxTracked+1 {
		t.Errorf("%d visitors tracked, want at most %d plus those connected", n, maxTracked)
	}
	if l.visitors["held"] != held {
		t.Error("a connected visitor was dropped to make room")
	}
}

func TestClientAddress(t *testing.T) {
	exempt := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	cases := []struct {
		name       string
		trustProxy bool
		remote     string
		xff        []string
		key        string
		exempt     bool
	}{
		{"the peer's IPv4 address", false, "203.0.113.9:5123", nil, "203.0.113.9/32", false},
		{"an IPv6 peer by its /64", false, "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64", false},
		{"an IPv4-mapped IPv6 peer as IPv4", false, "[::ffff:203.0.113.9]:1", nil, "203.0.113.9/32", false},
		{"X-Forwarded-For ignored unless trusted", false, "203.0.113.9:5123", []string{"198.51.100.1"}, "203.0.113.9/32", false},
		{"the last X-Forwarded-For entry behind a trusted proxy", true, "127.0.0.1:80", []string{"10.0.0.1, 198.51.100.1", "198.51.100.2"}, "198.51.100.2/32", false},
		{"a trusted proxy without the header: the peer", true, "127.0.0.1:80", nil, "127.0.0.1/32", true},
		{"an exempt peer", false, "127.0.0.1:80", nil, "127.0.0.1/32", true},
		{"a client behind the proxy is not exempt as the proxy is", true, "127.0.0.1:80", []string{"198.51.100.3"}, "198.51.100.3/32", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{opts: Options{TrustProxy: tc.trustProxy, LimitExempt: exempt}}
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			key, ex := s.clientAddr(r)
			if key.String() != tc.key || ex != tc.exempt {
				t.Errorf("got %s (exempt %v), want %s (exempt %v)", key, ex, tc.key, tc.exempt)
			}
		})
	}
}
