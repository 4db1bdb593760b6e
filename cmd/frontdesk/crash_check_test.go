package main

// What the crash test checks once the load has stopped, through the
// agent API and the customer protocol.

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// findings collects problems by kind, in the order kinds first appear.
type findings struct {
	kinds []string
	by    map[string][]string
}

func (f *findings) add(kind, format string, args ...any) {
	if f.by == nil {
		f.by = map[string][]string{}
	}
	if _, ok := f.by[kind]; !ok {
		f.kinds = append(f.kinds, kind)
	}
	f.by[kind] = append(f.by[kind], fmt.Sprintf(format, args...))
}

// report fails the test once per kind, with up to 10 examples, and says
// whether there was anything.
func (f *findings) report(t *testing.T) bool {
	t.Helper()
	for _, k := range f.kinds {
		list := f.by[k]
		shown := list[:min(len(list), 10)]
		more := ""
		if len(list) > len(shown) {
			more = fmt.Sprintf("\n    … and %d more", len(list)-len(shown))
		}
		t.Errorf("%s: %d\n    %s%s", k, len(list), strings.Join(shown, "\n    "), more)
	}
	return len(f.kinds) > 0
}

// Kinds of findings.
const (
	findLive        = "protocol violations seen during the load"
	findLost        = "acknowledged customer message missing or not at its seq"
	findDupID       = "client id stored more than once"
	findAckOrder    = "acks out of seq order"
	findSeqs        = "conversation log not seq 1..N"
	findBacklog     = "customer backlog differs from the agent API's transcript"
	findOwner       = "conversation owner and ticket disagree"
	findHandoff     = "hand-off announced to the customer but no ticket since"
	findDropped     = "waiting customer no longer queued"
	findAct         = "acknowledged agent act not in effect"
	findAgentMsg    = "acknowledged agent message missing, moved or stored twice"
	findListing     = "queue listing disagrees with conversation detail"
	findUnreachable = "conversation unreadable after the restarts"
)

// apiMessage is a message as the agent API shows it.
type apiMessage struct {
	Seq      int64     `json:"seq"`
	From     string    `json:"from"`
	Text     string    `json:"text"`
	Time     time.Time `json:"time"`
	Internal bool      `json:"internal"`
	Decision *struct {
		Kind string `json:"kind"`
	} `json:"decision"`
}

// apiConversation is GET /api/agent/conversations/{id}.
type apiConversation struct {
	Conversation struct {
		ID      string `json:"id"`
		State   string `json:"state"`
		Agent   string `json:"agent"`
		LastSeq int64  `json:"last_seq"`
	} `json:"conversation"`
	Ticket   *apiTicket   `json:"ticket"`
	Messages []apiMessage `json:"messages"`
}

// message returns the first message with the seq, or nil.
func (c *apiConversation) message(seq int64) *apiMessage {
	for i := range c.Messages {
		if c.Messages[i].Seq == seq {
			return &c.Messages[i]
		}
	}
	return nil
}

// summary is what must not change between two reads of a settled
// conversation.
func (c *apiConversation) summary() string {
	s := fmt.Sprintf("%s/%s/%d/%d", c.Conversation.State, c.Conversation.Agent, c.Conversation.LastSeq, len(c.Messages))
	if c.Ticket != nil {
		s += "/" + c.Ticket.TicketID + "/" + c.Ticket.Status + "/" + c.Ticket.Agent
	}
	return s
}

// crashCheck verifies what is left after the crashes, with the server
// running and the load stopped.
type crashCheck struct {
	consoles  []*crashAgent
	customers []*customer
	f         *findings

	queue apiQueue
	views map[string]*apiConversation
}

func (v *crashCheck) run(ctx context.Context) {
	for _, c := range v.customers {
		for _, p := range c.problems {
			v.f.add(findLive, "%s", p)
		}
	}
	for _, a := range v.consoles {
		for _, p := range a.problems {
			v.f.add(findLive, "agent console %d: %s", a.part, p)
		}
	}
	if err := v.read(ctx); err != nil {
		v.f.add(findUnreachable, "%v", err)
		return
	}
	for _, id := range slices.Sorted(maps.Keys(v.views)) {
		view := v.views[id]
		v.checkLog(id, view)
		v.checkOwner(id, view)
		v.checkHandoff(id, view)
	}
	v.checkListing()
	v.checkAcks()
	v.checkBacklogs(ctx)
	v.checkPatient()
	v.checkAgent()
}

