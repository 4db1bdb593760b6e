package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/frontdesk/frontdesk/bot"
)

// Texts of the adapter's own replies.
const (
	textHelp = "I'm the shop's virtual assistant. Ask me anything about orders, delivery, returns, payments or your account.\n\n" +
		"/human - talk to a person\n/restart - start over with the assistant\n/web - continue this chat on our website\n/help - this help"
	textNonTextBot  = "Thanks! I can only read text messages. Please describe your question in words, or send /human to reach a person."
	textLinkUnknown = "Sorry, that link is not valid or was already used. On the website, choose \"Continue on Telegram\" again for a new one."
	textLinkExpired = "Sorry, that link has expired (links work for 10 minutes). On the website, choose \"Continue on Telegram\" again for a new one."
	textNoWeb       = "Sorry, continuing on the website is not available here."
	textWithPeople  = "You're in touch with our team; they will reply here. Send /help to see what else I can do."
	textStale       = "That choice is no longer available."
	textTooLong     = "Sorry, that message is too long for me. Please send it in shorter parts."
)

// process handles one update at most once: a handled update is skipped,
// and the update is recorded as handled, with its direct replies queued,
// in one transaction after its effects are stored.
func (a *Adapter) process(ctx context.Context, u tgbotapi.Update) error {
	a.handling.Lock()
	defer a.handling.Unlock()
	seen, err := a.store.TelegramSeen(ctx, int64(u.UpdateID))
	if err != nil {
		return fmt.Errorf("check update %d: %w", u.UpdateID, err)
	}
	if seen {
		return nil
	}
	var out []outgoing
	switch {
	case u.Message != nil:
		out, err = a.onMessage(ctx, u.UpdateID, u.Message, false)
	case u.EditedMessage != nil:
		out, err = a.onMessage(ctx, u.UpdateID, u.EditedMessage, true)
	case u.CallbackQuery != nil:
		out, err = a.onCallback(ctx, u.UpdateID, u.CallbackQuery)
	}
	if err != nil {
		return fmt.Errorf("handle update %d: %w", u.UpdateID, err)
	}
	data := make([][]byte, len(out))
	for i, o := range out {
		data[i] = o.encode()
	}
	if err := a.store.TelegramDone(ctx, int64(u.UpdateID), data); err != nil {
		return fmt.Errorf("record update %d: %w", u.UpdateID, err)
	}
	if len(out) > 0 {
		a.kick()
	}
	return nil
}

func identity(u *tgbotapi.User) bot.Identity {
	return bot.Identity{Channel: bot.Telegram, ID: strconv.FormatInt(u.ID, 10)}
}

// session starts (or resumes) the customer's Telegram conversation and
// tracks it for delivery. A new customer is named after their first name.
// It returns the session and the conversation's cursor before Start, to
// tell whether Start said anything.
func (a *Adapter) session(ctx context.Context, from *tgbotapi.User, chatID int64) (*bot.Session, int64, error) {
	id := identity(from)
	var p bot.Profile
	if _, err := a.engine.CustomerByIdentity(ctx, id); errors.Is(err, bot.ErrNotFound) {
		p.Name = from.FirstName
	} else if err != nil {
		return nil, 0, err
	}
	s, err := a.engine.Start(ctx, id, p)
	if err != nil {
		return nil, 0, err
	}
	cursor, err := a.track(ctx, s.Conversation.ID, chatID)
	if err != nil {
		return nil, 0, fmt.Errorf("track conversation: %w", err)
	}
	return s, cursor, nil
}

