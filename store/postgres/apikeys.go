package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/frontdesk/frontdesk/bot"
)

var _ bot.APIKeyStore = (*DB)(nil)

// PutAPIKey creates or replaces the key (with its secret's hash only).
// When it returns nil the key is committed, seen by every node.
func (db *DB) PutAPIKey(ctx context.Context, k bot.APIKey) error {
	if k.ID == "" {
		return errors.New("save api key: no id")
	}
	data, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("encode api key %s: %w", k.ID, err)
	}
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.q.Exec(tx.ctx, `INSERT INTO api_keys (id, created, data) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET created = EXCLUDED.created, data = EXCLUDED.data`, k.ID, nanos(k.Created), data)
		if err != nil {
			return fmt.Errorf("save api key %s: %w", k.ID, err)
		}
		return nil
	})
}

// APIKey returns the key with the id, or bot.ErrNotFound.
func (db *DB) APIKey(ctx context.Context, id string) (*bot.APIKey, error) {
	var k bot.APIKey
	err := db.read(ctx, func(tx *Tx) error {
		return tx.getJSON(&k, "api key", "SELECT data FROM api_keys WHERE id = $1", id)
	})
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// APIKeys lists every key, revoked ones too, oldest first (ties in id
// order, as store/bolt has them).
func (db *DB) APIKeys(ctx context.Context) (out []bot.APIKey, err error) {
	err = db.read(ctx, func(tx *Tx) error {
		out, err = listJSON[bot.APIKey](tx, "api keys", `SELECT data FROM api_keys ORDER BY created, id COLLATE "C"`)
		return err
	})
	return out, err
}
