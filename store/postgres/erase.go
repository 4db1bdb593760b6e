package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/records"
)

// Deletion for good: the retention sweep (retention.go) and a customer's
// erasure (rights.go) remove conversations and customers with everything
// kept about them, as store/bolt does. What survives is anonymous:
// per-day tallies of what was deleted (table tallies), so that counts of
// conversations, messages, hand-offs and ratings over time stay right.

// Tallies returns the tallies of deleted conversations by day (UTC,
// "2006-01-02", the day they started).
func (db *DB) Tallies(ctx context.Context) (map[string]records.Tally, error) {
	out := map[string]records.Tally{}
	err := db.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, `SELECT day, conversations, messages, handoffs,
			ARRAY[rated_1, rated_2, rated_3, rated_4, rated_5] FROM tallies`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var day string
			var t records.Tally
			var rated []int
			if err := rows.Scan(&day, &t.Conversations, &t.Messages, &t.Handoffs, &rated); err != nil {
				return err
			}
			for i, n := range rated {
				if n > 0 {
					if t.Ratings == nil {
						t.Ratings = map[string]int{}
					}
					t.Ratings[strconv.Itoa(i+1)] = n
				}
			}
			out[day] = t
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read tallies: %w", err)
	}
	return out, nil
}

// eraseConversations deletes the conversations in tx with their
// messages, attachments, tickets and Telegram delivery state (and the
// rows of other tables that reference them, ON DELETE CASCADE), and
// counts them in their days' tallies. It does not check that they may
// be deleted. It returns the Telegram chats they were delivered to.
func (tx *Tx) eraseConversations(convs []bot.Conversation, erased *bot.Erased) (chats []int64, err error) {
	if len(convs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(convs))
	for i, c := range convs {
		ids[i] = c.ID
	}
	rows, err := tx.q.Query(tx.ctx, "DELETE FROM tickets WHERE conversation_id = ANY($1) RETURNING conversation_id", ids)
	if err != nil {
		return nil, fmt.Errorf("delete tickets: %w", err)
	}
	ticketsOf, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("delete tickets: %w", err)
	}
	handoffs := map[string]int{}
	for _, c := range ticketsOf {
		handoffs[c]++
	}
	rows, err = tx.q.Query(tx.ctx, "DELETE FROM telegram_chats WHERE conversation_id = ANY($1) RETURNING chat_id", ids)
	if err != nil {
		return nil, fmt.Errorf("delete telegram chats: %w", err)
	}
	if chats, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return nil, fmt.Errorf("delete telegram chats: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue("DELETE FROM messages WHERE conversation_id = ANY($1)", ids)
	b.Queue("DELETE FROM attachments WHERE conversation_id = ANY($1)", ids)
	b.Queue("DELETE FROM conversations WHERE id = ANY($1)", ids)
	tallies := map[string]*[8]int{} // conversations, messages, handoffs, rated 1 to 5
	for _, c := range convs {
		day := c.Created.UTC().Format("2006-01-02")
		t := tallies[day]
		if t == nil {
			t = new([8]int)
			tallies[day] = t
		}
		t[0]++
		t[1] += int(c.LastSeq)
		t[2] += handoffs[c.ID]
		if c.Rating >= 1 && c.Rating <= 5 {
			t[2+c.Rating]++
		}
		erased.Conversations++
		erased.Messages += int(c.LastSeq)
	}
	// In day order, so that two acts adding to the same days take their
	// rows in the same order.
	for _, day := range slices.Sorted(maps.Keys(tallies)) {
		t := tallies[day]
		b.Queue(`INSERT INTO tallies AS t (day, conversations, messages, handoffs, rated_1, rated_2, rated_3, rated_4, rated_5)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (day) DO UPDATE SET conversations = t.conversations + EXCLUDED.conversations,
				messages = t.messages + EXCLUDED.messages, handoffs = t.handoffs + EXCLUDED.handoffs,
				rated_1 = t.rated_1 + EXCLUDED.rated_1, rated_2 = t.rated_2 + EXCLUDED.rated_2,
				rated_3 = t.rated_3 + EXCLUDED.rated_3, rated_4 = t.rated_4 + EXCLUDED.rated_4,
				rated_5 = t.rated_5 + EXCLUDED.rated_5`,
			day, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7])
	}
	if err := tx.q.(batcher).SendBatch(tx.ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("delete conversations: %w", err)
	}
	return chats, nil
}

// eraseCustomers deletes the customers in tx with their identity and
// email index entries and the link codes made for them (ON DELETE
// CASCADE). Their
// conversations must be gone already.
func (tx *Tx) eraseCustomers(people []bot.Customer, erased *bot.Erased) error {
	if len(people) == 0 {
		return nil
	}
	ids := make([]string, len(people))
	for i, c := range people {
		ids[i] = c.ID
	}
	b := &pgx.Batch{}
	b.Queue("DELETE FROM customer_identities WHERE customer_id = ANY($1)", ids)
	b.Queue("DELETE FROM customer_emails WHERE customer_id = ANY($1)", ids)
	b.Queue("DELETE FROM customers WHERE id = ANY($1)", ids) // link codes go with it (ON DELETE CASCADE)
	if err := tx.q.(batcher).SendBatch(tx.ctx, b).Close(); err != nil {
		return fmt.Errorf("delete customers: %w", err)
	}
	erased.Customers += len(people)
	return nil
}

// hasConversations reports whether the customer has any conversation.
func (tx *Tx) hasConversations(customerID string) (bool, error) {
	var has bool
	err := tx.q.QueryRow(tx.ctx, "SELECT EXISTS (SELECT 1 FROM conversations WHERE customer_id = $1)", customerID).Scan(&has)
	return has, err
}

// withPeople reports whether a person has the conversation or it waits
// for one: its state says so, or it has an open ticket.
func (tx *Tx) withPeople(c *bot.Conversation) (bool, error) {
	if !bot.Erasable(c) {
		return true, nil
	}
	var open bool
	err := tx.q.QueryRow(tx.ctx, "SELECT EXISTS (SELECT 1 FROM tickets WHERE conversation_id = $1 AND open)", c.ID).Scan(&open)
	return open, err
}