// read loads the queue and every conversation the customers were in or
// the queue lists, again and again until two reads agree (the bot may
// still be answering the last messages, 3 s at most), and adds the
// conversations the last read could not load to the findings.
func (v *crashCheck) read(ctx context.Context) error {
	var prev map[string]string
	var unread []string
	for try := 0; try < 10; try++ {
		var err error
		if unread, err = v.readOnce(ctx); err != nil {
			return err
		}
		cur := map[string]string{}
		for id, c := range v.views {
			cur[id] = c.summary()
		}
		for _, t := range slices.Concat(v.queue.Tickets, v.queue.Mine, v.queue.Assigned) {
			cur["listed "+t.ConversationID] += t.TicketID + "/" + t.Status
		}
		if prev != nil && maps.Equal(prev, cur) {
			break
		}
		prev = cur
		sleep(ctx, 300*time.Millisecond)
	}
	for _, u := range unread {
		v.f.add(findUnreachable, "%s", u)
	}
	return nil
}

// readOnce reads the queue and the conversations once; it returns the
// conversations it could not read.
func (v *crashCheck) readOnce(ctx context.Context) ([]string, error) {
	v.queue = apiQueue{}
	if _, err := v.consoles[0].call(ctx, "GET", "/api/agent/queue", nil, &v.queue); err != nil {
		return nil, fmt.Errorf("read the queue: %w", err)
	}
	ids := map[string]bool{}
	for _, c := range v.customers {
		for _, id := range c.convs {
			ids[id] = true
		}
	}
	for _, t := range slices.Concat(v.queue.Tickets, v.queue.Mine, v.queue.Assigned) {
		ids[t.ConversationID] = true
	}
	v.views = map[string]*apiConversation{}
	var unread []string
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		var c apiConversation
		if _, err := v.consoles[0].call(ctx, "GET", "/api/agent/conversations/"+id, nil, &c); err != nil {
			unread = append(unread, fmt.Sprintf("conversation %s: %v", id, err))
			continue
		}
		v.views[id] = &c
	}
	return unread, nil
}

// checkLog: seqs are 1..N without gaps or repeats, and N is last_seq.
func (v *crashCheck) checkLog(id string, c *apiConversation) {
	for i, m := range c.Messages {
		if m.Seq != int64(i+1) {
			v.f.add(findSeqs, "conversation %s: message %d of the log has seq %d", id, i+1, m.Seq)
			return
		}
	}
	if int64(len(c.Messages)) != c.Conversation.LastSeq {
		v.f.add(findSeqs, "conversation %s: %d messages but last_seq %d", id, len(c.Messages), c.Conversation.LastSeq)
	}
}

func describeTicket(t *apiTicket) string {
	if t == nil {
		return "no ticket"
	}
	return fmt.Sprintf("ticket %s %s (agent %q)", t.TicketID, t.Status, t.Agent)
}

func ticketOpen(t *apiTicket) bool {
	return t != nil && (t.Status == "queued" || t.Status == "assigned")
}

// checkOwner: an open queued ticket goes with state queued, an open
// ticket assigned to X with state agent X, no open ticket with bot (or
// closed).
func (v *crashCheck) checkOwner(id string, c *apiConversation) {
	t, conv := c.Ticket, c.Conversation
	var ok bool
	want := ""
	switch conv.State {
	case "queued":
		ok = ticketOpen(t) && t.Status == "queued" && t.Agent == "" && conv.Agent == ""
		want = "an open queued ticket"
	case "agent":
		ok = ticketOpen(t) && t.Status == "assigned" && conv.Agent != "" && t.Agent == conv.Agent
		want = fmt.Sprintf("an open ticket assigned to %q", conv.Agent)
	case "bot", "closed":
		ok = !ticketOpen(t)
		want = "no open ticket"
	default:
		want = "a known state"
	}
	if !ok {
		v.f.add(findOwner, "conversation %s: state %s (agent %q) wants %s, got %s", id, conv.State, conv.Agent, want, describeTicket(t))
	}
}

