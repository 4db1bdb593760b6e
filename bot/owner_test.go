package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/kb"
)

// queueRig is an engine wired to the real agent queue, with one agent.
type queueRig struct {
	*rig
	queue *handoff.Queue
	agent *handoff.Agent
}

func newQueueRig(t *testing.T, online bool) *queueRig {
	t.Helper()
	r := newRig(t, kb.Thresholds{})
	agents := handoff.NewAgents(r.db, handoff.AgentsOptions{PasswordCost: bcrypt.MinCost})
	a, err := agents.Add(context.Background(), handoff.NewAgent{Name: "Ana", Email: "ana@example.com", Role: handoff.RoleAgent, Password: "a long password"})
	if err != nil {
		t.Fatal(err)
	}
	r.engine = bot.NewEngine(shopKB(t, kb.Thresholds{}), r.db, bot.NewBus(), bot.Options{
		Now: r.clock.Now,
		AgentName: func(id string) string {
			if a, err := agents.Agent(context.Background(), id); err == nil {
				return a.Name
			}
			return ""
		},
	})
	q := handoff.NewQueue(r.db, r.engine, handoff.Options{Now: r.clock.Now})
	r.engine.SetHandoff(q)
	if online {
		if err := q.Heartbeat(context.Background(), a.ID, handoff.PresenceOnline); err != nil {
			t.Fatal(err)
		}
	}
	return &queueRig{rig: r, queue: q, agent: a}
}

func texts(ms []bot.Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.From)+": "+m.Text)
	}
	return strings.Join(out, "\n")
}

