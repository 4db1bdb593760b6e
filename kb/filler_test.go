package kb

import (
	"context"
	"slices"
	"testing"
)

// TestGreetingsAndFramingTheArticlesNeverUseAreSetAside asks the demo
// content plain questions wrapped in greetings, thanks and framing: each
// is decided exactly as the plain question, and the signals name what
// was set aside. Before, "Hello, how do I return a lamp?" was answered at
// 0.27 against 0.97, and "i would like to know if you ship to austria"
// not at all (the negatives use the framing).
func TestGreetingsAndFramingTheArticlesNeverUseAreSetAside(t *testing.T) {
	k := buildShop(t, demo(t))
	ctx := context.Background()
	cases := []struct {
		q, plain string
		filler   []string
	}{
		{"Hello, how do I return a lamp?", "how do I return a lamp?", []string{"hello"}},
		{"hiii! how long does delivery take? thanks", "how long does delivery take", []string{"hiii", "thanks"}},
		{"I would like to know if you ship to Austria", "if you ship to Austria", []string{"i would like to know"}},
		{"hey, i was wondering how I reset my password pls", "how I reset my password", []string{"i was wondering", "hey", "pls"}},
		// Words of talk: declined at 0.07 as resting on two unknown words.
		{"are you guys actually a german company?", "are you a german company?", []string{"guys", "actually"}},
		// Polite requests.
		{"Could you please explain how I return a lamp", "explain how I return a lamp", []string{"could you please"}},
		{"is it possible to change my delivery address", "change my delivery address", []string{"is it possible to"}},
		// The openings of an email: "I'm writing to ask how long delivery
		// to Italy takes" was answered at 0.33, without them at 0.63.
		{"I'm writing to ask how long delivery to Italy takes", "ask how long delivery to Italy takes", []string{"im writing to"}},
		{"I am reaching out because my parcel never arrived", "my parcel never arrived", []string{"i am reaching out because"}},
	}
	for _, c := range cases {
		got, err := k.Decide(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		want, err := k.Decide(ctx, c.plain)
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != want.Kind || len(got.Hits) == 0 || got.Hits[0].ID != want.Hits[0].ID || got.Hits[0].Confidence != want.Hits[0].Confidence {
			t.Errorf("%q decided %v %v, but %q %v %v", c.q, got.Kind, got.Hits, c.plain, want.Kind, want.Hits)
		}
		if want.Kind != Answer {
			t.Errorf("%q: the plain question is not answered (%v)", c.plain, want.Kind)
		}
		if got.Signals == nil || !slices.Equal(got.Signals.Filler, c.filler) {
			t.Errorf("%q: signals name %v as set aside, want %v", c.q, got.Signals.Filler, c.filler)
		}
	}
}

// TestFillerTheArticlesUseStays builds content with a greeting article:
// there "hello" is evidence and is kept.
func TestFillerTheArticlesUseStays(t *testing.T) {
	c := &Content{Articles: []Article{
		{ID: "greeting", Title: "Saying hello", Questions: []string{"hello", "hello there", "hi how are you"}, Body: "Hello!"},
		{ID: "returns", Title: "How do I return an item?", Questions: []string{"how do i return a lamp", "can i send it back"}, Body: "Within 30 days."},
		{ID: "delivery", Title: "How long does delivery take?", Questions: []string{"when will my parcel arrive", "delivery time"}, Body: "2 days."},
	}}
	k := buildShop(t, c)
	d, err := k.Decide(context.Background(), "hello there")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Hits) == 0 || d.Hits[0].ID != "greeting" {
		t.Fatalf("hello there: hits %v, want the greeting article first", d.Hits)
	}
	if d.Signals != nil && len(d.Signals.Filler) > 0 {
		t.Errorf("hello there: %v set aside, though an article uses it", d.Signals.Filler)
	}
}
