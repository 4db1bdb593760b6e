package console_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
)

func TestQueueListsWaitingTicketsInOrderWithTheirCustomer(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	first := r.waitingCustomer()
	second := r.newCustomer()
	second.say("my name is Vera")
	second.Until(botSays("Nice to meet you"))
	second.say("this bot is useless")
	second.Until(stateIs("queued"))
	r.waitForTicket(second.conversation)

	q := ann.must(http.StatusOK, "GET", "/api/agent/queue", nil)
	tickets := q["tickets"].([]any)
	if len(tickets) != 2 {
		t.Fatalf("queue %v, want 2 tickets", q)
	}
	for _, key := range []string{"conversation_id", "reason", "priority", "queued_at", "customer", "team", "tier", "status", "agent", "waiting_seconds", "sla_breached"} {
		if _, ok := tickets[0].(map[string]any)[key]; !ok {
			t.Errorf("ticket has no %q: %v", key, tickets[0])
		}
	}
	// Queue order: the frustrated customer (higher priority) first.
	top := tickets[0].(map[string]any)
	if top["conversation_id"] != second.conversation || top["reason"] != "frustration" || top["priority"] != 1.0 || top["status"] != "queued" || top["can_claim"] != true {
		t.Errorf("first ticket %v, want the frustrated customer's", top)
	}
	if cust := top["customer"].(map[string]any); cust["name"] != "Vera" || cust["id"] == "" {
		t.Errorf("customer %v", cust)
	}
	if tickets[1].(map[string]any)["conversation_id"] != first.conversation {
		t.Errorf("second ticket %v", tickets[1])
	}
	if mine := q["mine"].([]any); len(mine) != 0 {
		t.Errorf("mine %v before claiming", mine)
	}

	ann.must(http.StatusOK, "POST", conversationPath(first.conversation, "claim"), nil)
	q = ann.must(http.StatusOK, "GET", "/api/agent/queue", nil)
	if len(q["tickets"].([]any)) != 1 || len(q["mine"].([]any)) != 1 || q["mine"].([]any)[0].(map[string]any)["conversation_id"] != first.conversation {
		t.Errorf("after claiming: %v", q)
	}
}

func TestClaimIsExclusive(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	bob := r.login(r.addAgent("Bob", handoff.RoleAgent))
	c := r.waitingCustomer()

	tk := ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	if tk["agent"] != ann.agent.ID || tk["status"] != "assigned" || tk["conversation_id"] != c.conversation {
		t.Errorf("claim answered %v", tk)
	}
	if status, m := bob.call("POST", conversationPath(c.conversation, "claim"), nil); status != http.StatusConflict || m["error"] == nil {
		t.Errorf("second claim: %d %v, want 409", status, m)
	}
	// Claiming one's own conversation again changes nothing.
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	c.Until(func(f map[string]any) bool {
		return f["type"] == "message" && f["from"] == "system" && strings.Contains(f["text"].(string), "Ann from our team has joined")
	})
	// A conversation with the bot is not waiting for anyone.
	other := r.newCustomer()
	if status, _ := bob.call("POST", conversationPath(other.conversation, "claim"), nil); status != http.StatusConflict {
		t.Errorf("claiming a bot conversation: %d, want 409", status)
	}
	bob.must(http.StatusNotFound, "POST", conversationPath("con_nope", "claim"), nil)
}

func TestManyAgentsClaimingAtOnceOneWins(t *testing.T) {
	r := newRig(t, manual)
	c := r.waitingCustomer()
	var clients []*agentClient
	for _, n := range []string{"Ann", "Bob", "Cid", "Dee", "Eve", "Fay"} {
		clients = append(clients, r.login(r.addAgent(n, handoff.RoleAgent)))
	}
	statuses := make([]int, len(clients))
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Go(func() {
			statuses[i], _ = cl.call("POST", conversationPath(c.conversation, "claim"), nil)
		})
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			won++
		case http.StatusConflict:
		default:
			t.Errorf("claim answered %d", s)
		}
	}
	if won != 1 {
		t.Errorf("%d claims won (%v), want exactly 1", won, statuses)
	}
}

