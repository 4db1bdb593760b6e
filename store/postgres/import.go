package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/stats"
	"github.com/frontdesk/frontdesk/store/records"
)

// Import is one transaction that fills a database holding no shop with a
// shop copied from elsewhere ("frontdesk migrate", from the bbolt file).
// Records go in as they are, through the same Put methods as acts
// (Tx), so ids, seqs, revisions, times and owners are kept exactly; the
// methods of Import write what no act writes directly (agents and
// sessions inside a transaction, the customer indexes as the source
// had them, the Telegram channel's state, the rollups, link codes, API
// keys, webhook events, tallies and files). Nothing is announced: the
// copied messages are history, not news. It is valid only inside the
// function given to DB.Import.
type Import struct {
	tx *Tx
}

// NotEmptyError refuses an import into a database that holds a shop.
type NotEmptyError struct {
	Tables []string // the tables that hold rows
}

func (e *NotEmptyError) Error() string {
	return "the database already holds data (in " + strings.Join(e.Tables, ", ") + ")"
}

// Import runs fn in one transaction and commits it when fn returns nil.
// The database must hold no shop: every table of the schema but its
// version must be empty, or Import returns a *NotEmptyError and changes
// nothing. Meanwhile the tables are locked against writes (a node on the
// database waits, reading what was committed before). A failed or
// interrupted import commits nothing, so the database stays empty and the
// import can be run again.
func (db *DB) Import(ctx context.Context, fn func(*Import) error) error {
	if db.closed.Load() {
		return bot.ErrClosed
	}
	ptx, err := db.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	if _, err := ptx.Exec(ctx, "SET LOCAL lock_timeout = '30s'"); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	tables, err := shopTables(ctx, ptx)
	if err != nil {
		return err
	}
	var full []string
	for _, t := range tables {
		name := pgx.Identifier{t}.Sanitize()
		if _, err := ptx.Exec(ctx, "LOCK TABLE "+name+" IN EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("import: lock %s: %w", t, err)
		}
		var some bool
		if err := ptx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+name+")").Scan(&some); err != nil {
			return fmt.Errorf("import: read %s: %w", t, err)
		}
		if some {
			full = append(full, t)
		}
	}
	if len(full) > 0 {
		return &NotEmptyError{Tables: full}
	}
	if err := fn(&Import{tx: &Tx{ctx: ctx, q: ptx, write: true}}); err != nil {
		return err
	}
	// Requests and events queued from now on follow the copied ones.
	_, err = ptx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('telegram_outbox', 'id'), max(id)) FROM telegram_outbox HAVING count(*) > 0`)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	_, err = ptx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('webhook_outbox', 'seq'), max(seq)) FROM webhook_outbox HAVING count(*) > 0`)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("import: commit: %w", err)
	}
	return nil
}

