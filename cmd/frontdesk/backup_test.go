package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// prefill stores n web customers, each with one conversation of msgs
// messages, in the database file at path, and returns each conversation's
// visitor token: history for a backup to copy, which a restored server
// must give back over the customer websocket.
func prefill(t *testing.T, path string, n, msgs int) map[string]string {
	t.Helper()
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tokens := map[string]string{}
	now := time.Now().UTC()
	for start := 0; start < n; start += 100 {
		err := db.Update(context.Background(), func(tx bot.Tx) error {
			for i := start; i < min(start+100, n); i++ {
				sum := sha256.Sum256(fmt.Appendf(nil, "prefill-%d", i))
				token := hex.EncodeToString(sum[:])
				idSum := sha256.Sum256([]byte(token))
				cust := &bot.Customer{ID: fmt.Sprintf("cus_prefill%04d", i), Visits: 1, FirstSeen: now, LastSeen: now,
					Identities: []bot.Identity{{Channel: bot.Web, ID: hex.EncodeToString(idSum[:])}}}
				if err := tx.PutCustomer(cust); err != nil {
					return err
				}
				conv := &bot.Conversation{ID: fmt.Sprintf("con_prefill%04d", i), CustomerID: cust.ID, Channel: bot.Web,
					State: bot.StateBot, Created: now, Updated: now, LastSeq: int64(msgs)}
				for s := 1; s <= msgs; s++ {
					m := bot.Message{ConversationID: conv.ID, Seq: int64(s), From: bot.FromCustomer, Time: now,
						Text: fmt.Sprintf("customer %d asks question %d about delivery times and returns", i, s)}
					if s%2 == 0 {
						m.From, m.Text = bot.FromBot, "Standard delivery takes 2 to 4 working days; express delivery arrives the next working day."
					}
					if err := tx.PutMessage(m); err != nil {
						return err
					}
				}
				if err := tx.PutConversation(conv); err != nil {
					return err
				}
				tokens[conv.ID] = token
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return tokens
}

// backupHolds is what a backup file holds: each conversation's messages.
func backupHolds(t *testing.T, file string) map[string][]bot.Message {
	t.Helper()
	// Opening a database may write (migrations): read a scratch copy.
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	scratch := filepath.Join(t.TempDir(), "scratch.db")
	if err := os.WriteFile(scratch, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(scratch)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	customers, err := db.ListCustomers(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]bot.Message{}
	for _, c := range customers {
		convs, err := db.Conversations(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, cv := range convs {
			ms, err := db.Messages(ctx, cv.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(ms)) != cv.LastSeq {
				t.Errorf("backup: conversation %s has %d messages, LastSeq %d", cv.ID, len(ms), cv.LastSeq)
			}
			out[cv.ID] = ms
		}
	}
	return out
}

// resume opens the customer websocket at base as the visitor with token,
// says hello with last_seq 0 and checks that the conversation resumed is
// conv and that its messages arrive in seq order, reading as want.
func resume(ctx context.Context, base, token, conv string, want []bot.Message) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ws, _, err := (&websocket.Dialer{}).DialContext(dctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", http.Header{"Origin": {base}})
	if err != nil {
		return err
	}
	defer ws.Close()
	ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteJSON(map[string]any{"type": "hello", "token": token, "last_seq": 0}); err != nil {
		return err
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var next int64 = 1
	for next <= int64(len(want)) {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			return fmt.Errorf("after seq %d of %d: %w", next-1, len(want), err)
		}
		switch f.Type {
		case "welcome":
			if f.ConversationID != conv {
				return fmt.Errorf("resumed conversation %s", f.ConversationID)
			}
		case "message":
			m := want[next-1]
			if f.Seq != next || f.From != string(m.From) || f.Text != m.Text {
				return fmt.Errorf("message %d: got seq %d %s %q, want seq %d %s %q", next, f.Seq, f.From, f.Text, m.Seq, m.From, m.Text)
			}
			next++
		case "error":
			return fmt.Errorf("error frame %s: %s", f.Code, f.Message)
		}
	}
	return nil
}

// TestBackupUnderLoadRestoresEveryConversation is the backup's promise,
// on the real binary: a backup taken through the running server while
// 40 customers chat restores to a server that resumes every conversation
// in it, whole and in order, for its own visitor, and holds every message
// acknowledged before the backup began.
func TestBackupUnderLoadRestoresEveryConversation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it under load")
	}
	bin := buildFrontdesk(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	tokens := prefill(t, filepath.Join(dataDir, "frontdesk.db"), 1000, 40)
	const email, password = "root@example.com", "a long password"
	add := exec.Command(bin, "agent", "add", "--data-dir", dataDir, "--name", "Root", "--email", email, "--role", "admin")
	add.Env, add.Stdin = childEnv(), strings.NewReader(password+"\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("agent add: %v\n%s", err, out)
	}
	srv := &serverProc{bin: bin, dataDir: dataDir, addr: freeAddr(t), logPath: filepath.Join(dir, "serve.log")}
	t.Cleanup(srv.kill)
	if err := srv.start(ctx); err != nil {
		t.Fatalf("%v\n%s", err, srv.logTail(30))
	}
	base := "http://" + srv.addr

	reg := &registry{patient: map[string]bool{}}
	customers := make([]*customer, 40)
	for i := range customers {
		customers[i] = newCustomer(i, false, base, base, uint64(time.Now().UnixNano()), reg)
	}
	stop := make(chan struct{})
	stopLoad := sync.OnceFunc(func() { close(stop) })
	var wg sync.WaitGroup
	for _, c := range customers {
		wg.Go(func() { c.run(ctx, stop) })
	}
	defer func() { stopLoad(); wg.Wait() }()
	waitWelcomes(ctx, reg, 0, len(customers), 5*time.Second)
	sleep(ctx, 1500*time.Millisecond)

	file := filepath.Join(dir, "backup.db")
	// acked counts the customer messages acknowledged in [from, to).
	acked := func(from, to time.Time) int {
		n := 0
		for _, c := range customers {
			n += c.ackedBetween(from, to)
		}
		return n
	}
	// A backup takes a tenth of a second: take it again (three times at
	// most) until customers' messages were stored while it ran, so the
	// copy restored below was made under load.
	var began, ended time.Time
	var out []byte
	during := 0
	for attempt := 0; attempt < 3 && during == 0; attempt++ {
		backup := exec.CommandContext(ctx, bin, "backup", file, "--url", base, "--email", email)
		backup.Env, backup.Stdin = childEnv(), strings.NewReader(password+"\n")
		began = time.Now()
		var err error
		out, err = backup.CombinedOutput()
		ended = time.Now()
		if err != nil {
			t.Fatalf("backup: %v\n%s", err, out)
		}
		sleep(ctx, 200*time.Millisecond) // acks of the window arrive
		during = acked(began, ended)
	}
	sleep(ctx, 300*time.Millisecond)
	stopLoad()
	wg.Wait()
	srv.kill()
	t.Logf("%s(the command took %v)", out, ended.Sub(began).Round(time.Millisecond))
	before := acked(time.Time{}, began)
	t.Logf("customer messages acknowledged: %d before the backup, %d while it ran", before, during)
	if during == 0 {
		t.Error("no customer message was stored while any of three backups ran: this was not a backup under load")
	}
	if _, err := os.Stat(file + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary file is left: %v", err)
	}

	held := backupHolds(t, file)
	for _, c := range customers {
		for _, a := range c.acks {
			if !a.at.Before(began) {
				continue
			}
			ms := held[a.conv]
			if a.seq < 1 || a.seq > int64(len(ms)) || ms[a.seq-1].ClientID != a.id || ms[a.seq-1].Text != a.text {
				t.Errorf("message %q, acknowledged as seq %d of %s before the backup began, is not in it", a.id, a.seq, a.conv)
			}
		}
		for _, conv := range c.convs {
			tokens[conv] = c.token
		}
	}

	// Restore: a new data directory with the backup as its database.
	restored := filepath.Join(dir, "restored")
	if err := os.MkdirAll(restored, 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, file, filepath.Join(restored, "frontdesk.db"))
	srv2 := &serverProc{bin: bin, dataDir: restored, addr: freeAddr(t), logPath: filepath.Join(dir, "restored.log")}
	t.Cleanup(srv2.kill)
	if err := srv2.start(ctx); err != nil {
		t.Fatalf("%v\n%s", err, srv2.logTail(30))
	}
	base2 := "http://" + srv2.addr
	type job struct {
		conv string
		msgs []bot.Message
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var failed []string
	var checked, messages int
	var workers sync.WaitGroup
	for range 8 {
		workers.Go(func() {
			for j := range jobs {
				err := resume(ctx, base2, tokens[j.conv], j.conv, j.msgs)
				mu.Lock()
				checked++
				messages += len(j.msgs)
				if err != nil && len(failed) < 20 {
					failed = append(failed, fmt.Sprintf("%s: %v", j.conv, err))
				}
				mu.Unlock()
			}
		})
	}
	for conv, ms := range held {
		if tokens[conv] == "" {
			t.Errorf("conversation %s in the backup belongs to no visitor of this test", conv)
			continue
		}
		jobs <- job{conv, ms}
	}
	close(jobs)
	workers.Wait()
	t.Logf("restored server resumed %d conversations (%d messages) from the backup", checked, messages)
	for _, f := range failed {
		t.Error(f)
	}
	if checked < 1000+len(customers)/2 {
		t.Errorf("only %d conversations were in the backup", checked)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
