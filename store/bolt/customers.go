package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

func identityKey(id bot.Identity) []byte {
	return []byte(string(id.Channel) + "\x00" + id.ID)
}

func emailKey(email string) []byte { return []byte(strings.ToLower(strings.TrimSpace(email))) }

// Customer returns the customer with the id, or bot.ErrNotFound.
func (db *DB) Customer(ctx context.Context, id string) (*bot.Customer, error) {
	var c bot.Customer
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		return getJSON(tx.Bucket(bucketCustomers), id, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CustomerByIdentity returns the customer with the channel identity, or
// bot.ErrNotFound.
func (db *DB) CustomerByIdentity(ctx context.Context, id bot.Identity) (*bot.Customer, error) {
	return db.customerBy(ctx, bucketIdentities, identityKey(id))
}

// CustomerByEmail returns the customer with the email address (compared
// without case), or bot.ErrNotFound.
func (db *DB) CustomerByEmail(ctx context.Context, email string) (*bot.Customer, error) {
	return db.customerBy(ctx, bucketEmails, emailKey(email))
}

func (db *DB) customerBy(ctx context.Context, index, key []byte) (*bot.Customer, error) {
	var c bot.Customer
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		id := tx.Bucket(index).Get(key)
		if id == nil {
			return bot.ErrNotFound
		}
		return getJSON(tx.Bucket(bucketCustomers), string(id), &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// ErrIdentityTaken is returned by SaveCustomer when one of the customer's
// identities already belongs to another customer.
var ErrIdentityTaken = errors.New("identity belongs to another customer")

// SaveCustomer creates or replaces c and keeps the identity and email
// indexes in step: identities the customer no longer has are released. An
// identity that belongs to another customer is refused with
// ErrIdentityTaken. When SaveCustomer returns nil, c is on disk.
func (db *DB) SaveCustomer(ctx context.Context, c *bot.Customer) error {
	if c.ID == "" {
		return errors.New("save customer: no id")
	}
	return db.update(ctx, func(tx *bbolt.Tx) error { return saveCustomer(tx, c) })
}

// UpdateCustomer applies fn to the stored customer with the id and stores
// the result, in one transaction: changes made meanwhile by others (the
// console setting a segment while the bot records a topic) are never
// lost. fn runs inside the transaction and must not call the DB. It
// returns the stored customer, or bot.ErrNotFound.
func (db *DB) UpdateCustomer(ctx context.Context, id string, fn func(*bot.Customer) error) (*bot.Customer, error) {
	var c bot.Customer
	err := db.update(ctx, func(tx *bbolt.Tx) error {
		if err := getJSON(tx.Bucket(bucketCustomers), id, &c); err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return err
		}
		c.ID = id
		return saveCustomer(tx, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// saveCustomer stores c and moves its identity and email indexes.
func saveCustomer(tx *bbolt.Tx, c *bot.Customer) error {
	{
		customers, ids, emails := tx.Bucket(bucketCustomers), tx.Bucket(bucketIdentities), tx.Bucket(bucketEmails)
		var old bot.Customer
		switch err := getJSON(customers, c.ID, &old); {
		case errors.Is(err, bot.ErrNotFound):
		case err != nil:
			return err
		}
		for _, id := range c.Identities {
			owner := ids.Get(identityKey(id))
			if owner != nil && string(owner) != c.ID {
				return fmt.Errorf("save customer %s: %s identity: %w", c.ID, id.Channel, ErrIdentityTaken)
			}
		}
		for _, id := range old.Identities {
			if err := ids.Delete(identityKey(id)); err != nil {
				return err
			}
		}
		if old.Email != "" && bytes.Equal(emails.Get(emailKey(old.Email)), []byte(c.ID)) {
			if err := emails.Delete(emailKey(old.Email)); err != nil {
				return err
			}
		}
		for _, id := range c.Identities {
			if err := ids.Put(identityKey(id), []byte(c.ID)); err != nil {
				return err
			}
		}
		if c.Email != "" {
			// The newest customer to give an address is found by it.
			if err := emails.Put(emailKey(c.Email), []byte(c.ID)); err != nil {
				return err
			}
		}
		return putJSON(customers, c.ID, c)
	}
}

// ListCustomers returns up to limit customers, most recently seen first.
func (db *DB) ListCustomers(ctx context.Context, limit int) ([]bot.Customer, error) {
	var out []bot.Customer
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCustomers).ForEach(func(k, v []byte) error {
			var c bot.Customer
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode customer %q: %w", k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastSeen.After(out[j].LastSeen) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
