package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/adapters/webhook"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/kbtest"
	"github.com/frontdesk/frontdesk/internal/testclock"
	"github.com/frontdesk/frontdesk/store/bolt"
)

var secret = []byte("webhook secret for tests")

// receiver is a shop's endpoint that fails its first failFirst requests
// with 500, then keeps every event it accepts.
type receiver struct {
	t         *testing.T
	mu        sync.Mutex
	failFirst int
	requests  int
	got       []webhook.Payload
	badSig    int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests++
	if !webhook.Verify(secret, body, r.Header.Get("X-Frontdesk-Signature")) {
		rc.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if rc.requests <= rc.failFirst {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		rc.t.Errorf("body %q: %v", body, err)
	}
	if r.Header.Get("X-Frontdesk-Event") != p.Type || r.Header.Get("X-Frontdesk-Delivery") != p.ID {
		rc.t.Errorf("headers %v for %s %s", r.Header, p.Type, p.ID)
	}
	rc.got = append(rc.got, p)
}

func (rc *receiver) events() []webhook.Payload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]webhook.Payload(nil), rc.got...)
}

var testKB = kbtest.Shop

// openDB opens a bbolt file for the test, closed when it ends.
func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestFailingReceiverGetsEveryEventOnceInOrderSigned(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := &receiver{t: t, failFirst: 3}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	db := openDB(t)
	hooks, err := webhook.New(db, webhook.Options{URLs: []string{srv.URL + "/hooks"}, Secret: secret, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := bot.NewEngine(testKB(t), db, bot.NewBus(), bot.Options{Recorder: hooks.Recorder()})
	agents := handoff.NewAgents(db, handoff.AgentsOptions{})
	q := handoff.NewQueue(db, e, handoff.Options{ManualAssign: true})
	e.SetHandoff(q)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { hooks.Run(ctx) })

	if _, _, err := e.PutVerified(ctx, bot.Verified{ExternalID: "shop-9", Name: "Ana"}); err != nil {
		t.Fatal(err)
	}
	visitor := bot.Identity{Channel: bot.Web, ID: "visitor"}
	if _, err := e.Identify(ctx, visitor, bot.Verified{ExternalID: "shop-9"}); err != nil {
		t.Fatal(err)
	}
	s, err := e.Start(ctx, visitor, bot.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	conv := s.Conversation.ID
	for i, text := range []string{"how do i return an item", "I want to talk to a person"} {
		if _, err := e.Handle(ctx, bot.Inbound{ConversationID: conv, ClientID: string(rune('a' + i)), Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	ag, err := agents.Add(ctx, handoff.NewAgent{Name: "Sam", Email: "sam@shop.example", Role: handoff.RoleAgent, Password: "a long password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Claim(ctx, conv, ag.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Resolve(ctx, conv, ag.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Handle(ctx, bot.Inbound{ConversationID: conv, ClientID: "rate", Text: "5", Payload: "survey:5"}); err != nil {
		t.Fatal(err)
	}
	stored, err := db.Messages(ctx, conv, 0)
	if err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		st := hooks.Status()
		if st.Pending == 0 && len(rc.events()) > 0 && st.Delivered == int64(len(rc.events())) {
			n := 0
			db.Outbox(ctx, 0, 0, func(uint64, []byte) { n++ })
			if n == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: status %+v, received %d", st, len(rc.events()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := rc.events()
	seen := map[string]bool{}
	var types []string
	var seqs []int64
	for _, p := range got {
		if seen[p.ID] {
			t.Errorf("event %s %s delivered twice", p.Type, p.ID)
		}
		seen[p.ID] = true
		if p.Timestamp.IsZero() || p.ID == "" {
			t.Errorf("event without id or timestamp: %+v", p)
		}
		if p.ConversationID == conv {
			types = append(types, p.Type)
			if p.ExternalID != "shop-9" {
				t.Errorf("event %s has external id %q", p.Type, p.ExternalID)
			}
		}
		if p.Type == webhook.MessageCreated {
			seqs = append(seqs, int64(p.Data.(map[string]any)["message"].(map[string]any)["seq"].(float64)))
		}
	}
	if rc.badSig != 0 || rc.requests != len(got)+3 {
		t.Errorf("%d requests, %d with a bad signature, %d accepted: want accepted + 3 failures", rc.requests, rc.badSig, len(got))
	}
	if n := countType(got, webhook.CustomerUpdated); n != 1 {
		t.Errorf("%d customer.updated events, want 1 (the PUT; joining a browser changes no profile)", n)
	}
	// Messages arrive in seq order, one each, and every kind came.
	if len(seqs) != len(stored) {
		t.Errorf("%d message events for %d messages", len(seqs), len(stored))
	}
	for i := range seqs {
		if seqs[i] != int64(i+1) {
			t.Fatalf("message events in order %v", seqs)
		}
	}
	first := map[string]int{}
	for i, typ := range types {
		if _, ok := first[typ]; !ok {
			first[typ] = i
		}
	}
	order := []string{webhook.ConversationCreated, webhook.MessageCreated, webhook.HandoffQueued, webhook.ConversationClaimed, webhook.ConversationResolved, webhook.SurveyRated}
	for i, typ := range order {
		if _, ok := first[typ]; !ok {
			t.Errorf("no %s event (got %v)", typ, types)
			continue
		}
		if i > 0 && first[typ] < first[order[i-1]] {
			t.Errorf("%s came before %s: %v", typ, order[i-1], types)
		}
	}
	if st := hooks.Status(); st.Failed != 3 || len(st.Failures) != 3 || st.Failures[0].Error == "" {
		t.Errorf("status %+v, want 3 failures recorded", st)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for _, o := range []webhook.Options{
		{URLs: nil, Secret: secret},
		{URLs: []string{"ftp://shop.example/hook"}, Secret: secret},
		{URLs: []string{"https://shop.example/hook"}, Secret: []byte("short")},
	} {
		if _, err := webhook.New(nil, o); err == nil {
			t.Errorf("New accepted %+v", o)
		}
	}
}

func countType(ps []webhook.Payload, typ string) int {
	n := 0
	for _, p := range ps {
		if p.Type == typ {
			n++
		}
	}
	return n
}

func TestForgettingACustomerDropsTheirWaitingEvents(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	hooks, err := webhook.New(db, webhook.Options{URLs: []string{"http://127.0.0.1:1/never"}, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	e := bot.NewEngine(testKB(t), db, bot.NewBus(), bot.Options{Recorder: hooks.Recorder()})
	count := func() (n int) {
		db.Outbox(ctx, 0, 0, func(uint64, []byte) { n++ })
		return n
	}
	var forget *bot.Customer
	for _, ext := range []string{"keep", "forget"} {
		if _, _, err := e.PutVerified(ctx, bot.Verified{ExternalID: ext, Name: "Someone"}); err != nil {
			t.Fatal(err)
		}
		visitor := bot.Identity{Channel: bot.Web, ID: "v-" + ext}
		c, err := e.Identify(ctx, visitor, bot.Verified{ExternalID: ext})
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.Start(ctx, visitor, bot.Profile{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, ClientID: "m", Text: "my secret order 4711"}); err != nil {
			t.Fatal(err)
		}
		forget = c
	}
	before := count()
	if _, err := db.ForgetCustomer(ctx, forget.ID); err != nil {
		t.Fatal(err)
	}
	after := count()
	if after == 0 || after*2 != before {
		t.Errorf("outbox had %d events, %d after forgetting one of two like customers", before, after)
	}
	db.Outbox(ctx, 0, 0, func(_ uint64, data []byte) {
		if strings.Contains(string(data), forget.ID) {
			t.Errorf("an event of the forgotten customer stayed: %s", data)
		}
	})
}

func TestARetryComesAfterTheBackoffWithoutNewEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rc := &receiver{t: t, failFirst: 2}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	db := openDB(t)
	hooks, err := webhook.New(db, webhook.Options{URLs: []string{srv.URL}, Secret: secret, MinBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { hooks.Run(ctx) })
	rec := hooks.Recorder()
	c := &bot.Customer{ID: "cus_1", ExternalID: "x", Name: "Ana"}
	start := time.Now()
	if err := db.Update(ctx, func(tx bot.Tx) error { return rec.RecordCustomer(tx, c) }); err != nil {
		t.Fatal(err)
	}
	for len(rc.events()) == 0 {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("not delivered 5 s after two failures with a 50 ms backoff: %+v", hooks.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("delivered after two failures in %v", time.Since(start).Round(time.Millisecond))
}

func TestAnEventRefusedForLongerThanGiveUpAfterIsDroppedAndUnblocksItsKey(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rc := &receiver{t: t, failFirst: 1 << 30}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	db := openDB(t)
	clk := testclock.New(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	hooks, err := webhook.New(db, webhook.Options{URLs: []string{srv.URL}, Secret: secret, Now: clk.Now,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, GiveUpAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	rec := hooks.Recorder()
	// Two events of one customer: the second waits behind the first.
	for _, name := range []string{"Ana", "Ana Lima"} {
		c := &bot.Customer{ID: "cus_1", ExternalID: "x", Name: name}
		if err := db.Update(ctx, func(tx bot.Tx) error { return rec.RecordCustomer(tx, c) }); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { hooks.Run(ctx) })
	requests := func() int { rc.mu.Lock(); defer rc.mu.Unlock(); return rc.requests }
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for start := time.Now(); !ok(); time.Sleep(2 * time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s: not after 10 s; status %+v", what, hooks.Status())
			}
		}
	}
	// The clock stands still: the first event fails once and waits for
	// its retry, the second waits behind it.
	waitFor("a failed attempt", func() bool { return requests() >= 1 && hooks.Status().Pending == 2 })
	outbox := func() (n int) {
		db.Outbox(ctx, 0, 0, func(uint64, []byte) { n++ })
		return n
	}
	if st := hooks.Status(); st.GivenUp != 0 || outbox() != 2 {
		t.Fatalf("before an hour: given up %d, outbox %d; want 0 and 2", st.GivenUp, outbox())
	}

	if requests() != 1 {
		t.Fatalf("%d attempts while the retry was not due", requests())
	}
	// A minute on it is tried and fails again; an hour after its first
	// failure it is given up on its next attempt. The second event then
	// fails once, which starts its own hour.
	clk.Add(time.Minute)
	waitFor("a second failed attempt", func() bool { return requests() >= 2 })
	if st := hooks.Status(); st.GivenUp != 0 || outbox() != 2 {
		t.Fatalf("after a minute: given up %d, outbox %d; want 0 and 2", st.GivenUp, outbox())
	}
	clk.Add(time.Hour)
	waitFor("the first event given up", func() bool { return hooks.Status().GivenUp == 1 && outbox() == 1 })
	st := hooks.Status()
	if !slices.ContainsFunc(st.Failures, func(f webhook.Failure) bool { return f.GaveUp && f.NextAt.IsZero() }) {
		t.Errorf("failures %+v: none says given up", st.Failures)
	}
	rc.mu.Lock()
	rc.failFirst = 0 // the shop's endpoint is back
	rc.mu.Unlock()
	clk.Add(time.Minute)
	waitFor("the second event delivered", func() bool { return len(rc.events()) == 1 && outbox() == 0 })
	raw, _ := json.Marshal(rc.events()[0].Data)
	var data struct {
		Customer struct {
			Name string `json:"name"`
		} `json:"customer"`
	}
	if err := json.Unmarshal(raw, &data); err != nil || data.Customer.Name != "Ana Lima" {
		t.Errorf("delivered %s (%v), want the second event (Ana Lima)", raw, err)
	}
	if st := hooks.Status(); st.GivenUp != 1 {
		t.Errorf("given up %d, want 1", st.GivenUp)
	}
}

// TestAnEventAnotherNodeRecordedIsDeliveredWithinPoll records an event
// through one Webhooks, as a node of a cluster that does not deliver
// does, and delivers through another on the same store, whose Run nobody
// wakes: it reads the outbox again within Poll, not after a minute.
func TestAnEventAnotherNodeRecordedIsDeliveredWithinPoll(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rc := &receiver{t: t}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	db := openDB(t)
	const poll = 100 * time.Millisecond
	opts := webhook.Options{URLs: []string{srv.URL}, Secret: secret, Poll: poll}
	recording, err := webhook.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	delivering, err := webhook.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { delivering.Run(ctx) })
	time.Sleep(2 * poll) // Run has read the empty outbox and waits
	c := &bot.Customer{ID: "cus_1", ExternalID: "x", Name: "Ana"}
	start := time.Now()
	if err := db.Update(ctx, func(tx bot.Tx) error { return recording.Recorder().RecordCustomer(tx, c) }); err != nil {
		t.Fatal(err)
	}
	for len(rc.events()) == 0 {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("an event another node recorded was not delivered within 10 s, with Poll %v: %+v", poll, delivering.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("delivered %v after another node recorded it", time.Since(start).Round(time.Millisecond))
}
