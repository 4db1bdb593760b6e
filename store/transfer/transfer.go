// Package transfer copies a single-node shop from its bbolt file
// (store/bolt) into a PostgreSQL database (store/postgres), for a shop
// that moves to several nodes: what "frontdesk migrate" runs.
//
// The copy reads the file on one snapshot and writes the database in one
// transaction, through the stores' own record methods, so ids, message
// seqs, revisions, times, owners and tickets arrive exactly as they were.
// Before it commits, it counts what the database would hold and compares
// that with what it read; any difference, or any failure, commits
// nothing. So a copy that fails or is cut short (a crash, a lost
// connection) leaves the database as empty as it found it, and can simply
// be run again; a database that already holds a shop is refused.
package transfer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store/bolt"
	"github.com/frontdesk/frontdesk/store/postgres"
)

// Report is what a copy copied (the counts verified in the database
// before it committed) and what it left behind.
type Report struct {
	postgres.Counts
	// NotCopied lists the parts of the file that PostgreSQL does not hold
	// yet, with their record counts: a bucket this build does not know.
	NotCopied []bolt.Part
	// LeftOut lists what was not copied because it belongs to nothing
	// the file still holds (index entries of deleted conversations,
	// files of deleted conversations, unfinished uploads), with counts.
	LeftOut []bolt.Part
	Took    time.Duration
}

// ErrNotEmpty is returned (wrapped, with the tables) when the database
// already holds a shop.
var ErrNotEmpty = errors.New("the target database already holds a shop")