// onMessage handles a message or an edited message from a private chat.
//
// Edits: while a person owns the conversation, the new text is passed
// on as "(edited) …"; the bot ignores edits (it has answered already; the
// customer can simply write again).
func (a *Adapter) onMessage(ctx context.Context, updateID int, m *tgbotapi.Message, edited bool) ([]outgoing, error) {
	if m.From == nil || m.From.IsBot || m.Chat == nil || !m.Chat.IsPrivate() {
		return nil, nil // groups and channels are not customer chats
	}
	chatID := m.Chat.ID
	var out []outgoing
	if err := a.store.TelegramSetBlocked(ctx, chatID, false); err != nil {
		return nil, err // they wrote, so they can be written to
	}
	cmd, args := "", ""
	if !edited {
		cmd, args = command(m)
	}
	if cmd == "start" && args != "" {
		// Link first, so that the session below is the linked customer's.
		switch _, err := a.engine.RedeemLinkCode(ctx, args, identity(m.From)); {
		case errors.Is(err, bot.ErrLinkUnknown):
			out = append(out, reply(chatID, textLinkUnknown))
		case errors.Is(err, bot.ErrLinkExpired):
			out = append(out, reply(chatID, textLinkExpired))
		case err != nil:
			return nil, err
		default:
			out = append(out, reply(chatID, "Your Telegram is now linked to your chat on our website: same conversation history, same team. Carry on here!"))
		}
	}
	s, before, err := a.session(ctx, m.From, chatID)
	if err != nil {
		return nil, err
	}
	conv := s.Conversation
	defer a.sync(ctx, conv.ID)
	in := bot.Inbound{ConversationID: conv.ID, ClientID: "tg:" + strconv.Itoa(updateID), Text: m.Text}
	switch {
	case edited && conv.State == bot.StateBot:
		return out, nil
	case edited:
		in.Text = "(edited) " + m.Text
		if m.Text == "" {
			in.Text = "(edited) " + media(m)
		}
	case m.Text == "":
		if conv.State == bot.StateBot {
			return append(out, reply(chatID, textNonTextBot)), nil
		}
		in.Text = media(m)
	case cmd == "start":
		if conv.LastSeq == before && len(out) == 0 {
			name := s.Customer.Name
			if name != "" {
				name = " " + name
			}
			out = append(out, reply(chatID, fmt.Sprintf("Hi%s! How can I help you today? Send /help to see what I can do.", name)))
		}
		return out, nil
	case cmd == "help":
		return append(out, reply(chatID, textHelp)), nil
	case cmd == "web":
		return append(out, a.webLink(ctx, chatID, s.Customer.ID)), nil
	case cmd == "human":
		in.Text, in.Payload = "talk to a person", bot.PayloadHuman
	case cmd == "restart":
		if conv.State != bot.StateBot {
			return append(out, reply(chatID, textWithPeople)), nil
		}
		in.Text, in.Payload = "start over", bot.PayloadKeepTrying
	}
	if len(strings.TrimSpace(in.Text)) > bot.MaxTextLen {
		// Telegram allows 4096 characters, which can be more bytes than
		// the engine takes; refused there, the update would fail and be
		// retried in vain.
		return append(out, reply(chatID, textTooLong)), nil
	}
	return out, a.handle(ctx, in)
}

// command returns the bot command a message starts with, without the
// slash and any "@botname" ("start" for "/start@shopbot abc"), and the
// text after it, trimmed; "" and "" when the message starts with none.
// The library's Command and CommandArguments slice the text by the
// entity's length unchecked and panic when it does not fit the text, which
// an update can claim; here such an entity is no command.
func command(m *tgbotapi.Message) (cmd, args string) {
	if !m.IsCommand() {
		return "", ""
	}
	n := m.Entities[0].Length
	if n < 2 || n > len(m.Text) || m.Text[0] != '/' {
		return "", ""
	}
	cmd, _, _ = strings.Cut(m.Text[1:n], "@")
	return cmd, strings.TrimSpace(m.Text[n:])
}

// handle passes a customer message to the engine. An error after the
// message was stored is only logged: the engine has told the customer.
func (a *Adapter) handle(ctx context.Context, in bot.Inbound) error {
	stored := false
	in.OnStored = func(bot.Message, bool) { stored = true }
	_, err := a.engine.Handle(ctx, in)
	switch {
	case err == nil || errors.Is(err, bot.ErrEmpty):
		return nil
	case stored:
		a.opts.Log.Error("telegram: bot reply failed", "conversation", in.ConversationID, "err", err)
		return nil
	}
	return err
}

// media describes a non-text message for the people: its type and
// caption, e.g. "[photo] my broken lamp".
func media(m *tgbotapi.Message) string {
	kind := "attachment"
	switch {
	case m.Photo != nil:
		kind = "photo"
	case m.Sticker != nil:
		kind = "sticker"
		if m.Sticker.Emoji != "" {
			kind += " " + m.Sticker.Emoji
		}
	case m.Voice != nil:
		kind = "voice message"
	case m.VideoNote != nil:
		kind = "video message"
	case m.Video != nil:
		kind = "video"
	case m.Animation != nil:
		kind = "animation"
	case m.Audio != nil:
		kind = "audio"
	case m.Document != nil:
		kind = "document"
		if m.Document.FileName != "" {
			kind += " " + m.Document.FileName
		}
	case m.Location != nil:
		kind = "location"
	case m.Contact != nil:
		kind = "contact"
	}
	s := "[" + kind + "]"
	if c := strings.TrimSpace(m.Caption); c != "" {
		s += " " + c
	}
	return s
}

