package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// External is the "channel" of a shop's own user ids: a customer the shop
// vouched for (a signed identity in the widget, the customer API) has the
// identity {External, external id}, and Customer.ExternalID says so.
// No conversation is ever on it.
const External Channel = "external"

// Limits of what a shop may tell about a customer.
const (
	MaxExternalID = 200  // bytes of an external id
	MaxAttrs      = 50   // attributes of one customer
	MaxAttrKey    = 64   // bytes of an attribute's name
	MaxAttrValue  = 1000 // bytes of an attribute's value
)

// Errors of shop-given identities.
var (
	// ErrBadExternalID: an external id that is empty, too long or not
	// printable.
	ErrBadExternalID = NewError(CodeInvalid, "an external id is 1 to 200 printable characters")
	// ErrBadAttributes: too many attributes, or a name or value too long,
	// or a reserved name.
	ErrBadAttributes = NewError(CodeInvalid, "attributes are up to 50 names (letters, digits, _ - .; up to 64 bytes) with values up to 1000 bytes")
)

// reservedAttrs are attributes Frontdesk itself keeps on a customer; the
// shop may not set them.
var reservedAttrs = []string{AttrMergedInto, AttrLinkedFrom}

// UserHash is the user_hash a shop sends with a customer's user id: the
// hex HMAC-SHA256 of the id with the installation's identity secret.
func UserHash(secret []byte, userID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyUserHash reports whether hash is UserHash(secret, userID),
// comparing in constant time. An empty secret verifies nothing.
func VerifyUserHash(secret []byte, userID, hash string) bool {
	if len(secret) == 0 || userID == "" {
		return false
	}
	got, err := hex.DecodeString(strings.ToLower(strings.TrimSpace(hash)))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(userID))
	return hmac.Equal(got, m.Sum(nil))
}

// Verified is what a shop vouches for about one of its customers. Nil
// fields and empty strings leave what is stored as it is.
type Verified struct {
	ExternalID string
	Name       string
	Email      string
	Segment    *string
	Tags       []string
	// Attributes, when not nil, replace the shop's attributes of the
	// customer (Frontdesk's own, such as AttrMergedInto, are kept).
	Attributes map[string]string
}

// CheckExternalID returns ErrBadExternalID unless id is a usable external
// id.
func CheckExternalID(id string) error {
	if id == "" || len(id) > MaxExternalID || !utf8.ValidString(id) {
		return ErrBadExternalID
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return ErrBadExternalID
		}
	}
	return nil
}

// CheckAttributes returns ErrBadAttributes unless attrs may be stored as
// a shop's attributes.
func CheckAttributes(attrs map[string]string) error {
	if len(attrs) > MaxAttrs {
		return ErrBadAttributes
	}
	for k, v := range attrs {
		if k == "" || len(k) > MaxAttrKey || len(v) > MaxAttrValue || slices.Contains(reservedAttrs, k) || !utf8.ValidString(v) {
			return ErrBadAttributes
		}
		for _, r := range k {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
				return ErrBadAttributes
			}
		}
	}
	return nil
}

func (v Verified) check() error {
	if err := CheckExternalID(v.ExternalID); err != nil {
		return err
	}
	return CheckAttributes(v.Attributes)
}

// apply writes what the shop vouched for onto c.
func (v Verified) apply(c *Customer) {
	c.ExternalID = v.ExternalID
	if n := strings.TrimSpace(v.Name); n != "" {
		c.Name = n
	}
	if m := strings.TrimSpace(v.Email); m != "" {
		c.Email = m
	}
	if v.Segment != nil {
		c.Segment = *v.Segment
	}
	if v.Tags != nil {
		c.Tags = slices.Clone(v.Tags)
	}
	if v.Attributes != nil {
		own := map[string]string{}
		for _, k := range reservedAttrs {
			if x, ok := c.Attrs[k]; ok {
				own[k] = x
			}
		}
		maps.Copy(own, v.Attributes)
		c.Attrs = own
		if len(c.Attrs) == 0 {
			c.Attrs = nil
		}
	}
}

// ShopAttrs returns the attributes the shop set on c (Frontdesk's own
// left out).
func ShopAttrs(c *Customer) map[string]string {
	out := map[string]string{}
	for k, x := range c.Attrs {
		if !slices.Contains(reservedAttrs, k) {
			out[k] = x
		}
	}
	return out
}

// Identify merges a channel identity (a web visitor) into the customer the
// shop vouched for, creating that customer if it is new, and stores what
// the shop told, in one act: every browser and device of the customer
// then finds one profile and one history. It returns the customer.
//
// A visitor already known as another customer is moved: if that customer
// was anonymous with no history it is simply re-pointed; one with
// conversations keeps them, marked AttrMergedInto. An anonymous customer
// the visitor had, with no verified customer for the external id yet,
// becomes that customer (its history kept).
//
// Only call Identify with an identity the shop signed (VerifyUserHash):
// it overwrites the profile.
func (e *Engine) Identify(ctx context.Context, visitor Identity, v Verified) (*Customer, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	var out *Customer
	err := e.store.Update(ctx, func(tx Tx) error {
		var err error
		out, err = e.identify(tx, &visitor, v)
		return err
	})
	if errors.Is(err, errNoChange) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identify customer: %w", err)
	}
	return out, nil
}