// shopTables lists the tables of the schema that hold a shop: all but
// the schema's version and the agents' presence (soft state of running
// nodes).
func shopTables(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
		AND tablename NOT IN ('schema_migrations', 'agent_presence') ORDER BY tablename`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Tx is the import's transaction, to store customers, conversations,
// messages and tickets with (PutCustomer, PutConversation, PutMessage,
// PutTicket), as they are given.
func (im *Import) Tx() *Tx { return im.tx }

func (im *Import) exec(what, sql string, args ...any) error {
	if _, err := im.tx.q.Exec(im.tx.ctx, sql, args...); err != nil {
		return fmt.Errorf("import %s: %w", what, err)
	}
	return nil
}

// PutAgent stores a, with its password hash.
func (im *Import) PutAgent(a *handoff.Agent) error {
	if a.ID == "" || strings.TrimSpace(a.Email) == "" {
		return errors.New("import agent: no id or email")
	}
	data, err := json.Marshal(agentRecord{Agent: *a, PasswordHash: a.PasswordHash})
	if err != nil {
		return fmt.Errorf("encode agent %s: %w", a.ID, err)
	}
	return im.exec("agent "+a.ID, "INSERT INTO agents (id, email, data) VALUES ($1, $2, $3)", a.ID, emailKey(a.Email), data)
}

// PutSession stores an agent's session.
func (im *Import) PutSession(s *handoff.Session) error {
	if len(s.TokenHash) == 0 || s.AgentID == "" {
		return errors.New("import session: no token hash or agent")
	}
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	return im.exec("session", "INSERT INTO agent_sessions (token_hash, agent_id, data) VALUES ($1, $2, $3)", s.TokenHash, s.AgentID, data)
}

// ClearCustomerIndexes empties the identity and email indexes that
// PutCustomer filled, for PutIdentity and PutEmail to set them as the
// source has them.
func (im *Import) ClearCustomerIndexes() error {
	if err := im.exec("customer indexes", "DELETE FROM customer_identities"); err != nil {
		return err
	}
	return im.exec("customer indexes", "DELETE FROM customer_emails")
}

// PutIdentity makes the channel identity find the customer.
func (im *Import) PutIdentity(id bot.Identity, customerID string) error {
	return im.exec("identity", "INSERT INTO customer_identities (channel, external_id, customer_id) VALUES ($1, $2, $3)",
		string(id.Channel), id.ID, customerID)
}

// PutEmail makes the email address (compared without case) find the
// customer.
func (im *Import) PutEmail(email, customerID string) error {
	return im.exec("email", "INSERT INTO customer_emails (email, customer_id) VALUES ($1, $2)", emailKey(email), customerID)
}

// SetTelegramOffset stores the next getUpdates offset.
func (im *Import) SetTelegramOffset(offset int64) error {
	return im.exec("telegram offset", `INSERT INTO telegram_state (name, value) VALUES ('offset', $1)
		ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`, offset)
}

// PutTelegramUpdate records an update as handled.
func (im *Import) PutTelegramUpdate(updateID int64) error {
	return im.exec("telegram update", "INSERT INTO telegram_updates (update_id) VALUES ($1)", updateID)
}

// PutTelegramChat records that the conversation is delivered to the chat,
// up to the cursor.
func (im *Import) PutTelegramChat(conversationID string, chatID, cursor int64) error {
	return im.exec("telegram chat", "INSERT INTO telegram_chats (conversation_id, chat_id, cursor) VALUES ($1, $2, $3)",
		conversationID, chatID, cursor)
}

// PutTelegramRequest queues an outbound request under its id (requests
// are sent in id order).
func (im *Import) PutTelegramRequest(id uint64, data []byte) error {
	if id == 0 || id > 1<<63-1 {
		return fmt.Errorf("import telegram request: id %d out of range", id)
	}
	return im.exec("telegram request", "INSERT INTO telegram_outbox (id, data) VALUES ($1, $2)", int64(id), data)
}

// PutTelegramBlocked records that the chat blocked the bot.
func (im *Import) PutTelegramBlocked(chatID int64) error {
	return im.exec("telegram blocked chat", "INSERT INTO telegram_blocked (chat_id) VALUES ($1)", chatID)
}

// PutLinkCode stores a link code under its hash, as it is (an expired
// one too: taking it refuses it as a new act would). Its customer must
// be stored.
func (im *Import) PutLinkCode(hash string, c bot.LinkCode) error {
	if hash == "" || c.CustomerID == "" {
		return errors.New("import link code: no hash or customer")
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode link code: %w", err)
	}
	return im.exec("link code", "INSERT INTO link_codes (hash, customer_id, expires, data) VALUES ($1, $2, $3, $4)",
		hash, c.CustomerID, nanos(c.Expires), data)
}

// PutChannelLink offers the channel for linking under the prefix.
func (im *Import) PutChannelLink(ch bot.Channel, prefix string) error {
	if ch == "" || prefix == "" {
		return errors.New("import channel link: no channel or prefix")
	}
	return im.exec("channel link", "INSERT INTO channel_links (channel, prefix) VALUES ($1, $2)", string(ch), prefix)
}

// ClearConversationIndexes empties the rollup marks and the follow-up
// index that PutConversation filled (as a new act would: every
// conversation marked), for PutStatsDirty and PutFollowup to set them as
// the source has them.
func (im *Import) ClearConversationIndexes() error {
	if err := im.exec("conversation indexes", "DELETE FROM stats_dirty"); err != nil {
		return err
	}
	return im.exec("conversation indexes", "DELETE FROM followups")
}

// PutFollowup schedules the stored conversation's follow-up at due.
func (im *Import) PutFollowup(conversationID string, due time.Time) error {
	return im.exec("follow-up", "INSERT INTO followups (conversation_id, due) VALUES ($1, $2)", conversationID, nanos(due))
}

// PutStatsDirty marks the stored conversation as changed since its last
// rollup: the next rollup computes its share of the day totals again.
func (im *Import) PutStatsDirty(conversationID string) error {
	return im.exec("rollup mark", "INSERT INTO stats_dirty (conversation_id) VALUES ($1)", conversationID)
}

// PutStatsContribution stores the stored conversation's share of the day
// totals as its last rollup computed it: what the next rollup replaces.
// The totals themselves are PutStatsDay's.
func (im *Import) PutStatsContribution(conversationID string, days stats.Days) error {
	data, err := json.Marshal(days)
	if err != nil {
		return fmt.Errorf("encode the rollup of %s: %w", conversationID, err)
	}
	return im.exec("rollup of "+conversationID, "INSERT INTO stats_convs (conversation_id, days) VALUES ($1, $2)", conversationID, data)
}

// PutStatsDay stores a day's totals as they are (with what deleted
// conversations added to them).
func (im *Import) PutStatsDay(day string, d stats.Day) error {
	if day == "" {
		return errors.New("import day total: no day")
	}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode day %s: %w", day, err)
	}
	return im.exec("day total "+day, "INSERT INTO stats_days (day, data) VALUES ($1, $2)", day, data)
}

// PutAPIKey stores a customer API key (with its secret's hash only).
func (im *Import) PutAPIKey(k *bot.APIKey) error {
	if k.ID == "" {
		return errors.New("import api key: no id")
	}
	data, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("encode api key %s: %w", k.ID, err)
	}
	return im.exec("api key "+k.ID, "INSERT INTO api_keys (id, created, data) VALUES ($1, $2, $3)", k.ID, nanos(k.Created), data)
}

// PutWebhookEvent queues a webhook event under its seq (events are
// delivered in seq order; those appended later follow).
func (im *Import) PutWebhookEvent(seq uint64, data []byte) error {
	if seq == 0 || seq > 1<<63-1 {
		return fmt.Errorf("import webhook event: seq %d out of range", seq)
	}
	return im.exec("webhook event", "INSERT INTO webhook_outbox (seq, data) VALUES ($1, $2)", int64(seq), data)
}

// PutTally stores a day's tally of deleted conversations.
func (im *Import) PutTally(day string, t records.Tally) error {
	var rated [5]int
	for k, n := range t.Ratings {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || i > 5 {
			return fmt.Errorf("import tally of %s: a rating %q", day, k)
		}
		rated[i-1] = n
	}
	return im.exec("tally of "+day, `INSERT INTO tallies (day, conversations, messages, handoffs, rated_1, rated_2, rated_3, rated_4, rated_5)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		day, t.Conversations, t.Messages, t.Handoffs, rated[0], rated[1], rated[2], rated[3], rated[4])
}

