package transfer

import (
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/stats"
	"github.com/frontdesk/frontdesk/store/records"
)

// copyInsights copies what the dashboards and timers read beside the
// records: the follow-up index, the rollups and the tallies of deleted
// conversations.
//
// The day totals are copied as they are, not computed again from the
// conversations: they hold what conversations deleted since added to
// them. With them go each conversation's share of them (what its last
// rollup added) and the marks of the conversations changed since, so a
// rollup in PostgreSQL replaces a share by the same share computed from
// the same transcript, and adds the change of a marked conversation
// once: the totals stay what the file's next rollup would make them.
func (c *copier) copyInsights() error {
	d, im, src := c.d, c.im, &c.src
	// PutConversation marked every conversation and indexed its
	// follow-up as a new act would; the file's are what it holds.
	if err := im.ClearConversationIndexes(); err != nil {
		return err
	}
	err := d.Followups(func(conv string, due time.Time) error {
		if !c.convs[conv] {
			c.left[leftConvIndex]++
			return nil
		}
		src.Followups++
		return im.PutFollowup(conv, due)
	})
	if err != nil {
		return fmt.Errorf("copy the scheduled follow-ups: %w", err)
	}
	err = d.StatsDays(func(day string, total stats.Day) error {
		src.StatsDays++
		return im.PutStatsDay(day, total)
	})
	if err != nil {
		return fmt.Errorf("copy the dashboard's day totals: %w", err)
	}
	err = d.StatsContributions(func(conv string, days stats.Days) error {
		if !c.convs[conv] {
			// A deleted conversation's share stays in the totals; its
			// record goes at the file's next rollup.
			c.left[leftConvIndex]++
			return nil
		}
		src.StatsContributions++
		return im.PutStatsContribution(conv, days)
	})
	if err != nil {
		return fmt.Errorf("copy the conversations' shares of the day totals: %w", err)
	}
	err = d.StatsDirty(func(conv string) error {
		if !c.convs[conv] {
			c.left[leftConvIndex]++
			return nil
		}
		src.StatsDirty++
		return im.PutStatsDirty(conv)
	})
	if err != nil {
		return fmt.Errorf("copy the conversations to roll up: %w", err)
	}
	err = d.Tallies(func(day string, t records.Tally) error {
		src.Tallies++
		return im.PutTally(day, t)
	})
	if err != nil {
		return fmt.Errorf("copy the tallies of deleted conversations: %w", err)
	}
	return nil
}

// copyKeysAndLinks copies the link codes and channel links, the customer
// API keys and the webhook events waiting for delivery.
func (c *copier) copyKeysAndLinks() error {
	d, im, src := c.d, c.im, &c.src
	err := d.LinkCodes(func(hash string, lc bot.LinkCode) error {
		if !c.customers[lc.CustomerID] {
			c.left[leftLinkCodes]++
			return nil
		}
		src.LinkCodes++
		return im.PutLinkCode(hash, lc)
	})
	if err != nil {
		return fmt.Errorf("copy the link codes: %w", err)
	}
	err = d.ChannelLinks(func(ch bot.Channel, prefix string) error {
		src.ChannelLinks++
		return im.PutChannelLink(ch, prefix)
	})
	if err != nil {
		return fmt.Errorf("copy the channel links: %w", err)
	}
	err = d.APIKeys(func(k *bot.APIKey) error {
		src.APIKeys++
		return im.PutAPIKey(k)
	})
	if err != nil {
		return fmt.Errorf("copy the API keys: %w", err)
	}
	err = d.WebhookOutbox(func(seq uint64, data []byte) error {
		src.WebhookEvents++
		return im.PutWebhookEvent(seq, data)
	})
	if err != nil {
		return fmt.Errorf("copy the webhook events waiting for delivery: %w", err)
	}
	return nil
}
