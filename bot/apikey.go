package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// Scope is what an API key may do with the customer API.
type Scope string

// Scopes: a read key reads customers and conversations; a write key may
// also create, change and forget customers.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

// Allows reports whether a key of scope s may do what needs scope want.
func (s Scope) Allows(want Scope) bool { return s == ScopeWrite || s == want }

// APIKey is a key of the customer API, as stored: only the SHA-256 of its
// secret is kept, so the database alone does not let anyone use it. The
// key a caller presents is "fd_" + ID + "_" + secret.
type APIKey struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Scope   Scope     `json:"scope"`
	Hash    string    `json:"hash"` // hex SHA-256 of the secret
	Created time.Time `json:"created"`
	// Revoked is when the key was revoked; a revoked key never works
	// again.
	Revoked time.Time `json:"revoked,omitzero"`
}

// APIKeyStore keeps API keys. When a Put returns nil the key is on disk.
type APIKeyStore interface {
	PutAPIKey(ctx context.Context, k APIKey) error
	// APIKey returns the key with the id, or ErrNotFound.
	APIKey(ctx context.Context, id string) (*APIKey, error)
	// APIKeys lists every key, revoked ones too, oldest first.
	APIKeys(ctx context.Context) ([]APIKey, error)
}

// Errors of API keys.
var (
	ErrBadScope   = NewError(CodeInvalid, `scope is "read" or "write"`)
	ErrBadKeyName = NewError(CodeInvalid, "a key's name is 1 to 100 characters")
	// ErrBadAPIKey: no such key, a wrong secret, or a revoked key; which
	// one is not told.
	ErrBadAPIKey = NewError(CodeUnauthorized, "the API key is unknown or revoked")
)

// NewAPIKey makes a key named name with the scope and returns it (to
// store) and the text a caller presents, to be shown once: 32 random
// bytes of secret.
func NewAPIKey(name string, scope Scope, now time.Time) (APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return APIKey{}, "", ErrBadKeyName
	}
	if scope != ScopeRead && scope != ScopeWrite {
		return APIKey{}, "", ErrBadScope
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return APIKey{}, "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	id := NewID("key")[3:15]
	k := APIKey{ID: id, Name: name, Scope: scope, Hash: hashSecret(secret), Created: now.UTC()}
	return k, "fd_" + id + "_" + secret, nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ParseAPIKey splits the text a caller presents into the key's id and
// secret.
func ParseAPIKey(text string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(text), "fd_")
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	return id, secret, ok && id != "" && secret != "" && len(id) <= 40
}

// CheckAPIKey returns the stored key that text presents, if its secret
// matches (compared in constant time) and it is not revoked; otherwise
// ErrBadAPIKey.
func CheckAPIKey(ctx context.Context, st APIKeyStore, text string) (*APIKey, error) {
	id, secret, ok := ParseAPIKey(text)
	if !ok {
		return nil, ErrBadAPIKey
	}
	k, err := st.APIKey(ctx, id)
	switch {
	case ErrorCode(err) == CodeNotFound:
		return nil, ErrBadAPIKey
	case err != nil:
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(k.Hash)) != 1 || !k.Revoked.IsZero() {
		return nil, ErrBadAPIKey
	}
	return k, nil
}
