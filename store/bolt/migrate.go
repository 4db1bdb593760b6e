package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

// migration moves the file's layout from the version before to version.
// Pending migrations run in order in one transaction, together with the
// new version number, so a crash leaves the file at the old version or the
// new one.
type migration struct {
	version uint64
	name    string
	up      func(tx *bbolt.Tx) error
}

// migrations is the ordered history of the schema. Append only: a
// released migration is never changed.
var migrations = []migration{
	{1, "buckets for customers, conversations, messages, agents, sessions, tickets, links, Telegram", createBuckets},
	{2, "one owner: each conversation's state agrees with its open ticket", reconcileOwners},
	{3, "each conversation keeps its customer's recent questions", keepQuestions},
	{4, "a bucket for the anonymous tallies of deleted conversations", createTallies},
	{6, "an index of closed tickets by closing time, and each conversation's last message for the inbox", indexInbox},
	{7, "daily rollups of the dashboard's figures, every conversation to roll up; scheduled follow-ups", createStats},
	{8, "buckets for the customer API's keys and the webhooks' outbox", createKnownCustomerBuckets},
	{9, "client ids kept in their conversation's message log", moveClientIDs},
}

// schemaVersion is the layout this code reads and writes: the last
// migration's.
var schemaVersion = migrations[len(migrations)-1].version

var v1Buckets = [][]byte{bucketMeta, bucketCustomers, bucketIdentities, bucketEmails,
	bucketAgents, bucketAgentEmails, bucketSessions, bucketTickets, bucketOpenTickets, bucketTicketHistory,
	bucketConversations, bucketByCustomer, bucketMessages, bucketClientIDs, bucketLinks, bucketTelegram}

func createBuckets(tx *bbolt.Tx) error {
	for _, name := range v1Buckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

func createKnownCustomerBuckets(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketAPIKeys, bucketOutbox} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// moveClientIDs moves each conversation's client ids from a bucket of
// their own into its message log, after the messages (see clientIDKey),
// and deletes the old bucket. A client id whose conversation has no log
// pointed at nothing and is dropped.
func moveClientIDs(tx *bbolt.Tx) error {
	old := tx.Bucket(bucketClientIDs)
	if old == nil {
		return nil
	}
	all := tx.Bucket(bucketMessages)
	err := old.ForEachBucket(func(conv []byte) error {
		msgs := all.Bucket(conv)
		if msgs == nil {
			return nil
		}
		return old.Bucket(conv).ForEach(func(id, seq []byte) error {
			return msgs.Put(clientIDKey(string(id)), seq)
		})
	})
	if err != nil {
		return err
	}
	return tx.DeleteBucket(bucketClientIDs)
}

func createTallies(tx *bbolt.Tx) error {
	_, err := tx.CreateBucketIfNotExists(bucketTallies)
	return err
}

// reconcileOwners repairs files written before an act was one
// transaction, where a crash could leave a conversation queued without a
// ticket, or a ticket assigned while its conversation still waited. The
// open ticket wins: its conversation takes the owner it names; a
// conversation queued or with an agent but without an open ticket goes
// back to the bot.
func reconcileOwners(tx *bbolt.Tx) error {
	open, err := openTickets(tx)
	if err != nil {
		return err
	}
	byConv := map[string]handoff.Ticket{}
	for _, t := range open {
		byConv[t.ConversationID] = t
	}
	return rewriteConversations(tx, func(c *bot.Conversation) (bool, error) {
		state, agent := bot.StateBot, ""
		if t, ok := byConv[c.ID]; ok {
			state, agent = handoff.OwnerOf(t)
		} else if c.State == bot.StateClosed {
			return false, nil
		}
		if c.State == state && c.Agent == agent {
			return false, nil
		}
		c.State, c.Agent = state, agent
		c.Rev++
		return true, nil
	})
}

// rewriteConversations calls fix for every conversation and stores those
// it reports changed, after the walk (a bucket is not written while its
// cursor runs).
func rewriteConversations(tx *bbolt.Tx, fix func(c *bot.Conversation) (changed bool, err error)) error {
	convs := tx.Bucket(bucketConversations)
	var changed []bot.Conversation
	err := convs.ForEach(func(k, v []byte) error {
		var c bot.Conversation
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode conversation %s: %w", k, err)
		}
		ok, err := fix(&c)
		if ok {
			changed = append(changed, c)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, c := range changed {
		if err := putJSON(convs, c.ID, c); err != nil {
			return err
		}
	}
	return nil
}

// migrate brings the file to schemaVersion, refusing a newer one.
func migrate(b *bbolt.DB) error {
	return b.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		var have uint64
		switch v := meta.Get([]byte("schema")); {
		case v == nil:
		case len(v) != 8:
			return fmt.Errorf("corrupt schema version %x", v)
		default:
			have = binary.BigEndian.Uint64(v)
		}
		if have > schemaVersion {
			return fmt.Errorf("schema version %d is newer than this frontdesk understands (%d); upgrade frontdesk", have, schemaVersion)
		}
		for _, m := range migrations {
			if m.version <= have {
				continue
			}
			if err := m.up(tx); err != nil {
				return fmt.Errorf("migrate to schema %d (%s): %w", m.version, m.name, err)
			}
			if err := meta.Put([]byte("schema"), u64(m.version)); err != nil {
				return err
			}
		}
		return nil
	})
}

// keepQuestions fills Conversation.Questions from the end of each log, as
// bot.NoteMessage keeps it from now on.
func keepQuestions(tx *bbolt.Tx) error {
	all := tx.Bucket(bucketMessages)
	return rewriteConversations(tx, func(c *bot.Conversation) (bool, error) {
		msgs := all.Bucket([]byte(c.ID))
		if msgs == nil || c.Questions != nil {
			return false, nil
		}
		var tail [][]byte
		cur := msgs.Cursor()
		for mk, mv := cur.Last(); mk != nil && len(tail) < 20; mk, mv = cur.Prev() {
			tail = append(tail, mv)
		}
		for i := len(tail) - 1; i >= 0; i-- {
			var m bot.Message
			if err := json.Unmarshal(tail[i], &m); err != nil {
				return false, fmt.Errorf("decode a message of %s: %w", c.ID, err)
			}
			bot.NoteMessage(c, m)
		}
		return c.Questions != nil, nil
	})
}
