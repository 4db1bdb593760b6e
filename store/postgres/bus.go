package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// Bus is a bot.Bus across nodes: every node sharing the database runs
// one, and each delivers every conversation's events to its own
// subscribers, whichever node caused them.
//
// Messages travel through the table, not the notification: the act that
// appends them announces, in its own transaction, the conversation and
// the seqs it appended (NOTIFY is delivered only if, and once, the
// transaction commits, in commit order), and each node's Bus, LISTENing
// on one connection of its own, reads those messages back from the table
// and publishes them. So a Bus delivers a conversation's messages in seq
// order, and the message events the Engine publishes after an act are
// dropped here (they come back through the table). An act's other
// events (owner changes) are announced in its transaction too, behind
// its messages (Tx implements bot.Announcer), so every node delivers
// them in the order the acts committed. Events of no act (typing)
// Publish sends to every node, this one included, with a NOTIFY of
// their own.
//
// A node may miss notifications while its listening connection is down:
// then every subscriber is dropped as lagged, as a slow one is, and
// catches up from the store by seq, as bot.Bus asks of it. A Bus may lose
// events, never a message.
type Bus struct {
	db  *DB
	cfg *pgx.ConnConfig
	log *slog.Logger

	mu   sync.Mutex
	subs map[string]map[*sub]struct{} // by conversation; "" = everything

	// queue fans the agent queue's events out (see QueueRelay).
	queue bot.Feed[handoff.Event]
	// content is signalled when an article file was shared
	// (ShareContentFile) and when the listening connection comes back
	// (see ContentChanged).
	content chan struct{}

	out    chan []byte // payloads for the notifier
	cancel context.CancelFunc
	done   sync.WaitGroup

	// Dropped counts events Publish dropped: too big for a notification,
	// or the notifier's queue full.
	Dropped atomic.Int64
	// Reconnects counts how often the listening connection was lost and
	// made again.
	Reconnects atomic.Int64
}

var _ bot.Bus = (*Bus)(nil)

// BusApplicationName is the application_name of a Bus's listening
// connection.
const BusApplicationName = "frontdesk-bus"

// maxPayload bounds a notification (PostgreSQL's limit is 8000 bytes).
const maxPayload = 7900

// NewBus starts the node's bus: it returns once the node LISTENs, so
// every act committed after it returns reaches its subscribers. log may
// be nil. Close stops it.
func (db *DB) NewBus(ctx context.Context, log *slog.Logger) (*Bus, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{db: db, cfg: db.pool.Config().ConnConfig.Copy(), log: log,
		subs: map[string]map[*sub]struct{}{}, out: make(chan []byte, 4096), content: make(chan struct{}, 1)}
	// Named, so that an operator sees each node's listener in
	// pg_stat_activity.
	b.cfg.RuntimeParams["application_name"] = BusApplicationName
	conn, err := b.listen(ctx)
	if err != nil {
		return nil, err
	}
	bctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.done.Add(2)
	go b.receive(bctx, conn)
	go b.notify(bctx)
	return b, nil
}

// Close stops the bus and closes every subscription (not as lagged).
func (b *Bus) Close() {
	b.cancel()
	b.done.Wait()
	b.mu.Lock()
	subs := b.subs
	b.subs = map[string]map[*sub]struct{}{}
	b.mu.Unlock()
	for _, m := range subs {
		for s := range m {
			s.shut(false)
		}
	}
}

// listen opens the bus's own connection and LISTENs on it.
func (b *Bus) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, b.cfg)
	if err != nil {
		return nil, fmt.Errorf("bus: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("bus: listen: %w", err)
	}
	return conn, nil
}

// receive owns the listening connection: it turns notifications into
// events, and when the connection fails it drops every subscriber as
// lagged and connects again.
func (b *Bus) receive(ctx context.Context, conn *pgx.Conn) {
	defer b.done.Done()
	pause := 100 * time.Millisecond
	for {
		for conn != nil {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				conn.Close(context.Background())
				conn = nil
				if ctx.Err() != nil {
					return
				}
				b.log.Warn("bus: lost the listening connection; subscribers catch up from the store", "err", err)
				b.lagAll()
				break
			}
			b.handle(ctx, n.Payload)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		c, err := b.listen(ctx)
		if err != nil {
			pause = min(pause*2, 5*time.Second)
			continue
		}
		conn, pause = c, 100*time.Millisecond
		b.Reconnects.Add(1)
		// Whoever subscribed while nobody listened missed events too.
		b.lagAll()
		b.contentChanged()
	}
}

// ContentChanged is signalled (it holds at most one signal) when a node
// shared an article file (DB.ShareContentFile), and when this node may
// have missed such news (its listening connection came back): the
// reader then compares the shared files with its own.
func (b *Bus) ContentChanged() <-chan struct{} { return b.content }

func (b *Bus) contentChanged() {
	select {
	case b.content <- struct{}{}:
	default:
	}
}