// Copy copies the shop of from, with the files sent in its chats (kept
// under the directory attachments, as attachment.Dir keeps them; "" for
// none), into to, which must hold none, in one transaction, and returns
// what it copied. from and its files must not be written meanwhile
// ("frontdesk migrate" holds its data directory).
func Copy(ctx context.Context, from *bolt.DB, attachments string, to *postgres.DB) (Report, error) {
	start := time.Now()
	var rep Report
	err := from.Dump(ctx, func(d *bolt.Dump) error {
		return to.Import(ctx, func(im *postgres.Import) error {
			c := &copier{d: d, im: im, src: postgres.Counts{MessagesPer: map[string]int64{}},
				customers: map[string]bool{}, convs: map[string]bool{}, left: map[string]int{}}
			if err := c.copyAll(); err != nil {
				return err
			}
			files, err := c.copyAttachments(ctx, attachments)
			if err != nil {
				return fmt.Errorf("copy the attachments in %s: %w", attachments, err)
			}
			got, err := im.Counts()
			if err != nil {
				return err
			}
			if err := compare(c.src, got); err != nil {
				return fmt.Errorf("verify the copy (nothing was committed): %w", err)
			}
			stored, err := im.AttachmentDigests()
			if err != nil {
				return err
			}
			if err := compareFiles(files, stored); err != nil {
				return fmt.Errorf("verify the attachments (nothing was committed): %w", err)
			}
			rep.Counts, rep.NotCopied, rep.LeftOut = got, d.Others(), c.leftOut()
			return nil
		})
	})
	var ne *postgres.NotEmptyError
	if errors.As(err, &ne) {
		return Report{}, fmt.Errorf("%w: %s hold rows", ErrNotEmpty, strings.Join(ne.Tables, ", "))
	}
	if err != nil {
		return Report{}, err
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// copier copies one Dump into one Import, counting what it reads.
type copier struct {
	d   *bolt.Dump
	im  *postgres.Import
	src postgres.Counts // what it read and wrote
	// The customers and conversations copied: index entries and files
	// of others (deleted) are left out.
	customers, convs map[string]bool
	left             map[string]int // what was left out, for people -> count
}

// Why records are left out.
const (
	leftConvIndex = "rollup and follow-up entries of deleted conversations"
	leftLinkCodes = "link codes of deleted customers"
	leftFiles     = "attachment files of deleted conversations"
	leftNotFiles  = "entries of the attachments directory that are no attachment (unfinished uploads, other names)"
)

func (c *copier) leftOut() []bolt.Part {
	var out []bolt.Part
	for _, what := range []string{leftConvIndex, leftLinkCodes, leftFiles, leftNotFiles} {
		if n := c.left[what]; n > 0 {
			out = append(out, bolt.Part{Name: what, Records: n})
		}
	}
	return out
}

// copyAll writes every record of the file through the import, counting
// them in c.src.
func (c *copier) copyAll() error {
	if err := c.copyShop(); err != nil {
		return err
	}
	if err := c.copyTelegram(); err != nil {
		return fmt.Errorf("copy the Telegram channel's state: %w", err)
	}
	if err := c.copyInsights(); err != nil {
		return err
	}
	return c.copyKeysAndLinks()
}

// copyShop copies customers, conversations, messages, agents, sessions
// and tickets.
func (c *copier) copyShop() error {
	d, im, src := c.d, c.im, &c.src
	tx := im.Tx()
	err := d.Customers(func(cu *bot.Customer) error {
		src.Customers++
		c.customers[cu.ID] = true
		return tx.PutCustomer(cu)
	})
	if err != nil {
		return fmt.Errorf("copy customers: %w", err)
	}
	// PutCustomer indexed each customer's identities and email as a new
	// act would; the file's indexes are what it looked customers up by.
	if err := im.ClearCustomerIndexes(); err != nil {
		return err
	}
	err = d.Identities(func(id bot.Identity, customer string) error {
		src.Identities++
		return im.PutIdentity(id, customer)
	})
	if err != nil {
		return fmt.Errorf("copy the identity index: %w", err)
	}
	err = d.Emails(func(email, customer string) error {
		src.Emails++
		return im.PutEmail(email, customer)
	})
	if err != nil {
		return fmt.Errorf("copy the email index: %w", err)
	}
	err = d.Conversations(func(conv *bot.Conversation) error {
		src.Conversations++
		c.convs[conv.ID] = true
		if err := tx.PutConversation(conv); err != nil {
			return err
		}
		return d.Messages(conv.ID, func(m *bot.Message) error {
			src.Messages++
			src.MessagesPer[conv.ID]++
			return tx.PutMessage(*m)
		})
	})
	if err != nil {
		return fmt.Errorf("copy conversations: %w", err)
	}
	err = d.Agents(func(a *handoff.Agent) error {
		src.Agents++
		return im.PutAgent(a)
	})
	if err != nil {
		return fmt.Errorf("copy agents: %w", err)
	}
	err = d.Sessions(func(s *handoff.Session) error {
		src.Sessions++
		return im.PutSession(s)
	})
	if err != nil {
		return fmt.Errorf("copy agent sessions: %w", err)
	}
	err = d.Tickets(func(t *handoff.Ticket) error {
		src.Tickets++
		if t.Open() {
			src.OpenTickets++
		}
		return tx.PutTicket(t)
	})
	if err != nil {
		return fmt.Errorf("copy tickets: %w", err)
	}
	return nil
}

func (c *copier) copyTelegram() error {
	d, im, src := c.d, c.im, &c.src
	if src.TelegramOffset = d.TelegramOffset(); src.TelegramOffset != 0 {
		if err := im.SetTelegramOffset(src.TelegramOffset); err != nil {
			return err
		}
	}
	err := d.TelegramUpdates(func(id int64) error {
		src.TelegramUpdates++
		return im.PutTelegramUpdate(id)
	})
	if err != nil {
		return err
	}
	err = d.TelegramChats(func(conv string, chat, cursor int64) error {
		src.TelegramChats++
		return im.PutTelegramChat(conv, chat, cursor)
	})
	if err != nil {
		return err
	}
	err = d.TelegramOutbox(func(id uint64, data []byte) error {
		src.TelegramRequests++
		return im.PutTelegramRequest(id, data)
	})
	if err != nil {
		return err
	}
	return d.TelegramBlocked(func(chat int64) error {
		src.TelegramBlocked++
		return im.PutTelegramBlocked(chat)
	})
}

// compare says how the database's counts differ from the source's.
func compare(src, got postgres.Counts) error {
	var diffs []string
	check := func(what string, a, b int64) {
		if a != b {
			diffs = append(diffs, fmt.Sprintf("%s: read %d, the database holds %d", what, a, b))
		}
	}
	check("customers", src.Customers, got.Customers)
	check("channel identities", src.Identities, got.Identities)
	check("email addresses", src.Emails, got.Emails)
	check("conversations", src.Conversations, got.Conversations)
	check("messages", src.Messages, got.Messages)
	check("agents", src.Agents, got.Agents)
	check("agent sessions", src.Sessions, got.Sessions)
	check("tickets", src.Tickets, got.Tickets)
	check("open tickets", src.OpenTickets, got.OpenTickets)
	check("Telegram offset", src.TelegramOffset, got.TelegramOffset)
	check("Telegram chats", src.TelegramChats, got.TelegramChats)
	check("queued Telegram requests", src.TelegramRequests, got.TelegramRequests)
	check("handled Telegram updates", src.TelegramUpdates, got.TelegramUpdates)
	check("blocked Telegram chats", src.TelegramBlocked, got.TelegramBlocked)
	check("link codes", src.LinkCodes, got.LinkCodes)
	check("channel links", src.ChannelLinks, got.ChannelLinks)
	check("scheduled follow-ups", src.Followups, got.Followups)
	check("API keys", src.APIKeys, got.APIKeys)
	check("webhook events", src.WebhookEvents, got.WebhookEvents)
	check("day totals", src.StatsDays, got.StatsDays)
	check("conversations' shares of the day totals", src.StatsContributions, got.StatsContributions)
	check("conversations to roll up", src.StatsDirty, got.StatsDirty)
	check("tallies of deleted conversations", src.Tallies, got.Tallies)
	check("attachments", src.Attachments, got.Attachments)
	check("attachment bytes", src.AttachmentBytes, got.AttachmentBytes)
	var convs []string
	for conv := range src.MessagesPer {
		convs = append(convs, conv)
	}
	for conv := range got.MessagesPer {
		if _, ok := src.MessagesPer[conv]; !ok {
			convs = append(convs, conv)
		}
	}
	sort.Strings(convs)
	for _, conv := range convs {
		check("messages of "+conv, src.MessagesPer[conv], got.MessagesPer[conv])
	}
	if len(diffs) == 0 {
		return nil
	}
	if len(diffs) > 10 {
		diffs = append(slices.Clip(diffs[:10]), fmt.Sprintf("and %d more", len(diffs)-10))
	}
	return errors.New(strings.Join(diffs, "; "))
}
