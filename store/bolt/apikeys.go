package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// bucketAPIKeys holds the customer API's keys: key id -> JSON bot.APIKey
// (with the secret's hash only).
var bucketAPIKeys = []byte("api_keys")

var _ bot.APIKeyStore = (*DB)(nil)

// PutAPIKey creates or replaces the key. When it returns nil the key is
// on disk.
func (db *DB) PutAPIKey(ctx context.Context, k bot.APIKey) error {
	return db.update(ctx, func(tx *bbolt.Tx) error { return putJSON(tx.Bucket(bucketAPIKeys), k.ID, k) })
}

// APIKey returns the key with the id, or bot.ErrNotFound.
func (db *DB) APIKey(ctx context.Context, id string) (*bot.APIKey, error) {
	var k bot.APIKey
	err := db.view(ctx, func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketAPIKeys), id, &k) })
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// APIKeys lists every key, revoked ones too, oldest first.
func (db *DB) APIKeys(ctx context.Context) ([]bot.APIKey, error) {
	var out []bot.APIKey
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketAPIKeys).ForEach(func(k, v []byte) error {
			var key bot.APIKey
			if err := json.Unmarshal(v, &key); err != nil {
				return fmt.Errorf("decode api key %q: %w", k, err)
			}
			out = append(out, key)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b bot.APIKey) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// bucketOutbox holds the webhooks' events waiting for delivery (see
// outbox.go).
var bucketOutbox = []byte("outbox")
