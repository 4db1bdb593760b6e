package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/adapters/telegram"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/pgtest"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const webhookSecret = "a webhook secret of some length"

// node is one Frontdesk node on the shared PostgreSQL database: its own
// pool, bus, engine and Telegram channel, which leads (polls and sends)
// only while it holds the "telegram" role.
type node struct {
	name    string
	db      *postgres.DB
	bus     *postgres.Bus
	engine  *bot.Engine
	adapter *telegram.Adapter
}

// tagged names the node in every Bot API request it makes, so that the
// fake server can tell the pollers apart.
type tagged struct{ node string }

func (t tagged) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Test-Node", t.node)
	return http.DefaultTransport.RoundTrip(r)
}

// settled waits until each customer (Telegram users 1000 on) asked
// rounds questions, stored once each, and got every reply, once each, in
// order.
func settled(t *testing.T, api *fakeAPI, customers, rounds int, eng *bot.Engine, db *postgres.DB) {
	t.Helper()
	for c := range int64(customers) {
		var got, want []string
		var asked int
		waitFor(t, fmt.Sprintf("customer %d: %d questions stored once, every reply sent once", c, rounds), func() bool {
			cus, err := db.CustomerByIdentity(context.Background(), bot.Identity{Channel: bot.Telegram, ID: fmt.Sprint(1000 + c)})
			if err != nil {
				return false
			}
			convs, err := db.Conversations(context.Background(), cus.ID)
			if err != nil || len(convs) != 1 {
				return false
			}
			ms, err := eng.Messages(context.Background(), convs[0].ID, 0)
			if err != nil {
				return false
			}
			asked, want = 0, nil
			for _, m := range ms {
				if m.From == bot.FromCustomer {
					asked++
					continue
				}
				want = append(want, bot.UnescapeMarkdown(m.Text))
			}
			got = texts(api.sentTo(1000 + c))
			return asked == rounds && slices.Equal(got, want)
		})
		if asked != rounds || !slices.Equal(got, want) {
			t.Fatalf("customer %d asked %d questions, want %d; sent %q, want %q", c, asked, rounds, got, want)
		}
	}
}

func startNode(t *testing.T, name, dsn string, api *fakeAPI, k *kb.KB, webhook bool) *node {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	bus, err := db.NewBus(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{name: name, db: db, bus: bus, engine: bot.NewEngine(k, db, bus, bot.Options{})}
	opts := telegram.Options{Token: token, APIURL: api.srv.URL, PollTimeout: time.Second, ChatInterval: 2 * time.Millisecond, GlobalRate: 2000,
		MinBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, RetryAfterUnit: 5 * time.Millisecond,
		HTTPClient: &http.Client{Transport: tagged{name}}, Lease: db}
	if webhook {
		opts.WebhookURL, opts.WebhookSecret = "https://chat.example.com/telegram", webhookSecret
	}
	n.adapter, err = telegram.New(ctx, n.engine, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.adapter.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.stop)
	return n
}

// stop stops the node as a process that ends would: its channel, its
// bus and its connections.
func (n *node) stop() {
	n.adapter.Stop()
	n.bus.Close()
	n.db.Close()
}

// pollsBy returns the getUpdates requests made by a node since a time.
func (f *fakeAPI) pollsBy(node string, since time.Time) []poll {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []poll
	for _, p := range f.polls {
		if p.node == node && !p.at.Before(since) {
			out = append(out, p)
		}
	}
	return out
}

// poller waits for a getUpdates request made since a time, and returns
// it.
func (f *fakeAPI) poller(t *testing.T, since time.Time) poll {
	t.Helper()
	var found poll
	waitFor(t, "a getUpdates request", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range f.polls {
			if !p.at.Before(since) {
				found = p
				return true
			}
		}
		return false
	})
	return found
}

// One poller in the cluster: the node holding the lease polls and sends;
// when its session dies, a node takes over within seconds from the stored
// offset (the other, or the same one with a new session, which is as good
// as any), and when the holder stops, the other takes over. Every update
// is handled once and every reply sent once.
func TestOnePollerInTheClusterAndItMovesWhenItsNodeDies(t *testing.T) {
	dsn := pgtest.DB(t)
	api := newFakeAPI(t)
	k := shopKB(t)
	start := time.Now()
	nodes := map[string]*node{}
	for _, name := range []string{"a", "b"} {
		nodes[name] = startNode(t, name, dsn, api, k, false)
	}
	first := api.poller(t, start).node
	other := map[string]string{"a": "b", "b": "a"}
	questions := []string{"Where is my order?", "How do I return an item?", "Which payment methods do you accept?"}
	const customers = 5
	// ask sends every customer's next question, round after round.
	ask := func(round int) {
		for c := range int64(customers) {
			api.push(textUpdate(1000+c, "Ana", questions[round]))
		}
	}
	settled := func(rounds int, eng *bot.Engine, db *postgres.DB) {
		t.Helper()
		settled(t, api, customers, rounds, eng, db)
	}
	ask(0)
	settled(1, nodes[first].engine, nodes[first].db)
	if n := len(api.pollsBy(other[first], start)); n != 0 {
		t.Fatalf("node %s, which does not hold the lease, polled %d times", other[first], n)
	}

	// The holder's session dies (as when its node dies; the node itself
	// lives on here, and learns at once that it lost the role).
	admin := nodes[first].db
	killed := time.Now()
	tag, err := admin.Pool().Exec(context.Background(), `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`, postgres.LeaseApplicationName)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminate the holder's session: %v, %d rows", err, tag.RowsAffected())
	}
	ask(1) // these wait at Telegram for the next poller
	second := api.poller(t, killed.Add(50*time.Millisecond))
	takeover := second.at.Sub(killed)
	if takeover > 5*time.Second {
		t.Errorf("a node polled %v after the holder's session died; want within 5s", takeover)
	}
	settled(2, nodes[second.node].engine, nodes[second.node].db)
	stored, err := nodes[second.node].db.TelegramOffset(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.offset < int(stored)-customers || second.offset > int(stored) {
		t.Errorf("the new poller's first offset is %d; want the stored offset, %d less at most the %d updates it then handled", second.offset, stored, customers)
	}
	if second.node != first {
		if n := len(api.pollsBy(first, killed.Add(50*time.Millisecond))); n != 0 {
			t.Errorf("node %s polled %d times after it lost the role", first, n)
		}
	}

	// The holder stops (its process ends: the server ends its session);
	// the other node takes the role.
	stopped := time.Now()
	nodes[second.node].stop()
	ask(2)
	third := api.poller(t, stopped.Add(50*time.Millisecond))
	if third.node != other[second.node] {
		t.Fatalf("after node %s stopped, node %s polled; want node %s", second.node, third.node, other[second.node])
	}
	settled(3, nodes[third.node].engine, nodes[third.node].db)
	api.mu.Lock()
	most := api.most
	api.mu.Unlock()
	if most != 1 {
		t.Errorf("%d getUpdates requests at once; want one poller at a time", most)
	}
	t.Logf("takeover after the holder's session died: %v (node %s, was %s; first offset %d, stored %d); after the holder stopped: %v",
		takeover.Round(time.Millisecond), second.node, first, second.offset, stored, third.at.Sub(stopped).Round(time.Millisecond))
}

