package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
)

// LinkStore serves one-time link codes and the channels offered for linking.
type LinkStore struct{ db *DB }

// bucketLinks holds linking state: "code/" SHA-256 of a link code (hex)
// -> JSON bot.LinkCode, and "channel/" channel -> URL prefix.
var bucketLinks = []byte("links")

var _ bot.LinkStore = (*DB)(nil)

const (
	linkCodePrefix    = "code/"
	linkChannelPrefix = "channel/"
)

// PutLinkCode stores a link code under its hash and drops expired ones.
// When it returns nil the code is on disk.
func (s LinkStore) PutLinkCode(ctx context.Context, hash string, c bot.LinkCode) error {
	return s.db.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		cur := b.Cursor()
		prefix := []byte(linkCodePrefix)
		var stale [][]byte
		for k, v := cur.Seek(prefix); k != nil && len(k) > len(prefix) && string(k[:len(prefix)]) == linkCodePrefix; k, v = cur.Next() {
			var old bot.LinkCode
			if json.Unmarshal(v, &old) != nil || old.Expires.Before(c.Expires.Add(-2*bot.LinkCodeTTL)) {
				stale = append(stale, append([]byte(nil), k...))
			}
		}
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return putJSON(b, linkCodePrefix+hash, c)
	})
}

// TakeLinkCode removes and returns the code with the hash, or
// bot.ErrNotFound. Of two concurrent calls for one code, one gets it.
func (s LinkStore) TakeLinkCode(ctx context.Context, hash string) (bot.LinkCode, error) {
	var c bot.LinkCode
	err := s.db.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		if err := getJSON(b, linkCodePrefix+hash, &c); err != nil {
			return err
		}
		return b.Delete([]byte(linkCodePrefix + hash))
	})
	if err != nil && !errors.Is(err, bot.ErrNotFound) {
		err = fmt.Errorf("take link code: %w", err)
	}
	return c, err
}

// SetChannelLink records the link prefix of a channel; "" removes it.
func (s LinkStore) SetChannelLink(ctx context.Context, ch bot.Channel, prefix string) error {
	return s.db.update(ctx, func(tx *bbolt.Tx) error {
		key := []byte(linkChannelPrefix + string(ch))
		if prefix == "" {
			return tx.Bucket(bucketLinks).Delete(key)
		}
		return tx.Bucket(bucketLinks).Put(key, []byte(prefix))
	})
}

// ChannelLinks returns the link prefix of every channel that has one.
func (s LinkStore) ChannelLinks(ctx context.Context) (map[bot.Channel]string, error) {
	out := map[bot.Channel]string{}
	err := s.db.view(ctx, func(tx *bbolt.Tx) error {
		cur := tx.Bucket(bucketLinks).Cursor()
		p := []byte(linkChannelPrefix)
		for k, v := cur.Seek(p); k != nil && len(k) > len(p) && string(k[:len(p)]) == linkChannelPrefix; k, v = cur.Next() {
			out[bot.Channel(k[len(p):])] = string(v)
		}
		return nil
	})
	return out, err
}
