package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/adapters/webhook"
	"github.com/frontdesk/frontdesk/bot"
)

// hookReceiver is the shop's webhook endpoint: while down it answers
// 503 to every request; then it accepts and keeps every event.
type hookReceiver struct {
	secret []byte
	mu     sync.Mutex
	down   bool
	calls  int
	failed int // requests answered 503
	badSig int
	got    []webhook.Payload
}

// up makes the receiver accept events from now on.
func (h *hookReceiver) up() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down = false
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if !webhook.Verify(h.secret, body, r.Header.Get("X-Frontdesk-Signature")) {
		h.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if h.down {
		h.failed++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var p webhook.Payload
	json.Unmarshal(body, &p)
	h.got = append(h.got, p)
}

func (h *hookReceiver) snapshot() (calls int, got []webhook.Payload) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls, append([]webhook.Payload(nil), h.got...)
}

// failures is how many requests were answered 503.
func (h *hookReceiver) failures() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failed
}

// TestWebhooksSurviveKill9 runs the real binary with a webhook whose
// receiver is down (503), kills the server with SIGKILL once it has
// failed three times and the events wait in the outbox, brings the
// receiver up, starts the server again, and checks that the receiver
// then gets every event once, in order, signed.
func TestWebhooksSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	bin := buildFrontdesk(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const hookSecret, idSecret = "webhook secret, at least 16", "identity secret, at least 16"
	rc := &hookReceiver{secret: []byte(hookSecret), down: true}
	hooks := httptest.NewServer(rc)
	defer hooks.Close()

	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	add := exec.Command(bin, "apikey", "add", "--data-dir", dataDir, "--name", "shop", "--scope", "write")
	add.Env = childEnv()
	out, err := add.Output()
	if err != nil {
		t.Fatalf("apikey add: %v", err)
	}
	key := strings.TrimSpace(string(out))
	srv := &serverProc{bin: bin, dataDir: dataDir, addr: freeAddr(t), logPath: filepath.Join(dir, "serve.log"),
		extra: []string{"--webhook-url", hooks.URL + "/frontdesk", "--webhook-secret", hookSecret, "--identity-secret", idSecret}}
	t.Cleanup(srv.kill)
	if err := srv.start(ctx); err != nil {
		t.Fatalf("%v\n%s", err, srv.logTail(30))
	}
	base := "http://" + srv.addr

	// The shop tells about its customer, who then chats, signed in.
	req, _ := http.NewRequest("PUT", base+"/api/v1/customers/shop-5", strings.NewReader(`{"name":"Ana","attributes":{"last_order":"Arco floor lamp"}}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT customer: %v %v", resp, err)
	}
	resp.Body.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+srv.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.WriteJSON(map[string]any{"type": "hello", "token": "", "identity": map[string]any{"user_id": "shop-5", "user_hash": bot.UserHash([]byte(idSecret), "shop-5")}})
	ws.WriteJSON(map[string]any{"type": "message", "id": "m1", "text": "how do I return a lamp"})
	for {
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var f map[string]any
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("read: %v", err)
		}
		if f["type"] == "message" && f["text"] == "Was this helpful?" {
			break
		}
	}
	ws.Close()

	// Kill the server once the receiver has failed three times.
	for calls, _ := rc.snapshot(); calls < 3; calls, _ = rc.snapshot() {
		if ctx.Err() != nil {
			t.Fatalf("the receiver was never called 3 times\n%s", srv.logTail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.kill()
	// A request the server sent just before it died still reaches the
	// receiver, and is refused while the receiver is down.
	time.Sleep(300 * time.Millisecond)
	failed := rc.failures()
	if _, got := rc.snapshot(); len(got) != 0 {
		t.Fatalf("events accepted before the kill: %d", len(got))
	}
	rc.up()
	if err := srv.start(ctx); err != nil {
		t.Fatalf("%v\n%s", err, srv.logTail(30))
	}

	// What should arrive: the customer's update, the conversation, and
	// one event per message of its log.
	req, _ = http.NewRequest("GET", base+"/api/v1/conversations?customer=shop-5", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var convs struct {
		Conversations []struct {
			ID  string `json:"id"`
			Log []struct {
				Seq int64 `json:"seq"`
			} `json:"log"`
		} `json:"conversations"`
	}
	json.NewDecoder(resp.Body).Decode(&convs)
	resp.Body.Close()
	if len(convs.Conversations) != 1 {
		t.Fatalf("conversations %+v", convs)
	}
	want := len(convs.Conversations[0].Log) + 2
	var got []webhook.Payload
	for {
		_, got = rc.snapshot()
		if len(got) >= want {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("received %d of %d events after the restart\n%s", len(got), want, srv.logTail(20))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // nothing more should come
	calls, got := rc.snapshot()
	if len(got) != want || calls != want+failed || rc.badSig != 0 {
		t.Errorf("received %d events in %d calls (%d badly signed), want %d in %d (after %d failed)", len(got), calls, rc.badSig, want, want+failed, failed)
	}
	ids := map[string]bool{}
	var seqs []int64
	counts := map[string]int{}
	for _, p := range got {
		if ids[p.ID] {
			t.Errorf("event %s delivered twice", p.ID)
		}
		ids[p.ID] = true
		counts[p.Type]++
		if p.Type == webhook.MessageCreated {
			seqs = append(seqs, int64(p.Data.(map[string]any)["message"].(map[string]any)["seq"].(float64)))
		}
	}
	if counts[webhook.CustomerUpdated] != 1 || counts[webhook.ConversationCreated] != 1 {
		t.Errorf("event counts %v", counts)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("message events out of order: %v", seqs)
		}
	}
	t.Logf("%d events delivered after %d failures and a kill -9, in order", len(got), failed)
}