func TestConversationShowsTheWholeStoryToWhoMayReadIt(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	bob := r.login(r.addAgent("Bob", handoff.RoleAgent))
	sue := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	c := r.waitingCustomer()
	path := conversationPath(c.conversation)

	// While it waits, any agent may read it, to decide to claim it.
	v := bob.must(http.StatusOK, "GET", path, nil)
	for _, key := range []string{"conversation", "ticket", "customer", "past_conversations", "messages", "suggestions"} {
		if v[key] == nil {
			t.Errorf("conversation view has no %q", key)
		}
	}
	var answer map[string]any
	for _, m := range v["messages"].([]any) {
		m := m.(map[string]any)
		for _, key := range []string{"seq", "from", "text", "time", "agent", "agent_name", "internal", "decision"} {
			if _, ok := m[key]; !ok {
				t.Errorf("message has no %q: %v", key, m)
			}
		}
		if d, _ := m["decision"].(map[string]any); d != nil && d["kind"] == "answer" {
			answer = d
		}
	}
	if answer == nil || answer["article_id"] != "delivery-times" || answer["confidence"].(float64) <= 0 {
		t.Errorf("the bot's answer and its decision are not in the transcript: %v", answer)
	}
	sugg := v["suggestions"].([]any)
	if len(sugg) == 0 || len(sugg) > 3 {
		t.Fatalf("suggestions %v", sugg)
	}
	if s := sugg[0].(map[string]any); s["id"] != "delivery-times" || s["title"] == "" || s["body"] == "" || s["confidence"].(float64) < 0.2 {
		t.Errorf("top suggestion %v, want the delivery article for the customer's question", s)
	}
	if cust := v["customer"].(map[string]any); cust["channels"].([]any)[0] != "web" || cust["id"] == "" {
		t.Errorf("customer %v", cust)
	}
	if tk := v["ticket"].(map[string]any); tk["reason"] != "requested" || tk["status"] != "queued" {
		t.Errorf("ticket %v", tk)
	}

	// Once Ann has it, Bob may not read it, nor write in it; a supervisor may.
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	ann.must(http.StatusOK, "GET", path, nil)
	if status, m := bob.call("GET", path, nil); status != http.StatusForbidden || m["error"] == nil {
		t.Errorf("another agent reads Ann's conversation: %d %v, want 403", status, m)
	}
	bob.must(http.StatusForbidden, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "psst", "internal": true})
	bob.must(http.StatusForbidden, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "hello"})
	bob.must(http.StatusForbidden, "POST", conversationPath(c.conversation, "resolve"), nil)
	sue.must(http.StatusOK, "GET", path, nil)
	sue.must(http.StatusCreated, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "I'm watching this one", "internal": true})
	// A supervisor still cannot speak in Ann's conversation.
	sue.must(http.StatusForbidden, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "hello"})

	// A conversation that never left the bot is nobody's to read but
	// supervisors'.
	quiet := r.newCustomer()
	bob.must(http.StatusForbidden, "GET", conversationPath(quiet.conversation), nil)
	bob.must(http.StatusNotFound, "GET", conversationPath("con_does_not_exist"), nil)
}

func TestAgentReplyReachesTheCustomerButANoteDoesNot(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	c := r.waitingCustomer()
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	c.Until(stateIs("agent"))

	note := ann.must(http.StatusCreated, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "VIP, be nice (internal)", "internal": true})
	if note["internal"] != true || note["from"] != "agent" || note["agent"] != ann.agent.ID {
		t.Errorf("note %v", note)
	}
	reply := ann.must(http.StatusCreated, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "Hi, Ann here. How can I help?"})
	if reply["internal"] != false || reply["agent_name"] != "Ann" || reply["seq"].(float64) != note["seq"].(float64)+1 {
		t.Errorf("reply %v", reply)
	}
	for _, f := range c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "agent" }) {
		if strings.Contains(f["text"].(string), "be nice") {
			t.Errorf("the customer received the internal note: %v", f)
		}
		if f["type"] == "message" && f["from"] == "agent" && (f["text"] != "Hi, Ann here. How can I help?" || f["agent"] != "Ann") {
			t.Errorf("customer got %v", f)
		}
	}
	// The note is in the agents' transcript.
	v := ann.must(http.StatusOK, "GET", conversationPath(c.conversation), nil)
	found := false
	for _, m := range v["messages"].([]any) {
		if m := m.(map[string]any); m["internal"] == true && m["text"] == "VIP, be nice (internal)" {
			found = true
		}
	}
	if !found {
		t.Error("the note is not in the agents' transcript")
	}
	// The first reply is on the ticket.
	if tk := v["ticket"].(map[string]any); tk["first_reply_at"] == nil {
		t.Errorf("ticket %v has no first reply time", tk)
	}
	// Empty and oversized messages are refused.
	ann.must(http.StatusBadRequest, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "   "})
	ann.must(http.StatusBadRequest, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": strings.Repeat("x", bot.MaxTextLen+1)})
	ann.must(http.StatusBadRequest, "POST", conversationPath(c.conversation, "messages"), map[string]any{"article_id": "no-such-article"})
}