// PutAttachment stores a file sent in the conversation, kept since
// created.
func (im *Import) PutAttachment(conversationID, id string, created time.Time, data []byte) error {
	if conversationID == "" || id == "" || len(data) == 0 {
		return errors.New("import attachment: no conversation, id or data")
	}
	return im.exec("attachment "+conversationID+"/"+id, "INSERT INTO attachments (conversation_id, id, created, data) VALUES ($1, $2, $3, $4)",
		conversationID, id, created, data)
}

// FileDigest is a stored file's size and SHA-256.
type FileDigest struct {
	Size   int64
	SHA256 [sha256.Size]byte
}

// AttachmentDigests returns the size and SHA-256 of every file the
// import has stored so far, computed by the database from what it holds,
// by "conversation id/attachment id".
func (im *Import) AttachmentDigests() (map[string]FileDigest, error) {
	rows, err := im.tx.q.Query(im.tx.ctx, "SELECT conversation_id || '/' || id, octet_length(data), sha256(data) FROM attachments")
	if err != nil {
		return nil, fmt.Errorf("digest attachments: %w", err)
	}
	out := map[string]FileDigest{}
	var key string
	var size int64
	var sum []byte
	_, err = pgx.ForEachRow(rows, []any{&key, &size, &sum}, func() error {
		d := FileDigest{Size: size}
		if copy(d.SHA256[:], sum) != sha256.Size {
			return fmt.Errorf("digest of %s: %d bytes", key, len(sum))
		}
		out[key] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("digest attachments: %w", err)
	}
	return out, nil
}

// Counts are how many records of each kind a database holds.
type Counts struct {
	Customers, Identities, Emails    int64
	Conversations, Messages          int64
	Agents, Sessions                 int64
	Tickets, OpenTickets             int64
	TelegramOffset                   int64 // the value, not a count
	TelegramChats, TelegramRequests  int64
	TelegramUpdates, TelegramBlocked int64
	LinkCodes, ChannelLinks          int64
	Followups                        int64 // scheduled
	APIKeys, WebhookEvents           int64
	// The dashboard's rollups: day totals, conversations' shares of
	// them, conversations changed since their last rollup.
	StatsDays, StatsContributions, StatsDirty int64
	Tallies                                   int64 // days with deleted conversations
	Attachments, AttachmentBytes              int64
	// MessagesPer counts the messages of each conversation that has any.
	MessagesPer map[string]int64
}

// Counts counts what the import has stored so far (what it would
// commit).
func (im *Import) Counts() (Counts, error) { return counts(im.tx.ctx, im.tx.q) }

// Counts counts the records of the database, on one snapshot.
func (db *DB) Counts(ctx context.Context) (c Counts, err error) {
	err = db.view(ctx, func(tx *Tx) error { c, err = counts(ctx, tx.q); return err })
	return c, err
}

func counts(ctx context.Context, q querier) (Counts, error) {
	var c Counts
	err := q.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM customers), (SELECT count(*) FROM customer_identities), (SELECT count(*) FROM customer_emails),
		(SELECT count(*) FROM conversations), (SELECT count(*) FROM messages),
		(SELECT count(*) FROM agents), (SELECT count(*) FROM agent_sessions),
		(SELECT count(*) FROM tickets), (SELECT count(*) FROM tickets WHERE open),
		coalesce((SELECT value FROM telegram_state WHERE name = 'offset'), 0),
		(SELECT count(*) FROM telegram_chats), (SELECT count(*) FROM telegram_outbox),
		(SELECT count(*) FROM telegram_updates), (SELECT count(*) FROM telegram_blocked),
		(SELECT count(*) FROM link_codes), (SELECT count(*) FROM channel_links), (SELECT count(*) FROM followups),
		(SELECT count(*) FROM api_keys), (SELECT count(*) FROM webhook_outbox),
		(SELECT count(*) FROM stats_days), (SELECT count(*) FROM stats_convs), (SELECT count(*) FROM stats_dirty),
		(SELECT count(*) FROM tallies),
		(SELECT count(*) FROM attachments), coalesce((SELECT sum(octet_length(data)) FROM attachments), 0)::bigint`).Scan(
		&c.Customers, &c.Identities, &c.Emails, &c.Conversations, &c.Messages, &c.Agents, &c.Sessions,
		&c.Tickets, &c.OpenTickets, &c.TelegramOffset, &c.TelegramChats, &c.TelegramRequests, &c.TelegramUpdates, &c.TelegramBlocked,
		&c.LinkCodes, &c.ChannelLinks, &c.Followups, &c.APIKeys, &c.WebhookEvents,
		&c.StatsDays, &c.StatsContributions, &c.StatsDirty, &c.Tallies, &c.Attachments, &c.AttachmentBytes)
	if err != nil {
		return Counts{}, fmt.Errorf("count records: %w", err)
	}
	rows, err := q.Query(ctx, "SELECT conversation_id, count(*) FROM messages GROUP BY conversation_id")
	if err != nil {
		return Counts{}, fmt.Errorf("count messages: %w", err)
	}
	c.MessagesPer = map[string]int64{}
	var conv string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&conv, &n}, func() error { c.MessagesPer[conv] = n; return nil })
	if err != nil {
		return Counts{}, fmt.Errorf("count messages: %w", err)
	}
	return c, nil
}
