package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// benchQuestions are questions the demo knowledge base answers without
// handing off (checked with "frontdesk ask"). None repeats another, asks
// for a person or sounds frustrated, so a conversation can ask them in a
// row without the bot calling in a person.
var benchQuestions = []string{
	"where is my order",
	"how can I track my parcel",
	"how long does delivery take",
	"how much does shipping cost",
	"do you ship to other countries",
	"which countries do you deliver to",
	"do you offer express delivery",
	"can I have my order sent to a pick-up point",
	"will I pay customs fees in the UK",
	"how do I change my delivery address",
	"how do I return an item",
	"how do I get a return label",
	"can I exchange an item for a different size",
	"which items can't be returned",
	"when will I get my refund",
	"how will I be refunded",
	"what payment methods do you accept",
	"can I pay in instalments",
	"my payment failed",
	"can I cancel my order",
	"can I change my order after placing it",
	"I didn't get an order confirmation email",
	"how do I get my invoice",
	"can I get a VAT invoice for my business",
	"how long is the warranty",
	"how do I make a warranty claim",
	"how do I reset my password",
	"can I order without an account",
	"how do gift cards work",
	"what are your opening hours",
	"how do I earn Lumen Club points",
	"which bulb fits my lamp",
	"how do I set up my smart light",
	"do you match lower prices",
	"how do I unsubscribe from the newsletter",
	"what is your phone number",
}

// readQuestions reads a JSON Lines file of {"text": ...}; the labelled
// sets' {"text", "intent"} lines are accepted too.
func readQuestions(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("questions: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var q struct {
			Text   string `json:"text"`
			Intent string `json:"intent"`
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			return nil, fmt.Errorf("questions %s:%d: not a JSON object {\"text\": ...}: %v", name, n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("questions %s:%d: more than one JSON value on the line", name, n)
		}
		q.Text = strings.TrimSpace(q.Text)
		switch {
		case q.Text == "":
			return nil, fmt.Errorf("questions %s:%d: \"text\" must be a non-empty string", name, n)
		case utf8.RuneCountInString(q.Text) > 2000 || len(q.Text) > 3000:
			return nil, fmt.Errorf("questions %s:%d: longer than the server accepts (2000 characters, 4096 bytes a frame)", name, n)
		}
		out = append(out, q.Text)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read questions %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("questions %s: no questions", name)
	}
	return out, nil
}