// handle publishes what one notification announces.
func (b *Bus) handle(ctx context.Context, payload string) {
	kind, rest, _ := strings.Cut(payload, " ")
	switch kind {
	case "m": // "m <first seq> <last seq> <conversation id>"
		f := strings.SplitN(rest, " ", 3)
		if len(f) != 3 {
			b.log.Warn("bus: bad notification", "payload", payload)
			return
		}
		first, err1 := strconv.ParseInt(f[0], 10, 64)
		last, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			b.log.Warn("bus: bad notification", "payload", payload)
			return
		}
		conv := f[2]
		if !b.wanted(conv) {
			return
		}
		evs, err := b.messages(ctx, conv, first, last)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("bus: read announced messages; their subscribers catch up from the store", "conversation", conv, "err", err)
				b.lag(conv)
			}
			return
		}
		for _, e := range evs {
			b.deliver(e)
		}
	case "q", "Q": // the agent queue's (see QueueRelay)
		b.queueNote(kind, rest)
	case "c": // an article file shared (ShareContentFile)
		b.contentChanged()
	case "e": // "e <JSON event>"
		var e bot.Event
		if err := json.Unmarshal([]byte(rest), &e); err != nil {
			b.log.Warn("bus: bad notification", "payload", payload)
			return
		}
		b.deliver(e)
	}
}

// messages reads the announced messages of a conversation as events.
func (b *Bus) messages(ctx context.Context, conv string, first, last int64) ([]bot.Event, error) {
	rows, err := b.db.pool.Query(ctx, `SELECT m.data, c.channel FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.conversation_id = $1 AND m.seq BETWEEN $2 AND $3 ORDER BY m.seq`, conv, first, last)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bot.Event
	for rows.Next() {
		var raw []byte
		var channel string
		if err := rows.Scan(&raw, &channel); err != nil {
			return nil, err
		}
		m := new(bot.Message)
		if err := json.Unmarshal(raw, m); err != nil {
			return nil, err
		}
		out = append(out, bot.Event{Kind: bot.EventMessage, ConversationID: conv, Channel: bot.Channel(channel), Message: m})
	}
	return out, rows.Err()
}

// Publish implements bot.Bus. Message events are dropped: the act that
// stored the message announced it, and every node's Bus publishes it
// from the table. Other events go to every node through a NOTIFY sent
// after this call, without blocking it.
func (b *Bus) Publish(e bot.Event) {
	if e.Kind == bot.EventMessage {
		return
	}
	data, err := json.Marshal(e)
	if err != nil || len(data)+2 > maxPayload {
		b.Dropped.Add(1)
		return
	}
	select {
	case b.out <- append([]byte("e "), data...):
	default:
		b.Dropped.Add(1)
	}
}

// notify sends Publish's events, in order.
func (b *Bus) notify(ctx context.Context) {
	defer b.done.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-b.out:
			if _, err := b.db.pool.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, string(p)); err != nil && ctx.Err() == nil {
				b.Dropped.Add(1)
				b.log.Warn("bus: notify", "err", err)
			}
		}
	}
}

// Subscribe implements bot.Bus.
func (b *Bus) Subscribe(conversationID string, buffer int) bot.Subscription {
	s := &sub{bus: b, key: conversationID, c: make(chan bot.Event, max(buffer, 1))}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.subs[conversationID]
	if m == nil {
		m = map[*sub]struct{}{}
		b.subs[conversationID] = m
	}
	m[s] = struct{}{}
	return s
}

// wanted reports whether anyone here subscribes to the conversation.
func (b *Bus) wanted(conv string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[""]) > 0 || len(b.subs[conv]) > 0
}

// deliver hands e to its conversation's subscribers and to those of
// everything, dropping, as lagged, any whose buffer is full.
func (b *Bus) deliver(e bot.Event) {
	keys := []string{""}
	if e.ConversationID != "" {
		keys = append(keys, e.ConversationID)
	}
	var lagging []*sub
	b.mu.Lock()
	for _, k := range keys {
		for s := range b.subs[k] {
			select {
			case s.c <- e:
			default:
				lagging = append(lagging, s)
				b.remove(s)
			}
		}
	}
	b.mu.Unlock()
	for _, s := range lagging {
		s.shut(true)
	}
}

// lag drops the subscribers of the conversation and of everything.
func (b *Bus) lag(conv string) { b.lagWhere(func(k string) bool { return k == "" || k == conv }) }

// lagAll drops every subscriber as lagged, the queue's too.
func (b *Bus) lagAll() {
	b.lagWhere(func(string) bool { return true })
	b.queue.LagAll()
}

func (b *Bus) lagWhere(match func(key string) bool) {
	var lagging []*sub
	b.mu.Lock()
	for k, m := range b.subs {
		if match(k) {
			for s := range m {
				lagging = append(lagging, s)
				b.remove(s)
			}
		}
	}
	b.mu.Unlock()
	for _, s := range lagging {
		s.shut(true)
	}
}

// remove forgets s; b.mu is held.
func (b *Bus) remove(s *sub) {
	delete(b.subs[s.key], s)
	if len(b.subs[s.key]) == 0 {
		delete(b.subs, s.key)
	}
}

// sub is a subscription to a Bus.
type sub struct {
	bus    *Bus
	key    string
	c      chan bot.Event
	mu     sync.Mutex
	closed bool
	lagged bool
}

func (s *sub) C() <-chan bot.Event { return s.c }

func (s *sub) Lagged() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lagged
}

func (s *sub) Close() {
	s.bus.mu.Lock()
	s.bus.remove(s)
	s.bus.mu.Unlock()
	s.shut(false)
}

func (s *sub) shut(lagged bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed, s.lagged = true, lagged
		close(s.c)
	}
}