// checkHandoff: when the bot last told the customer a person is coming,
// a ticket was made; it is still open or was closed after that.
func (v *crashCheck) checkHandoff(id string, c *apiConversation) {
	var last *apiMessage
	for i := range c.Messages {
		if m := &c.Messages[i]; m.From == "bot" && m.Decision != nil && m.Decision.Kind == "handoff" {
			last = m
		}
	}
	t := c.Ticket
	switch {
	case last == nil, ticketOpen(t):
	case t == nil:
		v.f.add(findHandoff, "conversation %s: the bot announced a person at seq %d, but the conversation has no ticket (state %s)", id, last.Seq, c.Conversation.State)
	case t.ClosedAt.Before(last.Time):
		v.f.add(findHandoff, "conversation %s: the bot announced a person at seq %d (%s), but the latest ticket %s was %s before that, at %s (state %s)",
			id, last.Seq, last.Time.Format(time.StampMicro), t.TicketID, t.Status, t.ClosedAt.Format(time.StampMicro), c.Conversation.State)
	}
}

// checkListing: the queue listing shows each open ticket once, as the
// conversation's detail does, and no open ticket is missing from it.
func (v *crashCheck) checkListing() {
	listed := map[string]apiTicket{}
	for _, t := range slices.Concat(v.queue.Tickets, v.queue.Mine, v.queue.Assigned) {
		if _, dup := listed[t.ConversationID]; dup {
			v.f.add(findListing, "conversation %s: listed twice", t.ConversationID)
		}
		listed[t.ConversationID] = t
		c := v.views[t.ConversationID]
		if c == nil {
			continue
		}
		if c.Ticket == nil || c.Ticket.TicketID != t.TicketID || c.Ticket.Status != t.Status {
			v.f.add(findListing, "conversation %s: listed with %s, detail shows %s", t.ConversationID, describeTicket(&t), describeTicket(c.Ticket))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(v.views)) {
		if c := v.views[id]; listed[id].TicketID == "" && ticketOpen(c.Ticket) {
			v.f.add(findListing, "conversation %s: %s is not in the queue listing", id, describeTicket(c.Ticket))
		}
	}
}

// checkAcks: every acknowledged message is in its conversation's log at
// the acknowledged seq with the text sent, and acks came in seq order.
func (v *crashCheck) checkAcks() {
	for _, c := range v.customers {
		last := map[string]int64{}
		for _, a := range c.acks {
			if a.seq <= last[a.conv] {
				v.f.add(findAckOrder, "customer %d, conversation %s: %q acknowledged as seq %d after an ack of seq %d", c.idx, a.conv, a.id, a.seq, last[a.conv])
			}
			last[a.conv] = max(last[a.conv], a.seq)
			view := v.views[a.conv]
			if view == nil {
				continue // reported as unreadable
			}
			if m := view.message(a.seq); m == nil || m.From != "customer" || m.Text != strings.TrimSpace(a.text) {
				v.f.add(findLost, "conversation %s: %q (%q) acknowledged as seq %d; the log has %s", a.conv, a.id, a.text, a.seq, describeMessage(m, a.seq))
			}
		}
	}
}

// checkBacklogs resumes each customer with last_seq 0 and compares the
// whole backlog with the agent API's transcript (without notes): same
// seqs, senders and texts; each client id once; each acknowledged id at
// its seq.
func (v *crashCheck) checkBacklogs(ctx context.Context) {
	type result struct {
		c      *customer
		frames []frame
		conv   string
		err    error
	}
	results := make([]result, len(v.customers))
	var wg sync.WaitGroup
	for i, c := range v.customers {
		view := v.views[c.conv]
		if c.token == "" || view == nil {
			continue
		}
		var lastSeq int64
		for _, m := range view.Messages {
			if !m.Internal {
				lastSeq = m.Seq
			}
		}
		wg.Go(func() {
			conv, frames, err := readBacklog(ctx, c.url, c.origin, c.token, lastSeq)
			results[i] = result{c: c, frames: frames, conv: conv, err: err}
		})
	}
	wg.Wait()
	for _, r := range results {
		if r.c == nil {
			continue
		}
		c := r.c
		if r.err != nil {
			v.f.add(findBacklog, "customer %d, conversation %s: %v", c.idx, c.conv, r.err)
			continue
		}
		if r.conv != c.conv {
			v.f.add(findBacklog, "customer %d: resumed into conversation %s, was in %s", c.idx, r.conv, c.conv)
			continue
		}
		var want []apiMessage
		for _, m := range v.views[c.conv].Messages {
			if !m.Internal {
				want = append(want, m)
			}
		}
		for i := 0; i < max(len(want), len(r.frames)); i++ {
			if i >= len(want) || i >= len(r.frames) || want[i].Seq != r.frames[i].Seq || want[i].From != r.frames[i].From || want[i].Text != r.frames[i].Text {
				v.f.add(findBacklog, "customer %d, conversation %s: backlog message %d is %s, the API has %s", c.idx, c.conv, i+1, describeFrame(r.frames, i), describeNth(want, i))
				break
			}
		}
		stored := map[string][]int64{}
		for _, f := range r.frames {
			if f.From == "customer" && f.ID != "" {
				stored[f.ID] = append(stored[f.ID], f.Seq)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(stored)) {
			if seqs := stored[id]; len(seqs) > 1 {
				v.f.add(findDupID, "conversation %s: client id %q at seqs %v", c.conv, id, seqs)
			}
		}
		for _, a := range c.acks {
			if a.conv != c.conv {
				continue
			}
			switch seqs := stored[a.id]; {
			case len(seqs) == 0:
				v.f.add(findLost, "conversation %s: %q acknowledged as seq %d is not in the backlog", c.conv, a.id, a.seq)
			case seqs[0] != a.seq:
				v.f.add(findLost, "conversation %s: %q acknowledged as seq %d is in the backlog at seq %d", c.conv, a.id, a.seq, seqs[0])
			}
		}
	}
}

func describeFrame(fs []frame, i int) string {
	if i >= len(fs) {
		return "missing"
	}
	return fmt.Sprintf("seq %d %s %q", fs[i].Seq, fs[i].From, fs[i].Text)
}

func describeNth(ms []apiMessage, i int) string {
	if i >= len(ms) {
		return "nothing more"
	}
	return fmt.Sprintf("seq %d %s %q", ms[i].Seq, ms[i].From, ms[i].Text)
}

func describeMessage(m *apiMessage, seq int64) string {
	if m == nil {
		return fmt.Sprintf("no message with seq %d", seq)
	}
	note := ""
	if m.Internal {
		note = " (note)"
	}
	return fmt.Sprintf("seq %d %s%s %q", m.Seq, m.From, note, m.Text)
}

// readBacklog opens a session with the token and last_seq 0 and reads the
// message frames until seq lastSeq (5 s at most). It returns the
// conversation the welcome named.
func readBacklog(ctx context.Context, url, origin, token string, lastSeq int64) (string, []frame, error) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ws, _, err := (&websocket.Dialer{}).DialContext(dctx, url, http.Header{"Origin": {origin}})
	if err != nil {
		return "", nil, fmt.Errorf("connect: %w", err)
	}
	defer ws.Close()
	deadline, _ := dctx.Deadline()
	ws.SetWriteDeadline(deadline)
	ws.SetReadDeadline(deadline)
	if err := ws.WriteJSON(map[string]any{"type": "hello", "token": token, "last_seq": 0}); err != nil {
		return "", nil, fmt.Errorf("hello: %w", err)
	}
	var conv string
	var frames []frame
	for {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			got := int64(0)
			if len(frames) > 0 {
				got = frames[len(frames)-1].Seq
			}
			return conv, frames, fmt.Errorf("backlog stopped at seq %d, the API's transcript goes to seq %d: %w", got, lastSeq, err)
		}
		switch f.Type {
		case "welcome":
			conv = f.ConversationID
		case "message":
			frames = append(frames, f)
			if f.Seq >= lastSeq {
				return conv, frames, nil
			}
		}
	}
}

