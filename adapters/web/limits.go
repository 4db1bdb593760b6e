package web

import (
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limits keeps the rate limits that outlive a connection: a message
// bucket per visitor (customer), so that reconnecting does not refill
// it, and per client address a bucket of new visitors, a bucket of the
// messages of all its visitors together and a bound on the histories it
// is sent at once. rate.Limiter is safe for concurrent use; mu guards
// the maps and the counts of connections using an entry.
//
// Entries are made on first use and dropped by a sweep (at most once a
// minute, on the next use) when no connection uses them and their
// buckets are full again: such an entry limits exactly as a new one
// would, so dropping it forgets nothing. When a map reaches maxTracked
// entries, every entry no connection uses is dropped, so a map never
// holds much more than maxTracked entries plus one per connection.
type limits struct {
	opts *Options
	now  func() time.Time

	mu       sync.Mutex
	visitors map[string]*visitorLimit
	addrs    map[netip.Prefix]*addrLimit
	swept    time.Time
}

const (
	sweepEvery = time.Minute
	maxTracked = 100_000
)

// visitorLimit is one visitor's message bucket.
type visitorLimit struct {
	msgs  *rate.Limiter
	conns int // connections using it; guarded by limits.mu
}

// addrLimit is one client address's limits. An exempt address has none.
type addrLimit struct {
	exempt  bool
	hellos  *rate.Limiter // new visitors
	msgs    *rate.Limiter // messages of all its visitors
	resumes chan struct{} // a token for each history being sent
	conns   int           // guarded by limits.mu
}

func newLimits(opts *Options) *limits {
	return &limits{opts: opts, now: time.Now, visitors: map[string]*visitorLimit{}, addrs: map[netip.Prefix]*addrLimit{}}
}

// visitor returns the visitor's bucket, counting the connection as its
// user until releaseVisitor.
func (l *limits) visitor(id string) *visitorLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := l.visitors[id]
	if v == nil {
		l.maybeSweep(len(l.visitors))
		v = &visitorLimit{msgs: rate.NewLimiter(rate.Limit(l.opts.RatePerSecond), l.opts.RateBurst)}
		l.visitors[id] = v
	}
	v.conns++
	return v
}

func (l *limits) releaseVisitor(v *visitorLimit) {
	l.mu.Lock()
	v.conns--
	l.mu.Unlock()
}

// address returns the limits of a client address, counting the
// connection as their user until releaseAddress.
func (l *limits) address(key netip.Prefix, exempt bool) *addrLimit {
	if exempt {
		return &addrLimit{exempt: true}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.addrs[key]
	if a == nil {
		l.maybeSweep(len(l.addrs))
		a = &addrLimit{
			hellos:  rate.NewLimiter(rate.Limit(l.opts.HellosPerMinute/60), l.opts.HelloBurst),
			msgs:    rate.NewLimiter(rate.Limit(l.opts.AddressRatePerSecond), l.opts.AddressRateBurst),
			resumes: make(chan struct{}, l.opts.MaxResumes),
		}
		l.addrs[key] = a
	}
	a.conns++
	return a
}

func (l *limits) releaseAddress(a *addrLimit) {
	if a.exempt {
		return
	}
	l.mu.Lock()
	a.conns--
	l.mu.Unlock()
}

// maybeSweep drops idle entries once a minute, or all unused ones when
// a map is full. l.mu is held.
func (l *limits) maybeSweep(size int) {
	now := l.now()
	full := size >= maxTracked
	if !full && now.Sub(l.swept) < sweepEvery {
		return
	}
	l.swept = now
	for id, v := range l.visitors {
		if v.conns == 0 && (full || refilled(v.msgs, now)) {
			delete(l.visitors, id)
		}
	}
	for k, a := range l.addrs {
		if a.conns == 0 && (full || refilled(a.hellos, now) && refilled(a.msgs, now)) {
			delete(l.addrs, k)
		}
	}
}

// refilled reports whether the bucket is full: it limits as a new one.
func refilled(b *rate.Limiter, now time.Time) bool {
	return b.TokensAt(now) >= float64(b.Burst())
}

// size returns how many visitors and addresses are tracked.
func (l *limits) size() (visitors, addrs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.visitors), len(l.addrs)
}

// allowHello takes a new visitor's token from the address's bucket.
func (l *limits) allowHello(a *addrLimit) bool {
	return a.exempt || a.hellos.AllowN(l.now(), 1)
}

// allowMessage takes a token from the visitor's bucket and one from
// their address's. A refusal takes neither: a visitor over their own
// limit does not use up their neighbours' share.
func (l *limits) allowMessage(v *visitorLimit, a *addrLimit) bool {
	now := l.now()
	rv := v.msgs.ReserveN(now, 1)
	if !rv.OK() || rv.DelayFrom(now) > 0 {
		rv.CancelAt(now)
		return false
	}
	if a.exempt {
		return true
	}
	ra := a.msgs.ReserveN(now, 1)
	if !ra.OK() || ra.DelayFrom(now) > 0 {
		ra.CancelAt(now)
		rv.CancelAt(now)
		return false
	}
	return true
}

// startResume waits until the address may be sent one more history
// (MaxResumes at once), for at most ResumeWait or until done is closed;
// it reports whether it may. endResume gives the turn back.
func (l *limits) startResume(a *addrLimit, done <-chan struct{}) bool {
	if a.exempt {
		return true
	}
	select {
	case a.resumes <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(l.opts.ResumeWait)
	defer t.Stop()
	select {
	case a.resumes <- struct{}{}:
		return true
	case <-t.C:
	case <-done:
	}
	return false
}

func (l *limits) endResume(a *addrLimit) {
	if !a.exempt {
		<-a.resumes
	}
}

// clientAddr returns the key of the request's per-address limits, and
// whether the address is exempt from them. The address is the peer's, or
// with TrustProxy the last X-Forwarded-For entry (the one the proxy in
// front of us added; entries before it come from the client and prove
// nothing). An IPv6 address counts by its /64, which one customer
// usually holds whole.
func (s *Server) clientAddr(r *http.Request) (netip.Prefix, bool) {
	var addr netip.Addr
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		addr = ap.Addr()
	}
	if s.opts.TrustProxy {
		if vs := r.Header.Values("X-Forwarded-For"); len(vs) > 0 {
			hops := strings.Split(vs[len(vs)-1], ",")
			last := strings.TrimSpace(hops[len(hops)-1])
			if a, err := netip.ParseAddr(last); err == nil {
				addr = a
			} else if ap, err := netip.ParseAddrPort(last); err == nil {
				addr = ap.Addr()
			}
		}
	}
	addr = addr.Unmap().WithZone("")
	exempt := false
	for _, p := range s.opts.LimitExempt {
		if p.Contains(addr) {
			exempt = true
		}
	}
	bits := 64
	if addr.Is4() {
		bits = 32
	}
	key, err := addr.Prefix(bits)
	if err != nil {
		return netip.Prefix{}, exempt // not an IP address: all such share one key
	}
	return key, exempt
}