func TestAHandOffReachesAnOnlineAgentWhoAloneMaySpeak(t *testing.T) {
	r := newQueueRig(t, true)
	ctx := context.Background()
	s := r.start("v")
	replies := r.say(s.Conversation.ID, "can I talk to a real person")
	// Routing offers the conversation to Ana; until she accepts it, it
	// waits and nobody is said to have joined.
	c := r.conv(s.Conversation.ID)
	if c.State != bot.StateQueued || strings.Contains(texts(replies), "has joined") {
		t.Fatalf("conversation %s owned by %q before the agent accepted; bot said:\n%s", c.State, c.Agent, texts(replies))
	}
	if tk, err := r.queue.Ticket(ctx, s.Conversation.ID); err != nil || tk.Agent != r.agent.ID || !tk.Offered {
		t.Fatalf("ticket %+v, %v: want it offered to the online agent", tk, err)
	}
	if _, err := r.queue.Claim(ctx, s.Conversation.ID, r.agent.ID); err != nil {
		t.Fatal(err)
	}
	c = r.conv(s.Conversation.ID)
	if c.State != bot.StateAgent || c.Agent != r.agent.ID {
		t.Fatalf("conversation %s owned by %q, want the agent who accepted", c.State, c.Agent)
	}
	ms, _ := r.db.Messages(ctx, s.Conversation.ID, 0)
	if !strings.Contains(texts(ms), "Ana from our team has joined") {
		t.Errorf("the customer was not told who joined:\n%s", texts(ms))
	}
	if replies := r.say(s.Conversation.ID, "how do I return a lamp"); len(replies) != 0 {
		t.Errorf("the bot answered while the agent owns the conversation:\n%s", texts(replies))
	}
	if _, err := r.engine.AgentSay(ctx, s.Conversation.ID, "agt_someone_else", "hi", false); !errors.Is(err, bot.ErrNotOwner) {
		t.Errorf("another agent replied: err %v, want ErrNotOwner", err)
	}
	if _, err := r.engine.AgentSay(ctx, s.Conversation.ID, r.agent.ID, "Hello, I can help with the return.", false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.engine.AgentSay(ctx, s.Conversation.ID, "agt_supervisor", "check the order first", true); err != nil {
		t.Fatalf("a private note: %v", err)
	}
	seen, _ := r.engine.Messages(ctx, s.Conversation.ID, 0)
	all, _ := r.db.Messages(ctx, s.Conversation.ID, 0)
	if len(all) != len(seen)+1 || strings.Contains(texts(seen), "check the order first") {
		t.Errorf("the customer can see the private note:\n%s", texts(seen))
	}
	if last := seen[len(seen)-1]; last.From != bot.FromAgent || last.AgentName != "Ana" {
		t.Errorf("agent reply %+v, want from agent Ana", last)
	}
}

func TestResolveSurveyThenTheBotAnswersAgain(t *testing.T) {
	r := newQueueRig(t, true)
	ctx := context.Background()
	s := r.start("v")
	r.say(s.Conversation.ID, "human please")
	if _, err := r.queue.Resolve(ctx, s.Conversation.ID, r.agent.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.engine.Survey(ctx, s.Conversation.ID); err != nil {
		t.Fatal(err)
	}
	c := r.conv(s.Conversation.ID)
	if c.State != bot.StateBot {
		t.Fatalf("after resolve the conversation is %s, want bot", c.State)
	}
	ms, _ := r.db.Messages(ctx, s.Conversation.ID, c.LastSeq-1)
	if p := payloads(ms[len(ms)-1]); len(p) != 5 || p[4] != "survey:5" {
		t.Fatalf("survey offers %v, want ratings 1-5", p)
	}
	r.choose(s.Conversation.ID, "survey:4")
	r.choose(s.Conversation.ID, bot.PayloadSurveyComment)
	r.say(s.Conversation.ID, "quick and friendly")
	c = r.conv(s.Conversation.ID)
	if c.Rating != 4 || c.RatingComment != "quick and friendly" {
		t.Errorf("rating %d %q, want 4 and the comment", c.Rating, c.RatingComment)
	}
	replies := r.say(s.Conversation.ID, "how do I return a lamp")
	if len(replies) == 0 || replies[0].Decision == nil || replies[0].Decision.ArticleID != "return-item" {
		t.Errorf("after the survey the bot did not answer:\n%s", texts(replies))
	}
	if c := r.conv(s.Conversation.ID); c.State != bot.StateBot {
		t.Errorf("the conversation bounced back to %s", c.State)
	}
}

func TestANewQuestionIsNotTakenForASurveyComment(t *testing.T) {
	r := newQueueRig(t, true)
	ctx := context.Background()
	s := r.start("v")
	r.say(s.Conversation.ID, "human please")
	r.queue.Resolve(ctx, s.Conversation.ID, r.agent.ID)
	r.engine.Survey(ctx, s.Conversation.ID)
	r.choose(s.Conversation.ID, "survey:2")
	replies := r.say(s.Conversation.ID, "how long does delivery take")
	if len(replies) == 0 || replies[0].Decision == nil || replies[0].Decision.ArticleID != "delivery-times" {
		t.Errorf("a question after rating was not answered:\n%s", texts(replies))
	}
	if c := r.conv(s.Conversation.ID); c.Rating != 2 || c.RatingComment != "" {
		t.Errorf("rating %d comment %q", c.Rating, c.RatingComment)
	}
}

func TestReturnToBotTellsTheCustomer(t *testing.T) {
	r := newQueueRig(t, true)
	conv, ms := r.closed(r.queue.ReturnToBot)
	if !strings.Contains(texts(ms), "back with the virtual assistant") || r.conv(conv).State != bot.StateBot {
		t.Errorf("after return to bot: %s\n%s", r.conv(conv).State, texts(ms))
	}
}

// refusingQueue is a hand-off whose ticket cannot be written, as on a
// broken disk: it fails inside the turn's act.
type refusingQueue struct{}

func (refusingQueue) HandOff(*bot.Act, *bot.Customer) error {
	return errors.New("ticket store unavailable")
}

func TestAFailedHandOffStoresNothingOfTheTurn(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	ctx := context.Background()
	s := r.start("v")
	before := *r.conv(s.Conversation.ID)
	r.engine.SetHandoff(refusingQueue{})
	_, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, ClientID: "m1", Text: "agent please"})
	if err == nil {
		t.Fatal("a turn whose hand-off failed was reported stored")
	}
	after := r.conv(s.Conversation.ID)
	if after.State != bot.StateBot || after.LastSeq != before.LastSeq || after.Rev != before.Rev {
		t.Errorf("half a turn was stored: state %s, last seq %d (was %d), rev %d (was %d)", after.State, after.LastSeq, before.LastSeq, after.Rev, before.Rev)
	}
	// The message was not acknowledged, so the client sends it again; with
	// the queue back, the same id is handled once, whole.
	r.engine.SetHandoff(r.queue)
	m, err := r.engine.Handle(ctx, bot.Inbound{ConversationID: s.Conversation.ID, ClientID: "m1", Text: "agent please"})
	if err != nil || m.Seq != before.LastSeq+1 {
		t.Fatalf("retry: seq %d, %v; want %d", m.Seq, err, before.LastSeq+1)
	}
	if c := r.conv(s.Conversation.ID); c.State != bot.StateQueued || len(r.queue.convs) != 1 {
		t.Errorf("after the retry: state %s, %d hand-offs; want queued, 1", c.State, len(r.queue.convs))
	}
}

