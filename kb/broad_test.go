package kb

import (
	"context"
	"strings"
	"testing"
)

// TestDecideAsksWhichArticleABroadQuestionMeans: on the demo content the
// classifier answered "payment" with the failed-payment article at 0.98
// and "account" with closing the account at 0.84. A question of one word
// that several articles' titles use is now clarified with those
// articles; a word more narrows it, and so does a word one title uses.
func TestDecideAsksWhichArticleABroadQuestionMeans(t *testing.T) {
	c := demo(t)
	k := buildShop(t, c)
	titles := map[string]string{}
	for _, a := range c.Articles {
		titles[a.ID] = strings.ToLower(a.Title)
	}
	for _, tc := range []struct{ q, word string }{
		{"payment", "payment"},
		{"account", "account"},
		{"my order", "order"},
		{"about the refund", "refund"},
		{"refnd", "refund"}, // a slip: the word it stands for
	} {
		d, err := k.Decide(context.Background(), tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind != Clarify || len(d.Candidates) < 2 || len(d.Signals.Broad) < 2 {
			t.Errorf("%q: decided %v with %d candidates (broad %v), want a clarification", tc.q, d.Kind, len(d.Candidates), d.Signals.Broad)
			continue
		}
		for _, h := range d.Candidates {
			if !strings.Contains(titles[h.ID], tc.word) {
				t.Errorf("%q: offered %q, whose title does not use %q", tc.q, titles[h.ID], tc.word)
			}
		}
	}
	for _, tc := range []struct{ q, want string }{
		{"where is my order", "order-track"},   // a question word narrows it
		{"remote", "replacement-remote"},       // one title uses the word
		{"payment methods", "payment-methods"}, // two words
	} {
		d, err := k.Decide(context.Background(), tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind != Answer || d.Article.ID != tc.want || len(d.Signals.Broad) > 0 {
			t.Errorf("%q: decided %v %+v (broad %v), want an answer with %s", tc.q, d.Kind, d.Hits, d.Signals.Broad, tc.want)
		}
	}
}

// TestAnArticleTitledByTheWordIsTheOneAboutIt: content with an article
// titled "Orders" answers "order" as it would any question; the word is
// not broad.
func TestAnArticleTitledByTheWordIsTheOneAboutIt(t *testing.T) {
	c := demo(t)
	c.Articles = append(c.Articles, Article{
		ID: "orders", Title: "Orders", Questions: []string{"questions about orders", "help with an order"},
		Body: "Everything about your orders: tracking, changes and cancellations.",
	})
	k := buildShop(t, c)
	d, err := k.Decide(context.Background(), "order")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Signals.Broad) > 0 {
		t.Errorf("order: broad %v, want none (an article is titled Orders)", d.Signals.Broad)
	}
}
