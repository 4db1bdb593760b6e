package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func hexToken(c byte) string { return strings.Repeat(string(c), 64) }

// helloAs sends hello with the token and identity and returns the frames
// up to and including the welcome.
func (c *client) helloAs(token string, identity map[string]any) (welcome map[string]any, before []map[string]any) {
	c.t.Helper()
	c.Send(map[string]any{"type": "hello", "token": token, "identity": identity})
	fs := c.Until(isType("welcome"))
	return fs[len(fs)-1], fs[:len(fs)-1]
}

func TestSignedIdentityOnTwoBrowsersSharesOneCustomerAndHistory(t *testing.T) {
	s := startServer(t, "", web.Options{IdentitySecret: testSecret})
	ctx := context.Background()
	ana := map[string]any{"user_id": "shop-42", "name": "Ana", "email": "ana@shop.example",
		"attributes": map[string]string{"order_status": "shipped"}, "user_hash": bot.UserHash(testSecret, "shop-42")}

	a := s.connect()
	wa, errs := a.helloAs(hexToken('a'), ana)
	if len(errs) != 0 {
		t.Fatalf("frames before welcome: %v", errs)
	}
	if cust := wa["customer"].(map[string]any); cust["verified"] != true || cust["name"] != "Ana" {
		t.Fatalf("welcome customer %v, want verified Ana", cust)
	}
	a.Send(map[string]any{"type": "message", "id": "m1", "text": "where is my parcel"})
	a.Until(func(f map[string]any) bool {
		return f["type"] == "message" && f["from"] == "bot" && f["seq"].(float64) > 2
	})

	b := s.connect()
	wb, _ := b.helloAs(hexToken('b'), ana)
	if wb["conversation_id"] != wa["conversation_id"] {
		t.Fatalf("second browser got conversation %v, want %v", wb["conversation_id"], wa["conversation_id"])
	}
	seen := false
	for _, f := range b.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "customer" }) {
		seen = seen || f["text"] == "where is my parcel"
	}
	if !seen {
		t.Error("second browser was not sent the first browser's message")
	}

	cust, err := s.engine.CustomerByExternalID(ctx, "shop-42")
	if err != nil {
		t.Fatal(err)
	}
	webIDs := 0
	for _, id := range cust.Identities {
		if id.Channel == bot.Web {
			webIDs++
		}
	}
	if webIDs != 2 || cust.Name != "Ana" || cust.Attrs["order_status"] != "shipped" {
		t.Errorf("customer %+v, want two web identities, Ana, order_status shipped", cust)
	}
	convs, err := s.engine.Conversations(ctx, cust.ID)
	if err != nil || len(convs) != 1 {
		t.Errorf("conversations %v %v, want one", convs, err)
	}
}

func TestWrongOrMissingHashStaysAnonymousAndLeavesTheVerifiedProfile(t *testing.T) {
	s := startServer(t, "", web.Options{IdentitySecret: testSecret})
	ctx := context.Background()
	a := s.connect()
	wa, _ := a.helloAs(hexToken('a'), map[string]any{"user_id": "shop-42", "name": "Ana", "email": "ana@shop.example",
		"user_hash": bot.UserHash(testSecret, "shop-42")})

	for _, tc := range []struct {
		name string
		hash string
	}{
		{"a hash of another id", bot.UserHash(testSecret, "shop-43")},
		{"a hash made with another secret", bot.UserHash([]byte("guess"), "shop-42")},
		{"no hash", ""},
		{"not hex", "zz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.connect()
			w, before := c.helloAs("", map[string]any{"user_id": "shop-42", "name": "Mallory", "email": "ana@shop.example",
				"attributes": map[string]string{"order_status": "refunded"}, "user_hash": tc.hash})
			if len(before) != 1 || before[0]["code"] != "identity_invalid" {
				t.Errorf("frames before welcome %v, want one identity_invalid error", before)
			}
			if w["conversation_id"] == wa["conversation_id"] {
				t.Fatal("an unverified identity got the verified customer's conversation")
			}
			if cust := w["customer"].(map[string]any); cust["verified"] == true {
				t.Errorf("unverified visitor welcomed as verified: %v", cust)
			}
			// The visitor stores a customer of their own with what they typed.
			c.Frame()
			c.Send(map[string]any{"type": "message", "id": "m1", "text": "my email is ana@shop.example"})
			c.Until(func(f map[string]any) bool {
				return f["type"] == "message" && f["from"] == "bot" && f["seq"].(float64) > 2
			})
		})
	}
	cust, err := s.engine.CustomerByExternalID(ctx, "shop-42")
	if err != nil {
		t.Fatal(err)
	}
	if cust.Name != "Ana" || cust.Email != "ana@shop.example" || cust.Attrs["order_status"] != "" {
		t.Errorf("verified profile changed: %+v", cust)
	}
	if byEmail, err := s.db.CustomerByEmail(ctx, "ana@shop.example"); err != nil || byEmail.ID != cust.ID {
		t.Errorf("email finds %+v (%v), want the verified customer %s", byEmail, err, cust.ID)
	}
}

func TestWithoutASecretNoIdentityIsVerified(t *testing.T) {
	s := startServer(t, "", web.Options{})
	c := s.connect()
	w, before := c.helloAs("", map[string]any{"user_id": "shop-42", "name": "Ana", "user_hash": bot.UserHash(nil, "shop-42")})
	if len(before) != 0 {
		t.Errorf("frames before welcome %v", before)
	}
	if cust := w["customer"].(map[string]any); cust["verified"] == true || cust["name"] != "Ana" {
		t.Errorf("customer %v, want anonymous Ana", cust)
	}
	if _, err := s.engine.CustomerByExternalID(context.Background(), "shop-42"); err == nil {
		t.Error("a customer was stored under the external id without a secret")
	}
}