// checkPatient: a patient customer's conversation, once seen queued, is
// still queued and in the queue: nobody took it.
func (v *crashCheck) checkPatient() {
	waiting := map[string]bool{}
	for _, t := range v.queue.Tickets {
		waiting[t.ConversationID] = true
	}
	for _, c := range v.customers {
		if !c.patient {
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(c.queued)) {
			view := v.views[id]
			if view == nil {
				continue
			}
			if view.Conversation.State != "queued" || !waiting[id] {
				v.f.add(findDropped, "conversation %s (customer %d was told it is queued; no agent acted on it): state %s, %s, in the waiting queue: %v",
					id, c.idx, view.Conversation.State, describeTicket(view.Ticket), waiting[id])
			}
		}
	}
}

// checkAgent: every reply or note answered 201 is in the log at its seq,
// none is stored twice, and the agent's last answered claim, resolve or
// return (with no unanswered one after it) is in effect.
func (v *crashCheck) checkAgent() {
	last := map[string]act{}
	var acts []act
	agentID := ""
	for _, c := range v.consoles {
		// Each conversation's acts are all in one console's list, in order.
		acts = append(acts, c.acts...)
		agentID = cmp.Or(agentID, c.id)
	}
	for _, a := range acts {
		view := v.views[a.conv]
		if view == nil {
			continue
		}
		switch a.kind {
		case "reply", "note":
			n := 0
			for _, m := range view.Messages {
				if m.Text == a.text {
					n++
				}
			}
			if n > 1 {
				v.f.add(findAgentMsg, "conversation %s: %s %q stored %d times", a.conv, a.kind, a.text, n)
			}
			if a.status != http.StatusCreated {
				continue
			}
			if m := view.message(a.seq); m == nil || m.Text != a.text || m.From != "agent" || m.Internal != (a.kind == "note") {
				v.f.add(findAgentMsg, "conversation %s: %s %q answered 201 as seq %d, the log has %s", a.conv, a.kind, a.text, a.seq, describeMessage(m, a.seq))
			}
		default:
			if a.status == 0 || a.status >= 500 || a.status/100 == 2 {
				last[a.conv] = a // 4xx changed nothing
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(last)) {
		a, view := last[id], v.views[id]
		conv := view.Conversation
		switch {
		case a.status/100 != 2:
			// Unanswered: it may or may not have happened.
		case a.kind == "claim" && (conv.State != "agent" || conv.Agent != agentID):
			v.f.add(findAct, "conversation %s: claim answered %d and nothing after it, but state %s (agent %q), %s", id, a.status, conv.State, conv.Agent, describeTicket(view.Ticket))
		case a.kind != "claim" && conv.State == "agent":
			v.f.add(findAct, "conversation %s: %s answered %d and no claim after it, but state agent (%q), %s", id, a.kind, a.status, conv.Agent, describeTicket(view.Ticket))
		}
	}
}

// logStats says how much load the run produced.
func (v *crashCheck) logStats(t *testing.T) {
	var sent, acked, abandoned, limited, queued int
	frames := map[string]int{}
	for _, c := range v.customers {
		for k, n := range c.stateFrames {
			frames[k] += n
		}
		sent += len(c.sent)
		acked += len(c.acks)
		abandoned += c.abandoned
		limited += c.rateLimited
		queued += len(c.queued)
	}
	acts := map[string]int{}
	for _, c := range v.consoles {
		for _, a := range c.acts {
			acts[fmt.Sprintf("%s %d", a.kind, a.status)]++
		}
	}
	states := map[string]int{}
	for _, c := range v.views {
		states[c.Conversation.State]++
	}
	t.Logf("customers sent %d messages, %d acknowledged, %d given up after a crash, %d rate-limited; %d conversations seen queued; state frames %v",
		sent, acked, abandoned, limited, queued, frames)
	t.Logf("agent acts (kind status: count, 0 = no answer): %v", acts)
	t.Logf("conversations by final state: %v; queue: %d waiting, %d assigned", states, len(v.queue.Tickets), len(v.queue.Mine)+len(v.queue.Assigned))
}

// errorLines returns up to n ERROR lines of the server's log.
func errorLines(path string, n int) string {
	data, _ := os.ReadFile(path)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "level=ERROR") && len(out) < n {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
