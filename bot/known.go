package bot

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/kb"
)

// What the bot does with what it knows of a customer: article variants
// for their segment, article templates filled from their profile, and a
// greeting that recalls their recent business.

// variants is what the engine asks of a knowledge base that keeps
// articles' segment variants (*kb.KB does). Without it, everyone gets
// the article itself.
type variants interface {
	Variant(id, segment string) (*kb.Article, bool)
}

// articleFor returns the article to answer cust with in place of a: its
// variant for the customer's segment, if the knowledge base has one.
func (e *Engine) articleFor(a *kb.Article, cust *Customer) *kb.Article {
	if v, ok := e.kb.(variants); ok && cust != nil && cust.Segment != "" {
		if va, ok := v.Variant(a.ID, cust.Segment); ok {
			return va
		}
	}
	return a
}

// ArticleText returns the body cust is answered with for the article a:
// the variant for their segment if there is one, with its templates
// filled in (see FillTemplate).
func (e *Engine) ArticleText(a *kb.Article, cust *Customer) string {
	return FillTemplate(e.articleFor(a, cust).Body, cust)
}

// templateRe matches {{customer.FIELD}} and {{customer.FIELD | "fallback"}}.
var templateRe = regexp.MustCompile(`\{\{\s*customer\.([A-Za-z_]+(?:\.[A-Za-z0-9_.-]+)?)\s*(?:\|\s*"([^"{}]*)"\s*)?\}\}`)

// FillTemplate fills the customer templates of an article body:
// {{customer.name}}, {{customer.first_name}}, {{customer.email}},
// {{customer.segment}}, {{customer.external_id}} and
// {{customer.attributes.NAME}} (the shop's attributes), each optionally
// with a fallback for an empty value: {{customer.name | "there"}}.
//
// A customer's value is escaped (EscapeMarkdown) so that it shows as
// exactly itself: a name or attribute such as "[x](https://evil.example)"
// or "<img src=x>" can never become a link, an image or HTML in the bot's
// words. The fallback is the article author's Markdown, used as written.
// An unknown field counts as empty.
func FillTemplate(body string, cust *Customer) string {
	if !strings.Contains(body, "{{") {
		return body
	}
	return templateRe.ReplaceAllStringFunc(body, func(m string) string {
		sub := templateRe.FindStringSubmatch(m)
		v := strings.TrimSpace(customerField(cust, sub[1]))
		if v == "" {
			return sub[2]
		}
		return EscapeMarkdown(v)
	})
}

func customerField(c *Customer, field string) string {
	if c == nil {
		return ""
	}
	if name, ok := strings.CutPrefix(field, "attributes."); ok {
		if slices.Contains(reservedAttrs, name) {
			return ""
		}
		return c.Attrs[name]
	}
	switch field {
	case "name":
		return c.Name
	case "first_name":
		first, _, _ := strings.Cut(strings.TrimSpace(c.Name), " ")
		return first
	case "email":
		return c.Email
	case "segment":
		return c.Segment
	case "external_id":
		return c.ExternalID
	}
	return ""
}

// recentTopic is how long ago a verified customer's last topic may be for
// their greeting to ask about it.
const recentTopic = 14 * 24 * time.Hour

// aboutKnown is the question a verified customer's greeting ends with:
// about their conversation's topic if it is recent ("Is this about
// "Repair service" from Tuesday?", with a quick reply to pick it up),
// else about their last order as the shop told it (attributes last_order
// and order_status). It is "" for an anonymous customer or when nothing
// is known.
func aboutKnown(cust *Customer, now time.Time) (string, []QuickReply) {
	if cust.ExternalID == "" {
		return "", nil
	}
	if len(cust.Topics) > 0 && now.Sub(cust.Topics[0].At) < recentTopic {
		t := cust.Topics[0]
		return fmt.Sprintf("Is this about %q from %s?", t.Title, when(t.At, now)),
			[]QuickReply{{Label: "Yes, about that", Payload: "followup:no:" + t.ArticleID}}
	}
	order := strings.TrimSpace(cust.Attrs["last_order"])
	if order == "" {
		return "", nil
	}
	q := "Is this about your order of " + EscapeMarkdown(order)
	if st := strings.TrimSpace(cust.Attrs["order_status"]); st != "" {
		q += " (" + EscapeMarkdown(st) + ")"
	}
	return q + "?", nil
}

// when says a recent time as people do: "today", "yesterday", a weekday
// within the week, else the date.
func when(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 24*time.Hour && t.Day() == now.Day():
		return "today"
	case d < 48*time.Hour && t.Day() == now.AddDate(0, 0, -1).Day():
		return "yesterday"
	case d < 7*24*time.Hour:
		return t.Weekday().String()
	}
	return t.Format("2 January")
}

// welcomeKnown adapts the welcome back of a verified customer whom the
// bot is serving: it asks about their recent business (aboutKnown)
// instead of the generic question.
func welcomeKnown(m Message, conv *Conversation, cust *Customer, now time.Time) Message {
	if cust.ExternalID == "" || conv.State == StateQueued || conv.State == StateAgent {
		return m
	}
	q, qr := aboutKnown(cust, now)
	if q == "" {
		return m
	}
	hello := "Welcome back!"
	if cust.Name != "" {
		hello = fmt.Sprintf("Welcome back, %s!", EscapeMarkdown(cust.Name))
	}
	m.Text, m.QuickReplies = hello+" "+q, qr
	if qr == nil {
		m.Decision.ArticleID = ""
	}
	return m
}