// senders returns the nodes that sent messages, after the first skip
// messages.
func (f *fakeAPI) senders(skip int) map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, m := range f.sent[skip:] {
		out[m.Node]++
	}
	return out
}

// In webhook mode any node handles the updates Telegram posts to it; the
// node holding the lease sends every reply, once, and when its session
// dies another sends them.
func TestWebhookOnAnyNodeRepliesSentOnceByTheHolder(t *testing.T) {
	dsn := pgtest.DB(t)
	api := newFakeAPI(t)
	k := shopKB(t)
	nodes := map[string]*node{}
	hooks := map[string]*httptest.Server{}
	for _, name := range []string{"a", "b"} {
		nodes[name] = startNode(t, name, dsn, api, k, true)
		hooks[name] = httptest.NewServer(nodes[name].adapter.WebhookHandler())
		t.Cleanup(hooks[name].Close)
	}
	questions := []string{"Where is my order?", "How do I return an item?"}
	const customers = 4
	// post sends each customer's question for the round to a node's
	// webhook, alternating between the nodes, as a load balancer would.
	next := 500
	send := func(node string, u map[string]any) {
		t.Helper()
		u["update_id"] = next
		next++
		body, _ := json.Marshal(u)
		req, _ := http.NewRequest(http.MethodPost, hooks[node].URL, bytes.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook answered %d", resp.StatusCode)
		}
	}
	post := func(round int) {
		for c := range int64(customers) {
			send([]string{"a", "b"}[(int(c)+round)%2], textUpdate(1000+c, "Ana", questions[round]))
		}
	}
	post(0)
	settled(t, api, customers, 1, nodes["a"].engine, nodes["a"].db)
	by := api.senders(0)
	if len(by) != 1 {
		t.Fatalf("messages sent by %v; want one node, the holder", by)
	}
	var holder string
	for n := range by {
		holder = n
	}
	// A command's direct reply, queued by the node that took the update
	// (not the holder), is sent by the holder, once (after the greeting
	// of a new customer).
	other := map[string]string{"a": "b", "b": "a"}[holder]
	send(other, textUpdate(2000, "Bea", "/help"))
	helps := func() (n int, from []string) {
		for _, m := range api.sentTo(2000) {
			if strings.Contains(m.Text, "/human - talk to a person") {
				n++
			}
			from = append(from, m.Node)
		}
		return n, from
	}
	waitFor(t, "the reply to /help", func() bool { n, _ := helps(); return n > 0 })
	time.Sleep(300 * time.Millisecond)
	if n, from := helps(); n != 1 || slices.ContainsFunc(from, func(n string) bool { return n != holder }) {
		t.Fatalf("the chat that sent /help to node %s got the help %d times, messages from nodes %v; want it once, all from node %s", other, n, from, holder)
	}
	// Again, with nothing else for the holder to send: it finds the reply
	// when it reads the outbox (every second).
	send(other, textUpdate(2000, "Bea", "/help"))
	waitFor(t, "the second reply to /help", func() bool { n, _ := helps(); return n > 1 })
	time.Sleep(300 * time.Millisecond)
	if n, from := helps(); n != 2 || slices.ContainsFunc(from, func(n string) bool { return n != holder }) {
		t.Fatalf("after a second /help: the help %d times, messages from nodes %v; want it twice, all from node %s", n, from, holder)
	}
	api.mu.Lock()
	sentBefore := len(api.sent)
	api.mu.Unlock()

	tag, err := nodes[holder].db.Pool().Exec(context.Background(), `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`, postgres.LeaseApplicationName)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminate the holder's session: %v, %d rows", err, tag.RowsAffected())
	}
	post(1)
	settled(t, api, customers, 2, nodes["b"].engine, nodes["b"].db)
	if by := api.senders(sentBefore); len(by) != 1 {
		t.Errorf("after the holder's session died, messages sent by %v; want one node", by)
	}
}
