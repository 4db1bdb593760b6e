package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// Presence is the agents' presence in the database (table
// agent_presence), shared by the queues of every node: an agent whose
// console beats on node B is online for routing on node A. It implements
// handoff.PresenceStore; give it to the queue as Options.Presence.
//
// Times are the beating node's clock (the queue's Options.Now), so the
// nodes' clocks must agree to well within the presence timeout (NTP).
type Presence struct{ db *DB }

var _ handoff.PresenceStore = Presence{}

// Presence returns the shared presence of the database's agents.
func (db *DB) Presence() Presence { return Presence{db: db} }

// presenceLock is the class of the advisory locks that order the beats
// of one agent (the two-key form, apart from the one-key locks of
// migrations and leases).
const presenceLock int32 = 0x70726573 // "pres"

// Beat implements handoff.PresenceStore. Beats of one agent, from any
// node, are ordered by a transaction-scoped advisory lock, so that each
// change of presence is reported once.
func (p Presence) Beat(ctx context.Context, agentID string, st handoff.Presence, now time.Time, timeout time.Duration) (handoff.Presence, error) {
	before := handoff.PresenceOffline
	err := pgx.BeginFunc(ctx, p.db.pool, func(tx pgx.Tx) error {
		before = handoff.PresenceOffline
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", presenceLock, agentID); err != nil {
			return err
		}
		var status string
		var last, since int64
		err := tx.QueryRow(ctx, "SELECT status, last_beat, since FROM agent_presence WHERE agent_id = $1", agentID).Scan(&status, &last, &since)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case nanos(now)-last <= int64(timeout):
			before = handoff.Presence(status)
		}
		if st == handoff.PresenceOffline {
			_, err := tx.Exec(ctx, "DELETE FROM agent_presence WHERE agent_id = $1", agentID)
			return err
		}
		if before != st {
			since = nanos(now)
		}
		_, err = tx.Exec(ctx, `INSERT INTO agent_presence (agent_id, status, last_beat, since) VALUES ($1, $2, $3, $4)
			ON CONFLICT (agent_id) DO UPDATE SET status = EXCLUDED.status, last_beat = EXCLUDED.last_beat, since = EXCLUDED.since`,
			agentID, string(st), nanos(now), since)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("beat: %w", p.db.closedErr(err))
	}
	return before, nil
}

// Present implements handoff.PresenceStore.
func (p Presence) Present(ctx context.Context, now time.Time, timeout time.Duration) (map[string]handoff.AgentPresence, error) {
	out, err := present(ctx, p.db.pool, now, timeout)
	return out, p.db.closedErr(err)
}

// PresentIn implements handoff.PresenceStore; tx must be a transaction
// of this package's.
func (p Presence) PresentIn(tx bot.Tx, now time.Time, timeout time.Duration) (map[string]handoff.AgentPresence, error) {
	ptx, ok := tx.(*Tx)
	if !ok {
		return nil, fmt.Errorf("read presence: a %T is not a PostgreSQL transaction", tx)
	}
	return present(ptx.ctx, ptx.q, now, timeout)
}

// present reads the agents not offline at now through q.
func present(ctx context.Context, q querier, now time.Time, timeout time.Duration) (map[string]handoff.AgentPresence, error) {
	rows, err := q.Query(ctx, `SELECT agent_id, status, last_beat, since, last_assigned FROM agent_presence
		WHERE last_beat >= $1`, nanos(now)-int64(timeout))
	if err != nil {
		return nil, fmt.Errorf("read presence: %w", err)
	}
	defer rows.Close()
	out := map[string]handoff.AgentPresence{}
	for rows.Next() {
		var id, status string
		var last, since, assigned int64
		if err := rows.Scan(&id, &status, &last, &since, &assigned); err != nil {
			return nil, fmt.Errorf("read presence: %w", err)
		}
		ap := handoff.AgentPresence{Status: handoff.Presence(status), LastBeat: time.Unix(0, last).UTC(), Since: time.Unix(0, since).UTC()}
		if assigned != 0 {
			ap.LastAssigned = time.Unix(0, assigned).UTC()
		}
		out[id] = ap
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read presence: %w", err)
	}
	return out, nil
}

// Expire implements handoff.PresenceStore: the delete returns each
// silent agent to the one node whose delete removed it.
func (p Presence) Expire(ctx context.Context, now time.Time, timeout time.Duration) ([]string, error) {
	rows, err := p.db.pool.Query(ctx, "DELETE FROM agent_presence WHERE last_beat < $1 RETURNING agent_id", nanos(now)-int64(timeout))
	if err != nil {
		return nil, fmt.Errorf("expire presence: %w", p.db.closedErr(err))
	}
	gone, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("expire presence: %w", err)
	}
	return gone, nil
}

// Assigned implements handoff.PresenceStore. An agent who is not present
// has no turn to keep.
func (p Presence) Assigned(ctx context.Context, agentID string, at time.Time) error {
	if _, err := p.db.pool.Exec(ctx, "UPDATE agent_presence SET last_assigned = greatest(last_assigned, $2) WHERE agent_id = $1", agentID, nanos(at)); err != nil {
		return fmt.Errorf("note assignment of %s: %w", agentID, p.db.closedErr(err))
	}
	return nil
}