func TestAnEmailInTheConversationIsKeptEvenWhileWaiting(t *testing.T) {
	r := newQueueRig(t, false)
	ctx := context.Background()
	s := r.start("v")
	replies := r.say(s.Conversation.ID, "my email is ana@example.com")
	if len(replies) != 1 || !strings.Contains(replies[0].Text, "ana@example.com") {
		t.Errorf("bot said:\n%s", texts(replies))
	}
	r.say(s.Conversation.ID, "talk to a human")
	r.say(s.Conversation.ID, "Please write to ana.b@example.org instead, my lamp is broken")
	c, err := r.db.Customer(ctx, s.Customer.ID)
	if err != nil || c.Email != "ana.b@example.org" {
		t.Errorf("customer email %q, %v; want the address left while waiting", c.Email, err)
	}
	// A question that mentions an address is still a question.
	r2 := newQueueRig(t, false)
	s2 := r2.start("w")
	replies = r2.say(s2.Conversation.ID, "i forgot my password for bo@example.com")
	if len(replies) == 0 || replies[0].Decision == nil || replies[0].Decision.Kind != "answer" {
		t.Errorf("a question with an address was not answered:\n%s", texts(replies))
	}
}

func TestAQuestionAskedAgainAfterAResolveIsAnsweredNotHandedOff(t *testing.T) {
	r := newQueueRig(t, true)
	ctx := context.Background()
	s := r.start("v")
	r.say(s.Conversation.ID, "my parcel has not arrived")
	r.say(s.Conversation.ID, "human please")
	if _, err := r.queue.Resolve(ctx, s.Conversation.ID, r.agent.ID); err != nil {
		t.Fatal(err)
	}
	replies := r.say(s.Conversation.ID, "my parcel has not arrived")
	if c := r.conv(s.Conversation.ID); c.State != bot.StateBot {
		t.Errorf("asking again after a resolve handed off (%s):\n%s", c.State, texts(replies))
	}
	// Within the bot's own stretch, the same question again still is.
	r.say(s.Conversation.ID, "my parcel has not arrived")
	if c := r.conv(s.Conversation.ID); c.State == bot.StateBot || c.HandoffReason != "frustration" {
		t.Errorf("a repeated question in the bot's stretch: state %s reason %q", c.State, c.HandoffReason)
	}
}

// A queue notice the customer's transcript already ends with is not said
// twice in a row (an offer withdrawn from an agent who went offline puts
// the customer back in the queue with the same notice); said again after
// something else, it is.
func TestANoticeIsNotRepeatedBackToBack(t *testing.T) {
	r := newRig(t, kb.Thresholds{})
	ctx := context.Background()
	s := r.start("v-notice")
	r.say(s.Conversation.ID, "hello")
	const away = "Nobody from our team is online at this moment."
	first, err := r.engine.Notice(ctx, s.Conversation.ID, away)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.engine.Notice(ctx, s.Conversation.ID, away)
	if err != nil {
		t.Fatal(err)
	}
	if again.Seq != first.Seq {
		t.Errorf("the repeated notice was stored again at seq %d (first at %d)", again.Seq, first.Seq)
	}
	if _, err := r.engine.Notice(ctx, s.Conversation.ID, "You're next in the queue."); err != nil {
		t.Fatal(err)
	}
	if _, err := r.engine.Notice(ctx, s.Conversation.ID, away); err != nil {
		t.Fatal(err)
	}
	ms, err := r.db.Messages(ctx, s.Conversation.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(texts(ms), "system: "+away)
	if n != 2 {
		t.Errorf("the notice is in the transcript %d times, want 2 (once, then again after another notice):\n%s", n, texts(ms))
	}
}
