package telegram_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const token = "123456:TEST-token"

// fakeAPI is a stand-in Bot API server speaking the real wire format:
// form-encoded POSTs to /bot<token>/<method>, {"ok":true,"result":…} or
// {"ok":false,"error_code":…,"description":…,"parameters":{…}} answers.
// It can inject failures (429 with retry_after, 5xx, dropped
// connections) before a request takes effect.
type fakeAPI struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	updates   []json.RawMessage // queued updates, by id order
	ids       []int
	nextID    int
	waiting   chan struct{} // closed when updates arrive
	sent      []sentMessage
	calls     map[string][]map[string]string
	offsets   []int
	nextMsgID int
	// polls are the getUpdates requests, by the node the X-Test-Node
	// header names; polling counts those under way, most the most at once.
	polls         []poll
	polling, most int
	// inject decides, per request, to fail it: "", "429", "5xx", "drop",
	// "403".
	inject func(method string) string
}

type poll struct {
	node   string
	offset int
	at     time.Time
}

type sentMessage struct {
	Chat int64
	// Text is what the chat shows; HTML what was sent, markup and all.
	Text     string
	HTML     string
	Buttons  []string // callback data
	Labels   []string
	ID       int
	Keyboard bool
	Node     string // who sent it: the X-Test-Node header
}