func TestAnArticleIsSentWithOneClick(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	c := r.waitingCustomer()
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	m := ann.must(http.StatusCreated, "POST", conversationPath(c.conversation, "messages"), map[string]any{"article_id": "delivery-times"})
	if !strings.Contains(m["text"].(string), "2 to 4 working days") {
		t.Errorf("article message %v", m)
	}
	if d, _ := m["decision"].(map[string]any); d == nil || d["article_id"] != "delivery-times" {
		t.Errorf("the article sent is not recorded on the message: %v", m["decision"])
	}
	c.Until(func(f map[string]any) bool {
		return f["type"] == "message" && f["from"] == "agent" && strings.Contains(f["text"].(string), "working days")
	})
}

func TestTheBotStaysSilentWhileAnAgentHasTheConversation(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	c := r.waitingCustomer()
	ctx := context.Background()

	// Waiting in the queue: the bot does not answer questions.
	c.say("how do I return an item")
	c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "customer" })
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	c.say("how long does delivery take")
	c.Until(func(f map[string]any) bool {
		return f["type"] == "message" && f["from"] == "customer" && f["text"] == "how long does delivery take"
	})
	// The agent's message takes the conversation's turn lock after any bot
	// reply to the question would have been stored: if the bot spoke, it
	// would come between the two.
	ann.must(http.StatusCreated, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "Let me check that for you."})

	ms, err := r.db.Messages(ctx, c.conversation, 0)
	if err != nil {
		t.Fatal(err)
	}
	queued := false
	for _, m := range ms {
		if m.From == bot.FromBot && m.Decision != nil && m.Decision.Kind == "handoff" {
			queued = true
			continue
		}
		if queued && m.From == bot.FromBot {
			t.Errorf("the bot spoke after the hand-off: %q", m.Text)
		}
	}
	if last := ms[len(ms)-1]; last.From != bot.FromAgent {
		t.Errorf("last message %+v, want the agent's", last)
	}
}

func TestResolveSendsTheSurveyAndTheBotAnswersAgain(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	c := r.waitingCustomer()
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	ann.must(http.StatusCreated, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "Your parcel ships tomorrow."})

	tk := ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "resolve"), nil)
	if tk["status"] != "resolved" {
		t.Errorf("resolve answered %v", tk)
	}
	var survey map[string]any
	for _, f := range c.Until(botSays("How would you rate")) {
		if f["type"] == "message" && f["from"] == "bot" {
			survey = f
		}
	}
	if qr, _ := survey["quick_replies"].([]any); len(qr) != 5 {
		t.Errorf("survey %v, want five ratings", survey)
	}
	c.choose("5 - excellent", "survey:5")
	c.Until(botSays("Thank you for your rating"))
	c.say("what are your opening hours")
	c.Until(botSays("Monday to Friday"))

	conv, err := r.db.Conversation(context.Background(), c.conversation)
	if err != nil {
		t.Fatal(err)
	}
	if conv.State != bot.StateBot || conv.Rating != 5 {
		t.Errorf("conversation %s rated %d, want bot and 5", conv.State, conv.Rating)
	}
	// Resolved means out of the queue and out of Ann's list: no loop.
	q := ann.must(http.StatusOK, "GET", "/api/agent/queue", nil)
	if len(q["tickets"].([]any)) != 0 || len(q["mine"].([]any)) != 0 {
		t.Errorf("queue after resolving %v", q)
	}
	ann.must(http.StatusConflict, "POST", conversationPath(c.conversation, "resolve"), nil)
}

