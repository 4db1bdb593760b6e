package postgres

import (
	"context"

	"github.com/frontdesk/frontdesk/bot"
)

// CustomerStore serves customers and their identity and email indexes.
type CustomerStore struct{ db *DB }

// Customer returns the customer with the id, or bot.ErrNotFound.
func (s CustomerStore) Customer(ctx context.Context, id string) (c *bot.Customer, err error) {
	err = s.db.read(ctx, func(tx *Tx) error { c, err = tx.Customer(id); return err })
	return c, err
}

// CustomerByIdentity returns the customer with the channel identity, or
// bot.ErrNotFound.
func (s CustomerStore) CustomerByIdentity(ctx context.Context, id bot.Identity) (c *bot.Customer, err error) {
	err = s.db.read(ctx, func(tx *Tx) error { c, err = tx.CustomerByIdentity(id); return err })
	return c, err
}

// CustomerByEmail returns the customer with the email address (compared
// without case), or bot.ErrNotFound.
func (s CustomerStore) CustomerByEmail(ctx context.Context, email string) (c *bot.Customer, err error) {
	err = s.db.read(ctx, func(tx *Tx) error { c, err = tx.CustomerByEmail(email); return err })
	return c, err
}

// SaveCustomer creates or replaces c, in one act, and keeps the identity
// and email indexes in step. An identity that belongs to another customer
// is refused with bot.ErrIdentityTaken.
func (s CustomerStore) SaveCustomer(ctx context.Context, c *bot.Customer) error {
	return s.db.update(ctx, func(tx *Tx) error { return tx.PutCustomer(c) })
}

// UpdateCustomer applies fn to the stored customer with the id and stores
// the result, in one act (see bot.UpdateCustomer).
func (s CustomerStore) UpdateCustomer(ctx context.Context, id string, fn func(*bot.Customer) error) (*bot.Customer, error) {
	return bot.UpdateCustomer(ctx, s.db, id, fn)
}

// ListCustomers returns up to limit customers (all when limit <= 0), most
// recently seen first.
func (s CustomerStore) ListCustomers(ctx context.Context, limit int) (out []bot.Customer, err error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	err = s.db.read(ctx, func(tx *Tx) error {
		out, err = listJSON[bot.Customer](tx, "customers",
			`SELECT data FROM customers ORDER BY last_seen DESC, id COLLATE "C" LIMIT $1`, lim)
		return err
	})
	return out, err
}
