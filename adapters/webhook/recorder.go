package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/bot"
)

// appender is what the Recorder needs of an act's transaction: the
// outbox (*bolt.Tx has it).
type appender interface {
	AppendOutbox(data []byte) error
}

// ErrNoOutbox: the store's transactions have no outbox.
var ErrNoOutbox = errors.New("webhook: the store has no outbox")

// Recorder writes the events of every act to the outbox, one record per
// URL, inside the act's transaction. It implements bot.Recorder.
type Recorder struct {
	urls []string
	now  func() time.Time
	// wake is told once an act with events is durable.
	wake func()
}

var _ bot.Recorder = (*Recorder)(nil)

// RecordAct implements bot.Recorder.
func (r *Recorder) RecordAct(tx bot.Tx, a bot.ActRecord) error {
	conv := a.Conversation
	var ps []Payload
	base := func(typ string, data any) Payload {
		return Payload{ID: bot.NewID("evt_"), Type: typ, Timestamp: r.now().UTC(), ConversationID: conv.ID, CustomerID: conv.CustomerID, Data: data}
	}
	if a.Created {
		ps = append(ps, base(ConversationCreated, struct {
			Conversation conversationData `json:"conversation"`
		}{conversationData{ID: conv.ID, CustomerID: conv.CustomerID, Channel: conv.Channel, State: conv.State, Created: conv.Created}}))
	}
	for _, ev := range a.Events {
		switch {
		case ev.Kind == bot.EventMessage && ev.Message != nil && !ev.Message.Internal:
			m := ev.Message
			ps = append(ps, base(MessageCreated, struct {
				Message messageData `json:"message"`
			}{messageData{Seq: m.Seq, From: m.From, Text: m.Text, Agent: m.AgentName, Time: m.Time}}))
			if m.Decision != nil && m.Decision.Kind == bot.DecisionSurvey && m.Decision.Reason == "resolved" {
				ps = append(ps, base(ConversationResolved, struct{}{}))
			}
		case ev.Kind == bot.EventState && ev.State == bot.StateQueued:
			ps = append(ps, base(HandoffQueued, struct {
				Reason   string `json:"reason,omitempty"`
				Priority int    `json:"priority"`
			}{conv.HandoffReason, conv.Priority}))
		case ev.Kind == bot.EventState && ev.State == bot.StateAgent:
			ps = append(ps, base(ConversationClaimed, struct {
				AgentID   string `json:"agent_id"`
				AgentName string `json:"agent_name,omitempty"`
			}{conv.Agent, ev.Agent}))
		}
	}
	if a.Rated {
		ps = append(ps, base(SurveyRated, struct {
			Rating  int    `json:"rating"`
			Comment string `json:"comment,omitempty"`
		}{conv.Rating, conv.RatingComment}))
	}
	if len(ps) == 0 {
		return nil
	}
	ext := ""
	if c, err := tx.Customer(conv.CustomerID); err == nil {
		ext = c.ExternalID
	} else if !errors.Is(err, bot.ErrNotFound) {
		return err
	}
	for i := range ps {
		ps[i].ExternalID = ext
	}
	return r.append(tx, conv.ID, ps)
}

// RecordCustomer implements bot.Recorder.
func (r *Recorder) RecordCustomer(tx bot.Tx, c *bot.Customer) error {
	p := Payload{ID: bot.NewID("evt_"), Type: CustomerUpdated, Timestamp: r.now().UTC(), CustomerID: c.ID, ExternalID: c.ExternalID,
		Data: struct {
			Customer customerData `json:"customer"`
		}{customerData{ID: c.ID, ExternalID: c.ExternalID, Name: c.Name, Email: c.Email, Segment: c.Segment, Tags: c.Tags, Attributes: bot.ShopAttrs(c)}}}
	return r.append(tx, "customer:"+c.ID, []Payload{p})
}

func (r *Recorder) append(tx bot.Tx, key string, ps []Payload) error {
	out, ok := tx.(appender)
	if !ok {
		return ErrNoOutbox
	}
	for _, p := range ps {
		body, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode %s event: %w", p.Type, err)
		}
		for _, u := range r.urls {
			data, err := json.Marshal(entry{URL: u, Key: key, Type: p.Type, ID: p.ID, Body: body})
			if err != nil {
				return err
			}
			if err := out.AppendOutbox(data); err != nil {
				return fmt.Errorf("append %s event to the outbox: %w", p.Type, err)
			}
		}
	}
	tx.OnCommit(r.wake)
	return nil
}
