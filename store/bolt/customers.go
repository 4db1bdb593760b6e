package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

func identityKey(id bot.Identity) []byte {
	return []byte(string(id.Channel) + "\x00" + id.ID)
}

func emailKey(email string) []byte { return []byte(strings.ToLower(strings.TrimSpace(email))) }

// CustomerStore serves customers and their identity and email indexes.
type CustomerStore struct{ db *DB }

// Customer returns the customer with the id, or bot.ErrNotFound.
func (s CustomerStore) Customer(ctx context.Context, id string) (c *bot.Customer, err error) {
	err = s.db.View(ctx, func(tx bot.Tx) error { c, err = tx.Customer(id); return err })
	return c, err
}

// CustomerByIdentity returns the customer with the channel identity, or
// bot.ErrNotFound.
func (s CustomerStore) CustomerByIdentity(ctx context.Context, id bot.Identity) (c *bot.Customer, err error) {
	err = s.db.View(ctx, func(tx bot.Tx) error { c, err = tx.CustomerByIdentity(id); return err })
	return c, err
}

// CustomerByEmail returns the customer with the email address (compared
// without case), or bot.ErrNotFound.
func (s CustomerStore) CustomerByEmail(ctx context.Context, email string) (c *bot.Customer, err error) {
	err = s.db.View(ctx, func(tx bot.Tx) error { c, err = tx.(*Tx).CustomerByEmail(email); return err })
	return c, err
}

// ErrIdentityTaken is returned when one of a customer's identities already
// belongs to another customer.
var ErrIdentityTaken = bot.ErrIdentityTaken

// SaveCustomer creates or replaces c, in one act, and keeps the identity
// and email indexes in step: identities the customer no longer has are
// released. An identity that belongs to another customer is refused with
// ErrIdentityTaken. When SaveCustomer returns nil, c is on disk.
func (s CustomerStore) SaveCustomer(ctx context.Context, c *bot.Customer) error {
	return s.db.Update(ctx, func(tx bot.Tx) error { return tx.PutCustomer(c) })
}

// UpdateCustomer applies fn to the stored customer with the id and stores
// the result, in one act (see bot.UpdateCustomer).
func (s CustomerStore) UpdateCustomer(ctx context.Context, id string, fn func(*bot.Customer) error) (*bot.Customer, error) {
	return bot.UpdateCustomer(ctx, s.db, id, fn)
}

// saveCustomer stores c and moves its identity and email indexes.
func saveCustomer(tx *bbolt.Tx, m *memos, c *bot.Customer) error {
	customers, ids, emails := tx.Bucket(bucketCustomers), tx.Bucket(bucketIdentities), tx.Bucket(bucketEmails)
	old, err := m.customers.get(customers, c.ID)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		old = &bot.Customer{}
	case err != nil:
		return err
	}
	for _, id := range c.Identities {
		owner := ids.Get(identityKey(id))
		if owner != nil && string(owner) != c.ID {
			return fmt.Errorf("save customer %s: %s identity: %w", c.ID, id.Channel, ErrIdentityTaken)
		}
	}
	// Most saves (a turn noting a topic) change neither the identities nor
	// the email: their index entries are then left as they are rather
	// than deleted and put back, which would rewrite the index's pages in
	// every commit for nothing.
	sameIDs := slices.Equal(old.Identities, c.Identities)
	if !sameIDs {
		for _, id := range old.Identities {
			if err := ids.Delete(identityKey(id)); err != nil {
				return err
			}
		}
	}
	for _, id := range c.Identities {
		if sameIDs && ids.Get(identityKey(id)) != nil {
			continue // c's, as checked above
		}
		if err := ids.Put(identityKey(id), []byte(c.ID)); err != nil {
			return err
		}
	}
	emailIndexed := old.Email != "" && bytes.Equal(emails.Get(emailKey(old.Email)), []byte(c.ID))
	if emailIndexed && old.Email == c.Email {
		return m.customers.put(customers, c.ID, c)
	}
	if emailIndexed {
		if err := emails.Delete(emailKey(old.Email)); err != nil {
			return err
		}
	}
	if c.Email != "" {
		// The newest customer to give an address is found by it, except
		// that an address a shop vouched for (a verified customer's) is
		// never taken over by a customer who merely typed it.
		ok, err := mayIndexEmail(customers, emails.Get(emailKey(c.Email)), c)
		if err != nil {
			return err
		}
		if ok {
			if err := emails.Put(emailKey(c.Email), []byte(c.ID)); err != nil {
				return err
			}
		}
	}
	return m.customers.put(customers, c.ID, c)
}

// ListCustomers returns up to limit customers, most recently seen first.
func (s CustomerStore) ListCustomers(ctx context.Context, limit int) ([]bot.Customer, error) {
	var out []bot.Customer
	err := s.db.view(ctx, func(tx *bbolt.Tx) error {
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

// mayIndexEmail reports whether c may take its email's index entry from
// owner (the customer id the entry holds, or nil).
func mayIndexEmail(customers *bbolt.Bucket, owner []byte, c *bot.Customer) (bool, error) {
	if owner == nil || string(owner) == c.ID || c.ExternalID != "" {
		return true, nil
	}
	var o bot.Customer
	switch err := getJSON(customers, string(owner), &o); {
	case errors.Is(err, bot.ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	}
	return o.ExternalID == "" || !strings.EqualFold(strings.TrimSpace(o.Email), strings.TrimSpace(c.Email)), nil
}