// PutVerified creates or updates the customer with the external id from
// what the shop's backend tells (the customer API), in one act. Giving
// the same Verified twice stores the same customer: created reports
// whether this call created it.
func (e *Engine) PutVerified(ctx context.Context, v Verified) (c *Customer, created bool, err error) {
	if err := v.check(); err != nil {
		return nil, false, err
	}
	err = e.store.Update(ctx, func(tx Tx) error {
		_, err := tx.CustomerByIdentity(Identity{Channel: External, ID: v.ExternalID})
		created = errors.Is(err, ErrNotFound)
		c, err = e.identify(tx, nil, v)
		return err
	})
	if errors.Is(err, errNoChange) {
		return c, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("put customer %s: %w", v.ExternalID, err)
	}
	return c, created, nil
}

// CustomerByExternalID returns the customer the shop knows by the id, or
// ErrNotFound.
func (e *Engine) CustomerByExternalID(ctx context.Context, externalID string) (*Customer, error) {
	return e.store.CustomerByIdentity(ctx, Identity{Channel: External, ID: externalID})
}

// identify is Identify and PutVerified inside the transaction; visitor
// may be nil. It returns errNoChange (with the customer) when nothing
// would change.
func (e *Engine) identify(tx Tx, visitor *Identity, v Verified) (*Customer, error) {
	now := e.opts.Now().UTC()
	ext := Identity{Channel: External, ID: v.ExternalID}
	target, err := tx.CustomerByIdentity(ext)
	switch {
	case errors.Is(err, ErrNotFound):
		target = nil
	case err != nil:
		return nil, fmt.Errorf("find customer: %w", err)
	}
	var cur *Customer
	if visitor != nil {
		cur, err = tx.CustomerByIdentity(*visitor)
		switch {
		case errors.Is(err, ErrNotFound):
			cur = nil
		case err != nil:
			return nil, fmt.Errorf("find visitor: %w", err)
		}
	}
	var before *Customer // nil: the customer changes
	switch {
	case target != nil:
		before = cloneCustomer(target)
	case cur != nil && cur.ExternalID == "":
		// The anonymous customer logs in for the first time: they become
		// the shop's customer, history and all.
		target, cur = cur, nil
		target.Identities = append(target.Identities, ext)
	default:
		target = &Customer{ID: NewID("cus_"), Identities: []Identity{ext}, FirstSeen: now, LastSeen: now}
	}
	if cur != nil && cur.ID != target.ID {
		convs, err := tx.Conversations(cur.ID)
		if err != nil {
			return nil, err
		}
		cur.Identities = slices.DeleteFunc(cur.Identities, func(i Identity) bool { return i == *visitor })
		if len(convs) > 0 {
			setAttr(cur, AttrMergedInto, target.ID)
			from := target.Attrs[AttrLinkedFrom]
			if from != "" {
				from += ","
			}
			setAttr(target, AttrLinkedFrom, from+cur.ID)
		}
		if err := tx.PutCustomer(cur); err != nil {
			return nil, fmt.Errorf("release visitor: %w", err)
		}
	}
	if visitor != nil && !slices.Contains(target.Identities, *visitor) {
		target.Identities = append(target.Identities, *visitor)
	}
	v.apply(target)
	if before != nil && reflect.DeepEqual(before, target) {
		return target, errNoChange
	}
	if err := tx.PutCustomer(target); err != nil {
		return nil, fmt.Errorf("save customer: %w", err)
	}
	if before == nil || !sameProfile(before, target) {
		if err := e.recordCustomer(tx, target); err != nil {
			return nil, fmt.Errorf("record customer: %w", err)
		}
	}
	return target, nil
}

// cloneCustomer returns a deep copy of c.
func cloneCustomer(c *Customer) *Customer {
	d := *c
	d.Tags = slices.Clone(c.Tags)
	d.Attrs = maps.Clone(c.Attrs)
	d.Identities = slices.Clone(c.Identities)
	d.Topics = slices.Clone(c.Topics)
	return &d
}

// sameProfile reports whether a and b agree on what the shop sees of a
// customer (not their identities or visits).
func sameProfile(a, b *Customer) bool {
	return a.ExternalID == b.ExternalID && a.Name == b.Name && a.Email == b.Email && a.Segment == b.Segment &&
		slices.Equal(a.Tags, b.Tags) && maps.Equal(a.Attrs, b.Attrs)
}