func TestReturnToBot(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	c := r.waitingCustomer()
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	tk := ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "return-to-bot"), nil)
	if tk["status"] != "returned" {
		t.Errorf("return answered %v", tk)
	}
	for _, f := range c.Until(stateIs("bot")) {
		if f["type"] == "message" && strings.Contains(f["text"].(string), "rate") {
			t.Errorf("return to bot sent a survey: %v", f)
		}
	}
	c.say("what are your opening hours")
	c.Until(botSays("Monday to Friday"))
	ann.must(http.StatusForbidden, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "still there?"})
}

func TestTransferToAnAgentOrATeam(t *testing.T) {
	r := newRig(t, manual)
	ctx := context.Background()
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	bobAgent := r.addAgent("Bob", handoff.RoleAgent, "billing")
	bob := r.login(bobAgent)
	c := r.waitingCustomer()
	path := conversationPath(c.conversation, "transfer")
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)

	ann.must(http.StatusBadRequest, "POST", path, map[string]any{})
	ann.must(http.StatusBadRequest, "POST", path, map[string]any{"agent_id": bobAgent.ID, "team": "billing"})
	ann.must(http.StatusBadRequest, "POST", path, map[string]any{"agent_id": "agt_nobody"})
	ann.must(http.StatusBadRequest, "POST", path, map[string]any{"team": "no-such-team"})
	// Bob is offline: the conversation stays with Ann.
	if status, m := ann.call("POST", path, map[string]any{"agent_id": bobAgent.ID}); status != http.StatusConflict {
		t.Errorf("transfer to an offline agent: %d %v, want 409", status, m)
	}
	bob.must(http.StatusOK, "POST", "/api/agent/presence", map[string]any{"presence": "online"})
	tk := ann.must(http.StatusOK, "POST", path, map[string]any{"agent_id": bobAgent.ID})
	if tk["agent"] != bobAgent.ID || tk["agent_name"] != "Bob" {
		t.Errorf("transfer answered %v", tk)
	}
	c.Until(func(f map[string]any) bool {
		return f["type"] == "message" && strings.Contains(f["text"].(string), "Bob from our team has taken over")
	})
	ann.must(http.StatusForbidden, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "me again"})
	ann.must(http.StatusForbidden, "GET", conversationPath(c.conversation), nil)
	bob.must(http.StatusCreated, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "Bob here."})

	// To a team: back to the queue, for that team.
	tk = bob.must(http.StatusOK, "POST", path, map[string]any{"team": "delivery"})
	if tk["status"] != "queued" || tk["team"] != "delivery" || tk["agent"] != "" {
		t.Errorf("transfer to a team answered %v", tk)
	}
	conv, _ := r.db.Conversation(ctx, c.conversation)
	if conv.State != bot.StateQueued {
		t.Errorf("conversation %s after a team transfer, want queued", conv.State)
	}
	// Another agent may not move a conversation it does not have.
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	bob.must(http.StatusForbidden, "POST", path, map[string]any{"team": "billing"})
}

func TestEscalateGoesToSupervisors(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	bob := r.login(r.addAgent("Bob", handoff.RoleAgent))
	sue := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	c := r.waitingCustomer()
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	tk := ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "escalate"), nil)
	if tk["tier"] != 2.0 || tk["status"] != "queued" || tk["escalated"] != true {
		t.Errorf("escalate answered %v", tk)
	}
	q := bob.must(http.StatusOK, "GET", "/api/agent/queue", nil)
	if ts := q["tickets"].([]any); len(ts) != 1 || ts[0].(map[string]any)["can_claim"] != false {
		t.Errorf("an agent's queue after escalation %v, want the ticket, not claimable", q)
	}
	bob.must(http.StatusForbidden, "POST", conversationPath(c.conversation, "claim"), nil)
	sue.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	sue.must(http.StatusCreated, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "Sue, team lead, here."})
}

