package records_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/records"
)

// Collect puts the conversations of the customer and the records linked
// into her newest first, with their ratings; Write writes the JSON with
// empty lists as [], never null.
func TestCollectAndWrite(t *testing.T) {
	day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	people := []bot.Customer{{ID: "cus_new"}, {ID: "cus_old"}}
	convs := map[string][]bot.Conversation{
		"cus_new": {{ID: "con_b", Created: day.Add(time.Hour), Rating: 5, RatingComment: "quick"}},
		"cus_old": {{ID: "con_a", Created: day}, {ID: "con_c", Created: day.Add(2 * time.Hour)}},
	}
	e, err := records.Collect(people, func(id string) ([]bot.Conversation, error) { return convs[id], nil },
		func(conv string) ([]bot.Message, []handoff.Ticket, error) {
			if conv == "con_a" {
				return []bot.Message{{ConversationID: conv, Seq: 1, Text: "hello"}}, nil, nil
			}
			return nil, nil, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range e.Conversations {
		order = append(order, c.ID)
	}
	if strings.Join(order, " ") != "con_c con_b con_a" || e.Customer.ID != "cus_new" || len(e.LinkedCustomers) != 1 {
		t.Errorf("export of %s, linked %v: conversations %v, want newest first", e.Customer.ID, e.LinkedCustomers, order)
	}
	if len(e.Ratings) != 1 || e.Ratings[0] != (records.ExportRating{ConversationID: "con_b", Rating: 5, Comment: "quick"}) {
		t.Errorf("ratings %+v", e.Ratings)
	}
	var buf bytes.Buffer
	if err := records.Write(&buf, "cus_new", func() (*records.Export, error) { return e, nil }); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, `{`+"\n"+`  "format": "frontdesk-customer-export/1",`) || strings.Contains(out, "null") ||
		!strings.Contains(out, `"tickets": []`) || !strings.HasSuffix(out, "}\n") {
		t.Errorf("export JSON:\n%s", out)
	}

	buf.Reset()
	boom := errors.New("boom")
	if err := records.Write(&buf, "cus_x", func() (*records.Export, error) { return nil, boom }); !errors.Is(err, boom) || buf.Len() > 0 {
		t.Errorf("a failed read: %v, %d bytes written", err, buf.Len())
	}
	if _, err := records.Collect(people, func(string) ([]bot.Conversation, error) { return nil, boom }, nil); !errors.Is(err, boom) {
		t.Errorf("a failed read of conversations: %v", err)
	}
}
