package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/records"
)

// A customer's data rights: a copy of everything kept about them
// (ExportCustomer), and erasure (ForgetCustomer).

// CustomerExport returns everything kept about the customer with the id,
// read in one transaction, or bot.ErrNotFound.
func (db *DB) CustomerExport(ctx context.Context, id string) (*records.Export, error) {
	var out *records.Export
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		people, err := customerAndLinked(tx, id)
		if err != nil {
			return err
		}
		out, err = records.Collect(people, func(cus string) ([]bot.Conversation, error) { return conversationsOf(tx, cus) },
			func(conv string) ([]bot.Message, []handoff.Ticket, error) {
				ms, err := (&Tx{btx: tx, m: db.memos}).Messages(conv, 0, 0)
				if err != nil {
					return nil, nil, err
				}
				ts, err := ticketsOf(tx, conv)
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

// customerAndLinked returns the customer with the id followed by the earlier
// records linked into it, or bot.ErrNotFound.
func customerAndLinked(tx *bbolt.Tx, id string) ([]bot.Customer, error) {
	customers := tx.Bucket(bucketCustomers)
	var c bot.Customer
	if err := getJSON(customers, id, &c); err != nil {
		return nil, err
	}
	out := []bot.Customer{c}
	for _, old := range strings.Split(c.Attrs[bot.AttrLinkedFrom], ",") {
		var o bot.Customer
		if old = strings.TrimSpace(old); old == "" || old == id || getJSON(customers, old, &o) != nil {
			continue
		}
		if o.Attrs[bot.AttrMergedInto] == id {
			out = append(out, o)
		}
	}
	return out, nil
}

// ErrNotScrubbed is returned by ForgetCustomer when the erasure is
// committed but compacting the file failed: the erased text may remain
// in free pages of the file until it is compacted, which Open does.
var ErrNotScrubbed = errors.New("erased, but the file is not compacted yet (it will be when it is next opened)")

// ForgetCustomer erases the customer with the id for good, with the
// earlier records linked into it (see records.Export.LinkedCustomers): the
// profiles (name, email, attributes, topics), channel identities and
// their index entries, email index entries, link codes, every
// conversation with all its messages (customer, bot and agents' text,
// private notes, survey comments), client ids, tickets and Telegram
// delivery state and block marks. What remains is anonymous: each
// conversation is counted in the tally of the day it started (see records.Tally).
// It fails with bot.ErrNotFound for an unknown id, and with
// bot.ErrInHandoff, erasing nothing, while one of the conversations is
// with people.
//
// The erasure is one act. Then the file is compacted (see compact), so
// that no erased byte stays in its free pages; writers wait meanwhile.
// When ForgetCustomer returns nil, the erasure is on disk and the file
// holds none of the erased text. Telegram messages already queued for
// delivery (normally for seconds) are still sent, then removed.
func (db *DB) ForgetCustomer(ctx context.Context, id string) (bot.Erased, error) {
	var e bot.Erased
	defer db.memos.reset()
	err := db.update(ctx, func(tx *bbolt.Tx) error {
		e = bot.Erased{}
		people, err := customerAndLinked(tx, id)
		if err != nil {
			return err
		}
		var convs []bot.Conversation
		for _, p := range people {
			cs, err := conversationsOf(tx, p.ID)
			if err != nil {
				return err
			}
			for i := range cs {
				if withPeople(tx, &cs[i]) {
					return fmt.Errorf("forget customer %s: conversation %s: %w", id, cs[i].ID, bot.ErrInHandoff)
				}
			}
			convs = append(convs, cs...)
		}
		var chats []int64
		for i := range convs {
			chat, err := eraseConversation(tx, &convs[i], &e)
			if err != nil {
				return err
			}
			if chat != 0 {
				chats = append(chats, chat)
			}
		}
		for i := range people {
			for _, ident := range people[i].Identities {
				if n, err := strconv.ParseInt(ident.ID, 10, 64); err == nil && ident.Channel == bot.Telegram {
					chats = append(chats, n) // a private chat's id is the user's
				}
			}
			if err := eraseCustomer(tx, &people[i], &e); err != nil {
				return err
			}
		}
		var erasedIDs []string
		for _, p := range people {
			erasedIDs = append(erasedIDs, p.ID)
		}
		for _, c := range convs {
			erasedIDs = append(erasedIDs, c.ID)
		}
		if err := dropOutbox(tx, erasedIDs); err != nil {
			return err
		}
		if blocked := tx.Bucket(bucketTelegram).Bucket(tgBlocked); blocked != nil {
			for _, chat := range chats {
				if err := blocked.Delete(u64(uint64(chat))); err != nil {
					return err
				}
			}
		}
		return markScrub(tx)
	})
	if err != nil {
		return bot.Erased{}, err
	}
	// The erasure is durable: compact even if the caller has gone.
	if err := db.scrub(context.WithoutCancel(ctx)); err != nil {
		return e, fmt.Errorf("forget customer %s: %w: %v", id, ErrNotScrubbed, err)
	}
	return e, nil
}