// webLink answers /web with a one-time link that opens the widget as the
// same customer.
func (a *Adapter) webLink(ctx context.Context, chatID int64, customerID string) outgoing {
	if a.opts.PublicURL == "" {
		return reply(chatID, textNoWeb)
	}
	code, err := a.engine.CreateLinkCode(ctx, customerID)
	if err != nil {
		a.opts.Log.Error("telegram: create link code", "customer", customerID, "err", err)
		return reply(chatID, "Sorry, I couldn't make a link just now. Please try again in a moment.")
	}
	return reply(chatID, "Open this link within 10 minutes to continue on our website as the same customer (it works once):\n"+a.opts.PublicURL+"/?link="+code)
}

// onCallback handles an inline-keyboard button press: the spinner is
// stopped (answerCallbackQuery), the keyboard removed, and the choice
// handled as the quick reply it stands for. The two calls are
// best-effort: neither is a message to the customer.
func (a *Adapter) onCallback(ctx context.Context, updateID int, q *tgbotapi.CallbackQuery) ([]outgoing, error) {
	if q.From == nil || q.Message == nil || q.Message.Chat == nil || !q.Message.Chat.IsPrivate() {
		a.answer(q.ID, "")
		return nil, nil
	}
	chatID := q.Message.Chat.ID
	if err := a.store.TelegramSetBlocked(ctx, chatID, false); err != nil {
		return nil, err
	}
	s, _, err := a.session(ctx, q.From, chatID)
	if err != nil {
		return nil, err
	}
	conv := s.Conversation
	defer a.sync(ctx, conv.ID)
	choice, ok := a.choice(ctx, conv.ID, q.Data)
	if !ok {
		a.answer(q.ID, textStale)
		a.removeKeyboard(chatID, q.Message.MessageID)
		return nil, nil
	}
	a.answer(q.ID, "")
	a.removeKeyboard(chatID, q.Message.MessageID)
	return nil, a.handle(ctx, bot.Inbound{ConversationID: conv.ID, ClientID: "tg:" + strconv.Itoa(updateID), Text: choice.Label, Payload: choice.Payload})
}

// choice resolves callback data "<conversation>:<seq>:<index>" to the
// quick reply it stands for, in the customer's current conversation.
func (a *Adapter) choice(ctx context.Context, conversationID, data string) (bot.QuickReply, bool) {
	parts := strings.Split(data, ":")
	if len(parts) != 3 || parts[0] != conversationID {
		return bot.QuickReply{}, false
	}
	seq, err1 := strconv.ParseInt(parts[1], 10, 64)
	i, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || seq < 1 || i < 0 {
		return bot.QuickReply{}, false
	}
	ms, err := a.engine.Messages(ctx, conversationID, seq-1)
	if err != nil || len(ms) == 0 || ms[0].Seq != seq || i >= len(ms[0].QuickReplies) {
		return bot.QuickReply{}, false
	}
	return ms[0].QuickReplies[i], true
}

// answer stops the button's spinner, with an optional notice.
func (a *Adapter) answer(id, text string) {
	p := tgbotapi.Params{"callback_query_id": id}
	p.AddNonEmpty("text", text)
	a.bestEffort("answerCallbackQuery", p)
}

// removeKeyboard removes the inline keyboard from a message, so that a
// choice is made once.
func (a *Adapter) removeKeyboard(chatID int64, messageID int) {
	a.bestEffort("editMessageReplyMarkup", tgbotapi.Params{"chat_id": strconv.FormatInt(chatID, 10),
		"message_id": strconv.Itoa(messageID), "reply_markup": `{"inline_keyboard":[]}`})
}

// bestEffort makes a request, retrying twice quickly on transient errors.
func (a *Adapter) bestEffort(method string, p tgbotapi.Params) {
	var err error
	for range 3 {
		if _, err = a.api.MakeRequest(method, p); err == nil {
			return
		}
		if c := apiCode(err); c >= 400 && c < 500 && c != 429 {
			break
		}
		if !a.sleep(a.opts.MinBackoff) {
			return
		}
	}
	a.opts.Log.Warn("telegram: request failed", "method", method, "err", err)
}