func TestCustomerSegmentAndDedicatedAgent(t *testing.T) {
	r := newRig(t, manual)
	annAgent := r.addAgent("Ann", handoff.RoleAgent)
	ann := r.login(annAgent)
	bob := r.login(r.addAgent("Bob", handoff.RoleAgent))
	sue := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	c := r.waitingCustomer()
	v := ann.must(http.StatusOK, "GET", conversationPath(c.conversation), nil)
	custID := v["customer"].(map[string]any)["id"].(string)
	path := "/api/agent/customers/" + custID

	// Before claiming, an agent may not change the customer.
	ann.must(http.StatusForbidden, "POST", path, map[string]any{"segment": "vip"})
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	cust := ann.must(http.StatusOK, "POST", path, map[string]any{"segment": "VIP", "dedicated_agent": annAgent.ID})
	if cust["segment"] != "vip" || cust["dedicated_agent"] != annAgent.ID || cust["dedicated_agent_name"] != "Ann" {
		t.Errorf("customer %v", cust)
	}
	stored, err := r.db.Customer(context.Background(), custID)
	if err != nil || stored.Segment != "vip" || stored.DedicatedAgent != annAgent.ID {
		t.Errorf("stored customer %+v, %v", stored, err)
	}
	bob.must(http.StatusForbidden, "POST", path, map[string]any{"segment": "standard"})
	ann.must(http.StatusBadRequest, "POST", path, map[string]any{"segment": "<b>vip</b>"})
	ann.must(http.StatusBadRequest, "POST", path, map[string]any{"dedicated_agent": "agt_nobody"})
	ann.must(http.StatusBadRequest, "POST", path, map[string]any{})
	ann.must(http.StatusNotFound, "POST", "/api/agent/customers/cus_nobody", map[string]any{"segment": "vip"})
	// Only the segment changes when only it is given; "" clears.
	cust = sue.must(http.StatusOK, "POST", path, map[string]any{"segment": ""})
	if cust["segment"] != "" || cust["dedicated_agent"] != annAgent.ID {
		t.Errorf("after clearing the segment %v", cust)
	}
}

func TestDashboardIsForSupervisors(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	sue := r.login(r.addAgent("Sue", handoff.RoleSupervisor))
	r.waitingCustomer()
	ann.must(http.StatusOK, "POST", "/api/agent/presence", map[string]any{"presence": "away"})

	if status, m := ann.call("GET", "/api/agent/dashboard", nil); status != http.StatusForbidden || m["error"] == nil {
		t.Errorf("agent dashboard: %d %v, want 403", status, m)
	}
	d := sue.must(http.StatusOK, "GET", "/api/agent/dashboard", nil)
	if d["queue_length"] != 1.0 || d["agents_away"] != 1.0 || d["agents_online"] != 0.0 || d["assigned"] != 0.0 || len(d["agents"].([]any)) != 2 {
		t.Errorf("dashboard %v", d)
	}
	if _, ok := d["longest_wait_seconds"]; !ok {
		t.Errorf("dashboard has no longest wait: %v", d)
	}
	if _, ok := d["sla_breaches"]; !ok {
		t.Errorf("dashboard has no SLA breaches: %v", d)
	}
	// Supervisors also see the other agents' conversations in the queue.
	c := r.waitingCustomer()
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	q := sue.must(http.StatusOK, "GET", "/api/agent/queue", nil)
	if as, _ := q["assigned"].([]any); len(as) != 1 {
		t.Errorf("supervisor's queue %v, want Ann's conversation under assigned", q)
	}
	if _, ok := ann.must(http.StatusOK, "GET", "/api/agent/queue", nil)["assigned"]; ok {
		t.Error("a plain agent sees the other agents' conversations")
	}
}

