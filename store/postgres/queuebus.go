package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// QueueRelay carries the agent queue's events between the nodes sharing
// the database: it implements handoff.Relay on the node's Bus, whose
// listening connection and channel it shares. Give it to the queue as
// Options.Relay.
//
// An event of an act (a ticket queued, assigned, claimed, resolved...)
// is announced by a NOTIFY in the act's own transaction, so it reaches
// every node once the act commits, in commit order with the act's
// conversation events, and never if it rolls back. Events of no act
// (presence, SLA breaches) are sent right after the change, before the
// call that made it returns. Every node,
// this one included, publishes what it receives to its queue
// subscribers (the consoles' websockets, the queue notices).
//
// The events are news, the tickets table is the truth: when a node's
// listening connection is lost, its queue subscribers are dropped as
// lagged, as a slow one is, and reload the queue (Queue.Tickets) before
// they follow again; an event too big for a notification does the same
// on every node.
type QueueRelay struct{ bus *Bus }

var _ handoff.Relay = QueueRelay{}

// QueueRelay returns the node's relay of queue events.
func (b *Bus) QueueRelay() QueueRelay { return QueueRelay{bus: b} }

// lagNote is the notification that drops every node's queue subscribers
// as lagged: they reload the queue instead of reading an event too big
// to send.
const lagNote = "Q"

// queueNote encodes e as a notification.
func queueNote(e handoff.Event) (string, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("encode queue event: %w", err)
	}
	if len(data)+2 > maxPayload {
		return lagNote, nil
	}
	return "q " + string(data), nil
}

// Announce implements handoff.Relay; tx must be a transaction of this
// package's.
func (r QueueRelay) Announce(tx bot.Tx, e handoff.Event) error {
	ptx, ok := tx.(*Tx)
	if !ok {
		return fmt.Errorf("announce queue event: a %T is not a PostgreSQL transaction", tx)
	}
	if err := ptx.writable(); err != nil {
		return err
	}
	note, err := queueNote(e)
	if err != nil {
		return err
	}
	ptx.events = append(ptx.events, note)
	return nil
}

// Publish implements handoff.Relay: e goes to every node through a
// NOTIFY sent before Publish returns, so it is ordered before any act
// this node commits after it (a presence event before the offers it
// leads to). If the NOTIFY fails, this node's queue subscribers are
// dropped as lagged.
func (r QueueRelay) Publish(e handoff.Event) {
	note, err := queueNote(e)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), publishWait)
		_, err = r.bus.db.pool.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, note)
		cancel()
	}
	if err != nil {
		// The queue is still right in the table, but this node's
		// followers would not know they missed something.
		r.bus.Dropped.Add(1)
		r.bus.log.Warn("bus: notify queue event; queue subscribers reload", "kind", e.Kind, "err", err)
		r.bus.queue.LagAll()
	}
}

// publishWait bounds Publish's NOTIFY.
const publishWait = 5 * time.Second

// Subscribe implements handoff.Relay.
func (r QueueRelay) Subscribe(buffer int) *handoff.Subscription {
	return r.bus.queue.Subscribe("", buffer)
}

// queueNote publishes what a queue notification ("q <JSON event>" or
// lagNote) says to this node's queue subscribers.
func (b *Bus) queueNote(kind, rest string) {
	if kind == lagNote {
		b.queue.LagAll()
		return
	}
	var e handoff.Event
	if err := json.Unmarshal([]byte(rest), &e); err != nil {
		b.log.Warn("bus: bad queue notification; queue subscribers reload", "err", err)
		b.queue.LagAll()
		return
	}
	b.queue.Publish("", e)
}
