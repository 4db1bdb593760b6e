package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// LinkCodeTTL is how long a link code may be redeemed after it was made.
const LinkCodeTTL = 10 * time.Minute

// Errors of linking, for the reply a customer gets.
var (
	// ErrLinkUnknown: no such code, or it was used already.
	ErrLinkUnknown = NewError(CodeNotFound, "link code is unknown or was already used")
	// ErrLinkExpired: the code was older than LinkCodeTTL.
	ErrLinkExpired = NewError(CodeInvalid, "link code has expired")
	// ErrChannelUnavailable: the channel is not configured on this server.
	ErrChannelUnavailable = NewError(CodeUnavailable, "channel is not available")
	// ErrNoLinkStore: the engine's store cannot keep link codes.
	ErrNoLinkStore = NewError(CodeUnavailable, "store does not support linking")
)

// LinkCode is a stored one-time code: only its SHA-256 is the key, so the
// database alone does not let anyone take over a customer.
type LinkCode struct {
	CustomerID string    `json:"customer_id"`
	Expires    time.Time `json:"expires"`
}

// LinkStore is what linking needs of storage, besides Store.
type LinkStore interface {
	// PutLinkCode stores a code under its hash (and may drop expired
	// ones). When it returns nil the code is on disk.
	PutLinkCode(ctx context.Context, hash string, c LinkCode) error
	// TakeLinkCode removes and returns the code with the hash, or
	// ErrNotFound: a code can be taken once.
	TakeLinkCode(ctx context.Context, hash string) (LinkCode, error)
	// SetChannelLink records the URL prefix a code is appended to for a
	// customer to continue on the channel ("" removes it).
	SetChannelLink(ctx context.Context, ch Channel, prefix string) error
	// ChannelLinks returns the channels with a link prefix.
	ChannelLinks(ctx context.Context) (map[Channel]string, error)
}

// Customer attributes that record linking. A linked identity that already
// had a history with another customer is moved, never merged silently:
// the old customer keeps its conversations and says where it went.
const (
	AttrMergedInto = "merged_into" // on the old customer: the id it was linked into
	AttrLinkedFrom = "linked_from" // on the customer: comma-separated ids linked into it
)

func (e *Engine) linkStore() (LinkStore, error) {
	ls, ok := e.store.(LinkStore)
	if !ok {
		return nil, ErrNoLinkStore
	}
	return ls, nil
}

func hashCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// CreateLinkCode returns a one-time code, valid for LinkCodeTTL, that
// links another channel identity to the customer: 16 random bytes (128
// bits) in base64url, 22 characters. Only its hash is stored.
func (e *Engine) CreateLinkCode(ctx context.Context, customerID string) (string, error) {
	ls, err := e.linkStore()
	if err != nil {
		return "", err
	}
	if _, err := e.store.Customer(ctx, customerID); err != nil {
		return "", fmt.Errorf("create link code for %s: %w", customerID, err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	code := base64.RawURLEncoding.EncodeToString(b[:])
	c := LinkCode{CustomerID: customerID, Expires: e.opts.Now().UTC().Add(LinkCodeTTL)}
	if err := ls.PutLinkCode(ctx, hashCode(code), c); err != nil {
		return "", fmt.Errorf("store link code: %w", err)
	}
	return code, nil
}

// RedeemLinkCode links the identity to the customer who made the code and
// returns that customer. A code works once; an unknown or used code gives
// ErrLinkUnknown, an expired one ErrLinkExpired, and nothing is linked.
//
// If the identity belonged to another customer, it is moved: a customer
// left without history is simply re-pointed; one with conversations keeps
// them, marked AttrMergedInto, and the linked customer lists it in
// AttrLinkedFrom, so an agent can still reach the old history. Both
// customers change in one act.
func (e *Engine) RedeemLinkCode(ctx context.Context, code string, id Identity) (*Customer, error) {
	ls, err := e.linkStore()
	if err != nil {
		return nil, err
	}
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 100 {
		return nil, ErrLinkUnknown
	}
	lc, err := ls.TakeLinkCode(ctx, hashCode(code))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrLinkUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("redeem link code: %w", err)
	}
	if !e.opts.Now().Before(lc.Expires) {
		return nil, ErrLinkExpired
	}
	var target *Customer
	err = e.store.Update(ctx, func(tx Tx) error {
		var err error
		target, err = tx.Customer(lc.CustomerID)
		if err != nil {
			return fmt.Errorf("customer %s: %w", lc.CustomerID, err)
		}
		old, err := tx.CustomerByIdentity(id)
		switch {
		case err == nil && old.ID == target.ID:
			return errNoChange // linked already
		case err == nil:
			convs, err := tx.Conversations(old.ID)
			if err != nil {
				return err
			}
			old.Identities = slices.DeleteFunc(old.Identities, func(i Identity) bool { return i == id })
			if len(convs) > 0 {
				setAttr(old, AttrMergedInto, target.ID)
				from := target.Attrs[AttrLinkedFrom]
				if from != "" {
					from += ","
				}
				setAttr(target, AttrLinkedFrom, from+old.ID)
			}
			if err := tx.PutCustomer(old); err != nil {
				return fmt.Errorf("release identity: %w", err)
			}
		case !errors.Is(err, ErrNotFound):
			return err
		}
		target.Identities = append(target.Identities, id)
		return tx.PutCustomer(target)
	})
	if errors.Is(err, errNoChange) {
		return target, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redeem link code: %w", err)
	}
	e.opts.Log.Info("identity linked", "customer", target.ID, "channel", id.Channel)
	return target, nil
}

func setAttr(c *Customer, k, v string) {
	if c.Attrs == nil {
		c.Attrs = map[string]string{}
	}
	c.Attrs[k] = v
}

// OfferChannel makes a channel available for "continue on …" links: a
// customer's link is prefix followed by a fresh code (for Telegram,
// "https://t.me/<bot>?start="). An empty prefix withdraws the offer. The
// offer is stored, so that every web node sees it; the channel adapter
// sets it when it starts.
func (e *Engine) OfferChannel(ctx context.Context, ch Channel, prefix string) error {
	ls, err := e.linkStore()
	if err != nil {
		return err
	}
	return ls.SetChannelLink(ctx, ch, prefix)
}

// LinkChannels returns the channels a customer may continue on, sorted.
func (e *Engine) LinkChannels(ctx context.Context) ([]Channel, error) {
	ls, err := e.linkStore()
	if err != nil {
		return nil, err
	}
	m, err := ls.ChannelLinks(ctx)
	if err != nil {
		return nil, err
	}
	var out []Channel
	for ch := range m {
		out = append(out, ch)
	}
	slices.Sort(out)
	return out, nil
}

// ChannelLink returns a one-time link for the customer to continue on the
// channel, or ErrChannelUnavailable.
func (e *Engine) ChannelLink(ctx context.Context, customerID string, ch Channel) (string, error) {
	ls, err := e.linkStore()
	if err != nil {
		return "", err
	}
	m, err := ls.ChannelLinks(ctx)
	if err != nil {
		return "", err
	}
	prefix, ok := m[ch]
	if !ok {
		return "", ErrChannelUnavailable
	}
	code, err := e.CreateLinkCode(ctx, customerID)
	if err != nil {
		return "", err
	}
	return prefix + code, nil
}
