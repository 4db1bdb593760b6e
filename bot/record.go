package bot

// Recorder is told, inside each act's transaction, what the act did, so
// that it can write records that commit with the act or not at all (the
// webhooks' outbox). Its methods run inside a transaction: they must not
// call the Store or wait, and may run more than once for one act (see
// Store.Update).
type Recorder interface {
	// RecordAct is called as an act on a conversation finishes.
	RecordAct(tx Tx, r ActRecord) error
	// RecordCustomer is called when what the shop told about a customer
	// changed (Identify, PutVerified), in that transaction.
	RecordCustomer(tx Tx, c *Customer) error
}

// ActRecord is what one act did to a conversation.
type ActRecord struct {
	// Conversation is the conversation as the act stores it.
	Conversation *Conversation
	// Events are the act's events, in order, as they will be published.
	Events []Event
	// Created: the act created the conversation.
	Created bool
	// Rated: the act stored the customer's survey rating.
	Rated bool
}

// SetRecorder sets the recorder of acts. Call it before the engine
// handles any message.
func (e *Engine) SetRecorder(r Recorder) { e.opts.Recorder = r }

func (a *Act) record() error {
	r := a.e.opts.Recorder
	if r == nil {
		return nil
	}
	return r.RecordAct(a.tx, ActRecord{Conversation: a.conv, Events: a.events,
		Created: a.conv.Rev == 1, Rated: a.conv.Rating != 0 && a.conv.Rating != a.rating0})
}

func (e *Engine) recordCustomer(tx Tx, c *Customer) error {
	if e.opts.Recorder == nil {
		return nil
	}
	return e.opts.Recorder.RecordCustomer(tx, c)
}
