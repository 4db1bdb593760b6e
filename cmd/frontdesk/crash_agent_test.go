package main

// The crash test's agent: consoles that work the queue through the
// agent API (docs/agent-api.md) and record every act.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// act is one thing the agent did through the API, in the order done.
type act struct {
	conv, kind string // claim, reply, note, resolve, return
	// status is the HTTP status; 0 when no answer came (the server was
	// killed), so the act may or may not have happened.
	status int
	seq    int64 // of a reply or note answered 201
	text   string
}

// apiTicket is a ticket as the agent API shows it.
type apiTicket struct {
	ConversationID string    `json:"conversation_id"`
	TicketID       string    `json:"ticket_id"`
	Status         string    `json:"status"`
	Agent          string    `json:"agent"`
	Created        time.Time `json:"created"`
	ClosedAt       time.Time `json:"closed_at"`
}

// apiQueue is GET /api/agent/queue.
type apiQueue struct {
	Tickets  []apiTicket `json:"tickets"`
	Mine     []apiTicket `json:"mine"`
	Assigned []apiTicket `json:"assigned"`
}

// crashAgent is one console of an admin working the queue: it claims
// waiting conversations (never a patient customer's), replies, writes
// notes, resolves and returns conversations to the bot. An agent may have
// several consoles (crashAgents with the same login), each acting on its
// own part of the conversations, so that the acts on one conversation
// come one after the other from one console. Its fields belong to the
// goroutine running run until run returns.
type crashAgent struct {
	base, email, password string
	part, parts           int // acts on conversations whose hash is part mod parts
	client                *http.Client
	rnd                   *rand.Rand
	reg                   *registry

	token, id string
	acts      []act
	problems  []string
	replies   int
}

func newCrashAgent(base, email, password string, part, parts int, seed uint64, reg *registry) *crashAgent {
	return &crashAgent{base: base, email: email, password: password, part: part, parts: parts, reg: reg,
		client: &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		rnd:    rand.New(rand.NewPCG(seed, 1<<32+uint64(part)))}
}

// mine reports whether the conversation is in this console's part.
func (a *crashAgent) mine(conv string) bool {
	h := fnv.New32a()
	h.Write([]byte(conv))
	return int(h.Sum32()%uint32(a.parts)) == a.part
}

// call sends a request with the session token and decodes a 2xx answer
// into out. It returns the status, 0 when no answer came.
func (a *crashAgent) call(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// login starts a session; sessions survive restarts, so one is enough.
func (a *crashAgent) login(ctx context.Context) error {
	var out struct {
		Token string `json:"token"`
		Agent struct {
			ID string `json:"id"`
		} `json:"agent"`
	}
	if _, err := a.call(ctx, "POST", "/api/agent/login", map[string]string{"email": a.email, "password": a.password}, &out); err != nil {
		return err
	}
	if out.Token == "" || out.Agent.ID == "" {
		return errors.New("login answered without a token or agent id")
	}
	a.token, a.id = out.Token, out.Agent.ID
	return nil
}

// run works the queue until stop is closed or ctx is done.
func (a *crashAgent) run(ctx context.Context, stop <-chan struct{}) {
	for i := 0; i < 20000 && ctx.Err() == nil; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if a.token == "" {
			if err := a.login(ctx); err != nil {
				sleep(ctx, 50*time.Millisecond)
			}
			continue
		}
		var q apiQueue
		status, err := a.call(ctx, "GET", "/api/agent/queue", nil, &q)
		if status == http.StatusUnauthorized {
			if len(a.problems) < 10 {
				a.problems = append(a.problems, fmt.Sprintf("the agent's session was refused after a restart: %v", err))
			}
			a.token = ""
		}
		if err == nil {
			a.step(ctx, q)
		}
		sleep(ctx, time.Duration(5+a.rnd.IntN(20))*time.Millisecond)
	}
}

// step does one thing: mostly something in one of its own conversations,
// else claims a waiting one.
func (a *crashAgent) step(ctx context.Context, q apiQueue) {
	var claimable, mine []apiTicket
	for _, t := range q.Tickets {
		if a.mine(t.ConversationID) && a.reg.servable(t.ConversationID) {
			claimable = append(claimable, t)
		}
	}
	for _, t := range q.Mine {
		if a.mine(t.ConversationID) {
			mine = append(mine, t)
		}
	}
	if len(mine) > 0 && (len(claimable) == 0 || a.rnd.Float64() < 0.6) {
		conv := mine[a.rnd.IntN(len(mine))].ConversationID
		switch r := a.rnd.Float64(); {
		case r < 0.35:
			a.say(ctx, conv, false)
		case r < 0.42:
			a.say(ctx, conv, true)
		case r < 0.72:
			a.move(ctx, conv, "resolve", "/resolve")
		default:
			a.move(ctx, conv, "return", "/return-to-bot")
		}
		return
	}
	if len(claimable) > 0 {
		a.move(ctx, claimable[a.rnd.IntN(len(claimable))].ConversationID, "claim", "/claim")
	}
}

// move claims, resolves or returns a conversation to the bot.
func (a *crashAgent) move(ctx context.Context, conv, kind, path string) {
	status, _ := a.call(ctx, "POST", "/api/agent/conversations/"+conv+path, nil, nil)
	a.acts = append(a.acts, act{conv: conv, kind: kind, status: status})
}

// say sends a reply or a private note, each with a text of its own.
func (a *crashAgent) say(ctx context.Context, conv string, internal bool) {
	a.replies++
	kind, text := "reply", fmt.Sprintf("Agent reply %d-%d: thanks for waiting, I'm looking into it.", a.part, a.replies)
	if internal {
		kind, text = "note", fmt.Sprintf("Internal note %d-%d: customer asked twice.", a.part, a.replies)
	}
	var m struct {
		Seq int64 `json:"seq"`
	}
	status, _ := a.call(ctx, "POST", "/api/agent/conversations/"+conv+"/messages", map[string]any{"text": text, "internal": internal}, &m)
	a.acts = append(a.acts, act{conv: conv, kind: kind, status: status, seq: m.Seq, text: text})
}