func newFakeAPI(t testing.TB) *fakeAPI {
	f := &fakeAPI{t: t, nextID: 100, waiting: make(chan struct{}), calls: map[string][]map[string]string{}, nextMsgID: 1}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+token+"/")
	if !ok || r.Method != http.MethodPost {
		writeJSON(w, 404, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + err.Error()})
		return
	}
	params := map[string]string{}
	for k := range r.PostForm {
		params[k] = r.PostForm.Get(k)
	}
	f.mu.Lock()
	inject := f.inject
	f.mu.Unlock()
	if inject != nil && method != "getMe" {
		switch inject(method) {
		case "429":
			writeJSON(w, 429, map[string]any{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": map[string]any{"retry_after": 1}})
			return
		case "5xx":
			if time.Now().UnixNano()%2 == 0 {
				http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
			} else {
				writeJSON(w, 500, map[string]any{"ok": false, "error_code": 500, "description": "Internal Server Error"})
			}
			return
		case "drop":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		case "403":
			writeJSON(w, 403, map[string]any{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
			return
		}
	}
	f.mu.Lock()
	f.calls[method] = append(f.calls[method], params)
	f.mu.Unlock()
	switch method {
	case "getMe":
		writeJSON(w, 200, map[string]any{"ok": true, "result": map[string]any{"id": 42, "is_bot": true, "first_name": "Shop", "username": "shop_bot"}})
	case "getUpdates":
		f.getUpdates(w, r, params)
	case "sendMessage":
		chat, _ := strconv.ParseInt(params["chat_id"], 10, 64)
		m := sentMessage{Chat: chat, Text: params["text"], HTML: params["text"], Node: r.Header.Get("X-Test-Node")}
		if params["parse_mode"] == "HTML" {
			// As Telegram does: parse the entities, refuse bad markup.
			text, err := parseTelegramHTML(params["text"])
			if err != nil {
				writeJSON(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: can't parse entities: " + err.Error()})
				return
			}
			m.Text = text
		}
		if n := utf16Units(m.Text); n > 4096 {
			writeJSON(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message is too long"})
			return
		}
		if rm := params["reply_markup"]; rm != "" {
			var kb struct {
				InlineKeyboard [][]struct {
					Text string `json:"text"`
					Data string `json:"callback_data"`
				} `json:"inline_keyboard"`
			}
			if err := json.Unmarshal([]byte(rm), &kb); err != nil {
				writeJSON(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: can't parse reply keyboard markup JSON object"})
				return
			}
			m.Keyboard = true
			for _, row := range kb.InlineKeyboard {
				for _, b := range row {
					m.Buttons, m.Labels = append(m.Buttons, b.Data), append(m.Labels, b.Text)
				}
			}
		}
		f.mu.Lock()
		m.ID = f.nextMsgID
		f.nextMsgID++
		f.sent = append(f.sent, m)
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"ok": true, "result": map[string]any{"message_id": m.ID, "date": time.Now().Unix(),
			"chat": map[string]any{"id": chat, "type": "private"}, "text": m.Text}})
	case "answerCallbackQuery", "setWebhook", "deleteWebhook":
		writeJSON(w, 200, map[string]any{"ok": true, "result": true})
	case "editMessageReplyMarkup":
		writeJSON(w, 200, map[string]any{"ok": true, "result": true})
	default:
		writeJSON(w, 404, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method not found"})
	}
}

// getUpdates answers with the queued updates from offset on, waiting up
// to timeout seconds for one; like Telegram, an offset confirms (drops)
// every earlier update.
func (f *fakeAPI) getUpdates(w http.ResponseWriter, r *http.Request, p map[string]string) {
	offset, _ := strconv.Atoi(p["offset"])
	timeout, _ := strconv.Atoi(p["timeout"])
	deadline := time.After(time.Duration(timeout) * time.Second)
	f.mu.Lock()
	f.polls = append(f.polls, poll{node: r.Header.Get("X-Test-Node"), offset: offset, at: time.Now()})
	f.polling++
	f.most = max(f.most, f.polling)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.polling--
		f.mu.Unlock()
	}()
	for {
		f.mu.Lock()
		f.offsets = append(f.offsets, offset)
		for len(f.ids) > 0 && f.ids[0] < offset {
			f.ids, f.updates = f.ids[1:], f.updates[1:]
		}
		if len(f.updates) > 0 {
			ups := append([]json.RawMessage(nil), f.updates...)
			f.mu.Unlock()
			writeJSON(w, 200, map[string]any{"ok": true, "result": ups})
			return
		}
		wake := f.waiting
		f.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			writeJSON(w, 200, map[string]any{"ok": true, "result": []any{}})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// push queues an update (its update_id is assigned) and returns its id.
func (f *fakeAPI) push(update map[string]any) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.nextID
	f.nextID++
	update["update_id"] = id
	data, _ := json.Marshal(update)
	f.updates, f.ids = append(f.updates, data), append(f.ids, id)
	close(f.waiting)
	f.waiting = make(chan struct{})
	return id
}

func user(id int64, first string) map[string]any {
	return map[string]any{"id": id, "is_bot": false, "first_name": first}
}

func privateChat(id int64) map[string]any { return map[string]any{"id": id, "type": "private"} }

// textUpdate is a private text message from user id.
func textUpdate(id int64, first, text string) map[string]any {
	m := map[string]any{"message_id": int(time.Now().UnixNano() % 1e6), "date": time.Now().Unix(), "from": user(id, first), "chat": privateChat(id), "text": text}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		m["entities"] = []any{map[string]any{"type": "bot_command", "offset": 0, "length": len(cmd)}}
	}
	return map[string]any{"message": m}
}

func photoUpdate(id int64, caption string) map[string]any {
	return map[string]any{"message": map[string]any{"message_id": 7, "date": time.Now().Unix(), "from": user(id, "Ana"), "chat": privateChat(id),
		"photo": []any{map[string]any{"file_id": "AgAD", "file_unique_id": "u", "width": 90, "height": 90}}, "caption": caption}}
}

func callbackUpdate(id int64, m sentMessage, data string) map[string]any {
	return map[string]any{"callback_query": map[string]any{"id": fmt.Sprint("cb", time.Now().UnixNano()), "from": user(id, "Ana"), "chat_instance": "x", "data": data,
		"message": map[string]any{"message_id": m.ID, "date": time.Now().Unix(), "chat": privateChat(id), "text": m.Text}}}
}

// sentTo returns the messages delivered to a chat, in order.
func (f *fakeAPI) sentTo(chat int64) []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sentMessage
	for _, m := range f.sent {
		if m.Chat == chat {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakeAPI) callsOf(method string) []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]string(nil), f.calls[method]...)
}

func (f *fakeAPI) setInject(fn func(string) string) {
	f.mu.Lock()
	f.inject = fn
	f.mu.Unlock()
}

// parseTelegramHTML checks text as Telegram's HTML parse mode does (the
// tags b, strong, i, em, u, s, code, pre and a with href; balanced; the
// entities &lt; &gt; &amp; &quot; and numeric ones) and returns the
// plain text the chat shows.
func parseTelegramHTML(text string) (string, error) {
	var out strings.Builder
	var open []string
	for i := 0; i < len(text); {
		switch text[i] {
		case '<':
			end := strings.IndexByte(text[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("unclosed start tag at byte %d", i)
			}
			tag := text[i+1 : i+end]
			i += end + 1
			if strings.HasPrefix(tag, "/") {
				name := tag[1:]
				if len(open) == 0 || open[len(open)-1] != name {
					return "", fmt.Errorf("unexpected end tag %q", name)
				}
				open = open[:len(open)-1]
				continue
			}
			name, attrs, _ := strings.Cut(tag, " ")
			switch name {
			case "b", "strong", "i", "em", "u", "s", "code", "pre":
				if attrs != "" {
					return "", fmt.Errorf("attributes on %q", name)
				}
			case "a":
				if !strings.HasPrefix(attrs, `href="`) || !strings.HasSuffix(attrs, `"`) {
					return "", fmt.Errorf("a tag without href: %q", attrs)
				}
			default:
				return "", fmt.Errorf("unsupported start tag %q", name)
			}
			open = append(open, name)
		case '&':
			end := strings.IndexByte(text[i:], ';')
			if end < 0 {
				return "", fmt.Errorf("unclosed entity at byte %d", i)
			}
			ent := text[i : i+end+1]
			dec := html.UnescapeString(ent)
			if dec == ent {
				return "", fmt.Errorf("unknown entity %q", ent)
			}
			out.WriteString(dec)
			i += end + 1
		case '>':
			return "", fmt.Errorf("stray > at byte %d", i)
		default:
			out.WriteByte(text[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("unclosed tags %v", open)
	}
	return out.String(), nil
}

// utf16Units is the length of s as Telegram counts it.
func utf16Units(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}
