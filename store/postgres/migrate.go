package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema's versions, in order: migrations[i] takes the
// schema from version i to i+1. Append only; never edit one that has
// shipped.
//
// Records are kept as JSON (the encoding store/bolt uses, so a record
// reads back exactly as written) beside the columns the store looks them
// up or orders them by. Times that order records are Unix nanoseconds, as
// store/bolt orders them (timestamptz keeps microseconds only).
var migrations = []string{
	// 1: customers, conversations, messages, the agent queue.
	`
CREATE TABLE customers (
	id        text PRIMARY KEY,
	last_seen bigint NOT NULL,
	data      jsonb NOT NULL
);
CREATE INDEX customers_last_seen ON customers (last_seen DESC, id);
CREATE TABLE customer_identities (
	channel     text NOT NULL,
	external_id text NOT NULL,
	customer_id text NOT NULL,
	PRIMARY KEY (channel, external_id)
);
CREATE INDEX customer_identities_customer ON customer_identities (customer_id);
CREATE TABLE customer_emails (
	email       text PRIMARY KEY, -- lower-cased
	customer_id text NOT NULL
);
CREATE INDEX customer_emails_customer ON customer_emails (customer_id);
CREATE TABLE conversations (
	id          text PRIMARY KEY,
	customer_id text NOT NULL,
	channel     text NOT NULL,
	created     bigint NOT NULL,
	data        jsonb NOT NULL
);
CREATE INDEX conversations_customer ON conversations (customer_id, created DESC);
CREATE TABLE messages (
	conversation_id text NOT NULL,
	seq             bigint NOT NULL,
	client_id       text,
	data            jsonb NOT NULL,
	PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, client_id) WHERE client_id IS NOT NULL;
CREATE TABLE agents (
	id    text PRIMARY KEY,
	email text NOT NULL UNIQUE, -- lower-cased
	data  jsonb NOT NULL        -- with the password hash
);
CREATE TABLE agent_sessions (
	token_hash bytea PRIMARY KEY,
	agent_id   text NOT NULL,
	data       jsonb NOT NULL
);
CREATE SEQUENCE ticket_history;
CREATE TABLE tickets (
	id              text PRIMARY KEY,
	conversation_id text NOT NULL,
	history         bigint NOT NULL DEFAULT nextval('ticket_history'), -- order of first store
	open            boolean NOT NULL,
	closed_at       bigint, -- set on closed tickets that say when
	data            jsonb NOT NULL
);
CREATE UNIQUE INDEX tickets_open ON tickets (conversation_id) WHERE open;
CREATE INDEX tickets_history ON tickets (conversation_id, history DESC);
CREATE INDEX tickets_closed ON tickets (closed_at DESC, id DESC) WHERE closed_at IS NOT NULL;
`,
	// 2: the Telegram channel's delivery state.
	`
CREATE TABLE telegram_state (
	name  text PRIMARY KEY, -- "offset": the next getUpdates offset
	value bigint NOT NULL
);
CREATE TABLE telegram_updates (update_id bigint PRIMARY KEY); -- handled, the recent ones
CREATE TABLE telegram_chats (
	conversation_id text PRIMARY KEY,
	chat_id         bigint NOT NULL,
	cursor          bigint NOT NULL -- the last message seq queued for the chat
);
CREATE TABLE telegram_outbox (
	id   bigserial PRIMARY KEY,
	data bytea NOT NULL
);
CREATE TABLE telegram_blocked (chat_id bigint PRIMARY KEY);
`,
	// 3: what the dashboards read (the daily rollups, the insights'
	// period, the widget's first screen), follow-ups, channel links.
	// Rows of a conversation go with it (ON DELETE CASCADE), except its
	// share of the day totals, which are anonymous counts; a customer's
	// link codes go with the customer.
	`
ALTER TABLE conversations ADD COLUMN updated bigint NOT NULL DEFAULT 0; -- Conversation.Updated; not indexed, so that an act updates HOT
UPDATE conversations SET updated = ` + jsonNanos("data->>'updated'") + `;
CREATE TABLE stats_dirty ( -- changed since their last rollup
	conversation_id text COLLATE "C" PRIMARY KEY REFERENCES conversations ON DELETE CASCADE
);
INSERT INTO stats_dirty SELECT id FROM conversations;
CREATE TABLE stats_convs ( -- each conversation's share of the day totals
	conversation_id text PRIMARY KEY REFERENCES conversations ON DELETE CASCADE,
	days            jsonb NOT NULL -- stats.Days
);
CREATE TABLE stats_days (
	day  text COLLATE "C" PRIMARY KEY, -- stats.DayLayout
	data jsonb NOT NULL                -- stats.Day
);
CREATE TABLE followups ( -- the conversations whose follow-up is scheduled
	conversation_id text COLLATE "C" PRIMARY KEY REFERENCES conversations ON DELETE CASCADE,
	due             bigint NOT NULL
);
CREATE INDEX followups_due ON followups (due);
INSERT INTO followups SELECT id, ` + jsonNanos("data->>'followup_at'") + ` FROM conversations
	WHERE data->>'followup' = 'scheduled';
ALTER TABLE tickets ADD COLUMN created bigint, ADD COLUMN first_reply bigint; -- set when not zero
UPDATE tickets SET
	created = CASE WHEN (data->>'created')::timestamptz > '0001-01-01Z' THEN ` + jsonNanos("data->>'created'") + ` END,
	first_reply = CASE WHEN (data->>'first_reply_at')::timestamptz > '0001-01-01Z' THEN ` + jsonNanos("data->>'first_reply_at'") + ` END;
CREATE INDEX tickets_first_reply ON tickets (first_reply DESC) WHERE first_reply IS NOT NULL;
CREATE TABLE link_codes ( -- erased with their customer
	hash        text PRIMARY KEY, -- SHA-256 of the code, hex
	customer_id text NOT NULL REFERENCES customers ON DELETE CASCADE,
	expires     bigint NOT NULL,
	data        jsonb NOT NULL    -- bot.LinkCode
);
CREATE INDEX link_codes_expires ON link_codes (expires);
CREATE INDEX link_codes_customer ON link_codes (customer_id);
CREATE TABLE channel_links (
	channel text PRIMARY KEY,
	prefix  text NOT NULL
);
`,
	// 4: customer API keys, the webhook outbox, the tallies of deleted
	// conversations, the files sent in chats.
	`
CREATE TABLE api_keys (
	id      text PRIMARY KEY,
	created bigint NOT NULL, -- orders the list
	data    jsonb NOT NULL   -- bot.APIKey, with the secret's hash only
);
CREATE TABLE webhook_outbox (
	seq  bigserial PRIMARY KEY,
	data bytea NOT NULL -- the record as the webhook package encoded it
);
CREATE TABLE tallies ( -- what is left of the deleted conversations of a day
	day           text PRIMARY KEY, -- UTC, 2006-01-02, when they started
	conversations bigint NOT NULL DEFAULT 0,
	messages      bigint NOT NULL DEFAULT 0,
	handoffs      bigint NOT NULL DEFAULT 0,
	rated_1       bigint NOT NULL DEFAULT 0, -- survey ratings by score
	rated_2       bigint NOT NULL DEFAULT 0,
	rated_3       bigint NOT NULL DEFAULT 0,
	rated_4       bigint NOT NULL DEFAULT 0,
	rated_5       bigint NOT NULL DEFAULT 0
);
CREATE TABLE attachments (
	conversation_id text NOT NULL,
	id              text NOT NULL,
	created         timestamptz NOT NULL DEFAULT now(),
	data            bytea NOT NULL CHECK (octet_length(data) > 0),
	PRIMARY KEY (conversation_id, id)
);
-- Images and PDFs are compressed already: kept out of line, as they are.
ALTER TABLE attachments ALTER COLUMN data SET STORAGE EXTERNAL;
`,
	// 5: agents' presence, shared by the nodes' queues. Soft state, so
	// unlogged: a crash of the server empties it, and every agent counts
	// as offline until their console beats again (within seconds), as
	// after a restart of a single node.
	`
CREATE UNLOGGED TABLE agent_presence (
	agent_id      text PRIMARY KEY,
	status        text NOT NULL,             -- handoff.Presence, never offline
	last_beat     bigint NOT NULL,           -- Unix nanoseconds, by the beating node's clock
	since         bigint NOT NULL,           -- when status last changed
	last_assigned bigint NOT NULL DEFAULT 0  -- when last given a ticket from the queue
);
`,
	// 6: article files edited in a node's console, which every node
	// writes into its own content directory (see content.go).
	`
CREATE TABLE content_files (
	name       text PRIMARY KEY,          -- the file's path in the content directory
	data       bytea NOT NULL,
	written_at timestamptz NOT NULL DEFAULT now()
);
`,
}

// jsonNanos is the SQL of a JSON time (the text expression field) as
// Unix nanoseconds, clamped as nanos clamps, to the microsecond
// (PostgreSQL's precision); a missing time is the zero time.
func jsonNanos(field string) string {
	return "greatest(-9223372036854775808, least(9223372036854775807, " +
		"extract(epoch FROM coalesce((" + field + ")::timestamptz, '0001-01-01Z')) * 1000000000))::bigint"
}

// migrateLock is the key of the advisory lock that migrations run under,
// so that nodes starting together migrate one after the other.
const migrateLock int64 = 0x66726f6e7464 // "frontd"

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// Migrate brings the database's schema to SchemaVersion, each step in its
// own transaction, holding an advisory lock meanwhile so that nodes
// starting at once do not race: the second waits, then finds nothing to
// do. A database of a newer schema (written by a newer Frontdesk) is
// refused.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock)
	_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("migrate: the database has schema version %d, newer than this build's %d: run a newer frontdesk", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", v)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
	}
	return nil
}