func TestAgentsCannedAndArticles(t *testing.T) {
	r := newRig(t, manual)
	annAgent := r.addAgent("Ann", handoff.RoleAgent, "billing")
	ann := r.login(annAgent)
	ann.must(http.StatusOK, "POST", "/api/agent/presence", map[string]any{"presence": "online"})
	ann.must(http.StatusBadRequest, "POST", "/api/agent/presence", map[string]any{"presence": "asleep"})

	as := ann.must(http.StatusOK, "GET", "/api/agent/agents", nil)
	list := as["agents"].([]any)
	if len(list) != 1 {
		t.Fatalf("agents %v", as)
	}
	if a := list[0].(map[string]any); a["id"] != annAgent.ID || a["presence"] != "online" || a["load"] != 0.0 {
		t.Errorf("agent %v", a)
	}
	if teams := as["teams"].([]any); len(teams) != 2 || teams[0] != "billing" || teams[1] != "delivery" {
		t.Errorf("teams %v", teams)
	}
	canned := ann.must(http.StatusOK, "GET", "/api/agent/canned", nil)["canned"].([]any)
	if len(canned) != 1 || canned[0].(map[string]any)["title"] != "Greeting" {
		t.Errorf("canned %v", canned)
	}
	arts := ann.must(http.StatusOK, "GET", "/api/agent/articles?q=where+is+my+parcel", nil)
	if a := arts["articles"].([]any); len(a) == 0 || a[0].(map[string]any)["id"] != "track-order" {
		t.Errorf("articles %v", arts)
	}
	ann.must(http.StatusBadRequest, "GET", "/api/agent/articles?q=", nil)
}

func TestPastConversationsAreShown(t *testing.T) {
	r := newRig(t, manual)
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	ctx := context.Background()
	c := r.waitingCustomer()
	// An older conversation of the same customer, closed.
	conv, err := r.db.Conversation(ctx, c.conversation)
	if err != nil {
		t.Fatal(err)
	}
	old := &bot.Conversation{ID: "con_old", CustomerID: conv.CustomerID, Channel: bot.Web, State: bot.StateClosed,
		Created: time.Now().Add(-48 * time.Hour), Updated: time.Now().Add(-47 * time.Hour)}
	if err := r.db.SaveConversation(ctx, old); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"one", "two", "three", "four"} {
		if _, _, err := r.db.Append(ctx, bot.Message{ConversationID: old.ID, From: bot.FromCustomer, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	v := ann.must(http.StatusOK, "GET", conversationPath(c.conversation), nil)
	past := v["past_conversations"].([]any)
	if len(past) != 1 {
		t.Fatalf("past %v", past)
	}
	p := past[0].(map[string]any)
	last := p["last_messages"].([]any)
	if p["id"] != "con_old" || p["state"] != "closed" || p["message_count"] != 4.0 || len(last) != 3 || last[2].(map[string]any)["text"] != "four" {
		t.Errorf("past conversation %v", p)
	}
	// The agent looking after the customer may open it.
	ann.must(http.StatusOK, "GET", conversationPath("con_old"), nil)
}

func TestEveryAPIErrorCarriesACode(t *testing.T) {
	r := newRig(t, handoff.Options{})
	ann := r.login(r.addAgent("Ann", handoff.RoleAgent))
	bob := r.login(r.addAgent("Bob", handoff.RoleAgent))
	c := r.waitingCustomer()
	ann.must(http.StatusOK, "POST", conversationPath(c.conversation, "claim"), nil)
	cases := []struct {
		name   string
		client *agentClient
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"no session", r.anon(), "GET", "/api/agent/queue", nil, http.StatusUnauthorized, "unauthorized"},
		{"no such conversation", ann, "GET", "/api/agent/conversations/con_nope", nil, http.StatusNotFound, "not_found"},
		{"claimed by another", bob, "POST", conversationPath(c.conversation, "claim"), nil, http.StatusConflict, "conflict"},
		{"reply without owning", bob, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": "hi"}, http.StatusForbidden, "forbidden"},
		{"empty reply", ann, "POST", conversationPath(c.conversation, "messages"), map[string]any{"text": " "}, http.StatusBadRequest, "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, m := tc.client.call(tc.method, tc.path, tc.body)
			if status != tc.status || m["code"] != tc.code || m["error"] == nil || m["message"] != m["error"] {
				t.Errorf("%s %s: %d %v; want %d with code %q", tc.method, tc.path, status, m, tc.status, tc.code)
			}
		})
	}
}
