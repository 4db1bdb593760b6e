package llm_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/openaitest"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/llm"
	"github.com/frontdesk/frontdesk/store/bolt"
)

// observed records what a Client reports to its Observer.
type observed struct {
	mu    sync.Mutex
	calls []string
}

func (o *observed) ObserveLLM(call, outcome string, prompt, completion int, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("%s/%s/%d/%d", call, outcome, prompt, completion))
}

// rig is an engine with a real store and knowledge base whose answers
// are worded by a Client talking to a model.
type rig struct {
	t      *testing.T
	engine *bot.Engine
	bus    *bot.LocalBus
	db     *bolt.DB
	model  *openaitest.Server
	client *llm.Client
	kb     *kb.KB
}

// shop is the test knowledge base, with extra articles.
func shop(t *testing.T, extra map[string]string) fs.FS {
	t.Helper()
	dir := "../kb/testdata/shop"
	files := fstest.MapFS{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = &fstest.MapFile{Data: b}
	}
	for name, text := range extra {
		files[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return files
}

func newRig(t *testing.T, o llm.Options, script func(openaitest.Request) openaitest.Reply) *rig {
	return newRigWith(t, o, nil, script)
}

func newRigWith(t *testing.T, o llm.Options, extra map[string]string, script func(openaitest.Request) openaitest.Reply) *rig {
	t.Helper()
	c, err := kb.Load(shop(t, extra))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kb.Build(context.Background(), c, kb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	db, err := bolt.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m := openaitest.New(t, script)
	if o.BaseURL == "" {
		o.BaseURL = m.URL()
	}
	if o.Model == "" {
		o.Model = "test-model"
	}
	client, err := llm.New(o)
	if err != nil {
		t.Fatal(err)
	}
	bus := bot.NewBus()
	e := bot.NewEngine(k, db, bus, bot.Options{Composer: client})
	return &rig{t: t, engine: e, bus: bus, db: db, model: m, client: client, kb: k}
}

// start opens a conversation on the channel.
func (r *rig) start(ch bot.Channel, who string) string {
	r.t.Helper()
	s, err := r.engine.Start(context.Background(), bot.Identity{Channel: ch, ID: who}, bot.Profile{})
	if err != nil {
		r.t.Fatal(err)
	}
	return s.Conversation.ID
}

var clientSeq int

// say sends a customer message and returns the bot's replies to it.
func (r *rig) say(conv, text string) []bot.Message {
	r.t.Helper()
	clientSeq++
	m, err := r.engine.Handle(context.Background(), bot.Inbound{ConversationID: conv, ClientID: fmt.Sprintf("c%d", clientSeq), Text: text})
	if err != nil {
		r.t.Fatal(err)
	}
	ms, err := r.db.Messages(context.Background(), conv, m.Seq)
	if err != nil {
		r.t.Fatal(err)
	}
	return ms
}

func (r *rig) article(id string) string {
	r.t.Helper()
	a, ok := r.kb.Article(id)
	if !ok {
		r.t.Fatalf("no article %s", id)
	}
	return a.Body
}

// answerTo scripts a model that always answers text.
func answerTo(text string) func(openaitest.Request) openaitest.Reply {
	return func(openaitest.Request) openaitest.Reply { return openaitest.Reply{Text: text} }
}
