package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/adapters/api"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/records"
)

// The customer API's erasure (the console's Records wants Backup too,
// which this store does not have yet).
var _ api.Records = (*DB)(nil)

// A customer's data rights: a copy of everything kept about them
// (ExportCustomer), and erasure (ForgetCustomer), as store/bolt has them.

// CustomerExport returns everything kept about the customer with the id,
// read in one transaction (one snapshot), or bot.ErrNotFound.
func (db *DB) CustomerExport(ctx context.Context, id string) (*records.Export, error) {
	var out *records.Export
	err := db.view(ctx, func(tx *Tx) error {
		people, err := tx.customerAndLinked(id)
		if err != nil {
			return err
		}
		out, err = records.Collect(people, tx.Conversations, func(conv string) ([]bot.Message, []handoff.Ticket, error) {
			ms, err := tx.Messages(conv, 0, 0)
			if err != nil {
				return nil, nil, err
			}
			ts, err := listJSON[handoff.Ticket](tx, "tickets of "+conv,
				"SELECT data FROM tickets WHERE conversation_id = $1 ORDER BY history", conv)
			return ms, ts, err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ExportCustomer writes CustomerExport as indented JSON to w. It writes
// nothing when it fails to read (bot.ErrNotFound for an unknown id).
func (db *DB) ExportCustomer(ctx context.Context, id string, w io.Writer) error {
	return records.Write(w, id, func() (*records.Export, error) { return db.CustomerExport(ctx, id) })
}

// customerAndLinked returns the customer with the id followed by the
// earlier records linked into it, or bot.ErrNotFound.
func (tx *Tx) customerAndLinked(id string) ([]bot.Customer, error) {
	c, err := tx.Customer(id)
	if err != nil {
		return nil, err
	}
	out := []bot.Customer{*c}
	for _, old := range strings.Split(c.Attrs[bot.AttrLinkedFrom], ",") {
		if old = strings.TrimSpace(old); old == "" || old == id {
			continue
		}
		o, err := tx.Customer(old)
		if errors.Is(err, bot.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if o.Attrs[bot.AttrMergedInto] == id {
			out = append(out, *o)
		}
	}
	return out, nil
}

// ForgetCustomer erases the customer with the id for good, with the
// earlier records linked into it (see records.Export.LinkedCustomers): the
// profiles (name, email, attributes, topics), channel identities and
// email index entries, link codes, every conversation with all its
// messages (customer, bot and agents' text, private notes, survey
// comments), attachments, client ids, tickets, Telegram delivery state
// and block marks, and the webhook events not yet sent that name them.
// What remains is anonymous: each conversation is counted in the tally
// of the day it started (see records.Tally). It fails with bot.ErrNotFound for
// an unknown id, and with bot.ErrInHandoff, erasing nothing, while one
// of the conversations is with people.
//
// The erasure is one act, on every node at once: when ForgetCustomer
// returns nil it is committed. PostgreSQL keeps a deleted row's old
// version until it vacuums the table (autovacuum does, unasked), and
// its write-ahead log and backups keep copies until they are recycled;
// unlike store/bolt, nothing here rewrites the files. Telegram messages
// already queued for delivery (normally for seconds) are still sent.
func (db *DB) ForgetCustomer(ctx context.Context, id string) (bot.Erased, error) {
	var e bot.Erased
	err := db.update(ctx, func(tx *Tx) error {
		e = bot.Erased{} // an act may run more than once
		people, err := tx.customerAndLinked(id)
		if err != nil {
			return err
		}
		var convs []bot.Conversation
		for _, p := range people {
			cs, err := tx.Conversations(p.ID)
			if err != nil {
				return err
			}
			for i := range cs {
				busy, err := tx.withPeople(&cs[i])
				if err != nil {
					return err
				}
				if busy {
					return fmt.Errorf("forget customer %s: conversation %s: %w", id, cs[i].ID, bot.ErrInHandoff)
				}
			}
			convs = append(convs, cs...)
		}
		chats, err := tx.eraseConversations(convs, &e)
		if err != nil {
			return err
		}
		for _, p := range people {
			for _, ident := range p.Identities {
				if n, err := strconv.ParseInt(ident.ID, 10, 64); err == nil && ident.Channel == bot.Telegram {
					chats = append(chats, n) // a private chat's id is the user's
				}
			}
		}
		if err := tx.eraseCustomers(people, &e); err != nil {
			return err
		}
		var erasedIDs []string
		for _, p := range people {
			erasedIDs = append(erasedIDs, p.ID)
		}
		for _, c := range convs {
			erasedIDs = append(erasedIDs, c.ID)
		}
		if err := tx.dropOutbox(erasedIDs); err != nil {
			return err
		}
		if len(chats) > 0 {
			if _, err := tx.q.Exec(tx.ctx, "DELETE FROM telegram_blocked WHERE chat_id = ANY($1)", chats); err != nil {
				return fmt.Errorf("forget customer %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return bot.Erased{}, err
	}
	return e, nil
}
