package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	customerapi "github.com/frontdesk/frontdesk/adapters/api"
	"github.com/frontdesk/frontdesk/adapters/console"
	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/content"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/insights"
	"github.com/frontdesk/frontdesk/internal/leader"
	"github.com/frontdesk/frontdesk/kb"
	"github.com/frontdesk/frontdesk/metrics"
)

func serveSettings(fs *flag.FlagSet) *settings {
	s := newSettings(fs)
	s.add("config", "", "YAML config `file`")
	s.add("addr", ":8080", "listen address")
	s.add("metrics-addr", "", "private listen address for /metrics and /debug/pprof/ (default: /metrics on --addr, no profiler)")
	s.add("data-dir", "data", "data directory (customer database, stored index)")
	s.add("store", "", "where customers, conversations and the queue are kept: empty for the bbolt file in --data-dir; or a postgres:// URL to keep them in PostgreSQL, shared by several nodes (see docs/cluster.md)")
	s.add("content", "", "content directory (default: the embedded demo knowledge base)")
	s.add("allowed-origins", "", "comma-separated sites (https://shop.example) that may embed the widget, besides this server's own origin; * allows any")
	s.addBool("trust-proxy", "take web visitors' addresses, for the per-address limits, from the last X-Forwarded-For entry (only behind a reverse proxy that sets it)")
	s.add("limit-exempt", "", "comma-separated addresses or prefixes (127.0.0.1, 10.0.0.0/8) exempt from the web chat's per-address limits, e.g. to run bench from this machine")
	s.add("answer-threshold", fmt.Sprint(kb.DefaultThresholds.Answer), "answer at this confidence or above")
	s.add("clarify-threshold", fmt.Sprint(kb.DefaultThresholds.Clarify), "offer candidates at this confidence or above")
	s.add("human-phrases", strings.Join(bot.DefaultHumanPhrases, ","), "comma-separated phrases that ask for a person")
	s.add("greeting", "", "first message to a new customer (default: a built-in greeting)")
	s.add("visit-gap", "30m", "how long a customer must be away to be welcomed back as a new visit")
	s.add("log-level", "info", "log level: debug, info, warn, error")
	s.add("log-format", "text", "log format: text (key=value lines) or json (one object a line)")
	s.add("business-hours", "", `when people answer, e.g. "mon-fri 09:00-17:00; sat 10:00-14:00" (default: always)`)
	s.add("holidays", "", "comma-separated dates (2026-12-25) when nobody answers")
	s.add("timezone", "UTC", "IANA time zone of the business hours, e.g. Europe/Berlin")
	s.add("teams", "", "comma-separated tag=team pairs routing topics to teams, e.g. warranty=repairs,invoice=billing")
	s.add("manual-assign", "false", "true: agents claim conversations by hand instead of automatic routing")
	s.add("followup-delay", "0", `ask "Did that solve it?" this long after a person resolved a conversation (in business hours; Telegram at once, the web on the next visit), e.g. 24h; 0 turns it off`)
	s.add("sla", "", "comma-separated priority=duration waits before escalation, e.g. 0=5m,1=2m,2=1m (default as shown)")
	httpSettings(s)
	s.addBool("demo-login", "the demo shop page offers \"log in as a demo customer\" (the demo customer's identity, signed by this server): for trying Frontdesk, never on a shop's real site")
	s.add("identity-secret", "", "secret that verifies the shop's signed customer identities (user_hash; make one with \"frontdesk identity secret\"); without it no identity is verified")
	s.add("retention", "0", "delete conversations nobody touched for this long (not those with people), and customers then left without any, e.g. 365d or 8760h; 0 keeps everything")
	telegramSettings(s)
	webhookSettings(s)
	llmSettings(s)
	return s
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("serve", serveUsage, stderr)
	cfg := serveSettings(fset)
	pos, err := cfg.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", pos)}
	}
	if err := checkStore(cfg.get("store")); err != nil {
		return err
	}
	log, err := newLogger(stderr, cfg.get("log-format"), cfg.get("log-level"))
	if err != nil {
		return err
	}
	tuneGC()
	limits, err := readHTTPLimits(cfg)
	if err != nil {
		return err
	}
	var th kb.Thresholds
	if th.Answer, err = cfg.float("answer-threshold"); err != nil {
		return err
	}
	if th.Clarify, err = cfg.float("clarify-threshold"); err != nil {
		return err
	}
	if err := th.Validate(); err != nil {
		return usageError{err.Error()}
	}
	visitGap, err := time.ParseDuration(cfg.get("visit-gap"))
	if err != nil || visitGap <= 0 {
		return usageError{fmt.Sprintf("visit-gap: %q is not a positive duration such as 30m", cfg.get("visit-gap"))}
	}
	keep, err := parseRetention(cfg.get("retention"))
	if err != nil {
		return err
	}
	webOpts, err := webOptions(cfg)
	if err != nil {
		return err
	}
	qopts, err := queueOptions(cfg)
	if err != nil {
		return err
	}
	kf := kbFlags{contentDir: cfg.get("content")}
	c, err := kf.readContent()
	if err != nil {
		return err
	}
	for _, p := range c.Problems {
		log.Warn("content problem", "file", p.File, "line", p.Line, "problem", p.Msg)
	}
	if len(c.Articles) == 0 {
		return errors.New("content has no usable articles")
	}
	// Metrics and the model come before the knowledge base, whose build
	// can take seconds: a mistake in the model's settings is told at once.
	var live *kb.Live
	m := metrics.New(metrics.Options{ArticleCount: func() int {
		if live == nil {
			return 0
		}
		return len(live.Articles())
	}, Log: log})
	defer m.Close()
	composer, err := openLLM(cfg, m, log)
	if err != nil {
		return err
	}
	dataDir := cfg.get("data-dir")
	// The lock comes first: the search index and the database below would
	// otherwise wait on another serve's locks.
	lock, err := lockDataDir(dataDir, "serve")
	if err != nil {
		return err
	}
	defer lock.Release()
	rr, err := openReranker(cfg, composer, dataDir, m.ObserveRerank, log)
	if err != nil {
		return err
	}
	// The store before the knowledge base's build: a database that cannot
	// be reached is told at once.
	be, err := openBackend(ctx, cfg.get("store"), dataDir, m, log)
	if err != nil {
		return err
	}
	defer be.close()
	db, files, bus := be.db, be.files, be.bus
	if be.share != nil && kf.contentDir != "" {
		// Articles edited in a console of the cluster while this node
		// was away, before the knowledge base is built from the files.
		n, err := syncContentOnce(ctx, kf.contentDir, be.share, log)
		if err != nil {
			return fmt.Errorf("content sync with the other nodes: %w", err)
		}
		if n > 0 {
			if c, err = kf.readContent(); err != nil {
				return err
			}
		}
	}
	start := time.Now()
	k, err := kb.Open(ctx, filepath.Join(dataDir, "kb"), c, kb.Options{Thresholds: th, Reranker: rr, Progress: func(stage string, done, total int) {
		if total == 0 {
			log.Warn(stage)
		}
	}})
	if err != nil {
		return fmt.Errorf("open knowledge base: %w", err)
	}
	// live serves the knowledge base and, with --content, follows the
	// directory (live.go); it owns k.
	live = kb.NewLive(k, c, kb.Options{Thresholds: th, Reranker: rr})
	defer live.Close()
	log.Info("knowledge base ready", "articles", len(k.Articles()), "reused", k.Reused, "seconds", time.Since(start).Seconds())
	if rr != nil {
		st := rr.Stats()
		log.Info("re-ranking with embeddings", "texts", st.Texts, "cached", st.Cached, "embedded", st.Embedded, "requests", st.Requests)
	}

	var botComposer bot.Composer
	if composer != nil {
		botComposer = composer
	}

	qopts.Log = log
	qopts.Relay, qopts.Presence = be.relay, be.presence
	qopts.ArticleTags = func(id string) []string {
		if a, ok := live.Article(id); ok {
			return a.Tags
		}
		return nil
	}
	followupDelay, err := time.ParseDuration(cfg.get("followup-delay"))
	if err != nil || followupDelay < 0 {
		return usageError{fmt.Sprintf("followup-delay: %q is not a duration such as 24h (0 turns it off)", cfg.get("followup-delay"))}
	}
	agents := handoff.NewAgents(db, handoff.AgentsOptions{Log: log})
	engine := bot.NewEngine(m.Answerer(live), db, bus, bot.Options{
		Greeting:     cfg.get("greeting"),
		HumanPhrases: cfg.list("human-phrases"),
		VisitGap:     visitGap,
		Log:          log,
		Composer:     botComposer,
		Followup:     bot.FollowupOptions{Delay: followupDelay, Open: qopts.Hours.Open},
		AgentName: func(id string) string {
			if a, err := agents.Agent(context.Background(), id); err == nil {
				return a.Name
			}
			return ""
		},
	})
	queue := handoff.NewQueue(db, engine, qopts)
	engine.SetHandoff(queue)
	var bg sync.WaitGroup
	bgctx, stopBG := context.WithCancel(ctx)
	defer func() { stopBG(); bg.Wait() }()
	hooks, err := newWebhooks(cfg, db, be.file == nil, m, log)
	if err != nil {
		return err
	}
	var webhookStatus func() any
	if hooks != nil {
		engine.SetRecorder(hooks.Recorder())
		webhookStatus = func() any { return hooks.Status() }
		log.Info("webhooks on", "urls", len(cfg.list("webhook-url")))
	}
	bg.Go(func() { queue.RunPresence(bgctx) })
	followMetrics(bgctx, m, bus, db, queue)
	if composer != nil {
		assist, err := strconv.ParseBool(cfg.get("llm-assist"))
		if err != nil {
			return usageError{fmt.Sprintf("llm-assist: %q is not true or false", cfg.get("llm-assist"))}
		}
		if assist {
			bg.Go(func() { bot.NewAssistant(engine, composer).Run(bgctx) })
		}
	}
	editor := contentEditor(cfg.get("content"), live)
	if dir := cfg.get("content"); dir != "" {
		bg.Go(func() { watchContent(bgctx, dir, live, log) })
		if be.share != nil {
			// On a cluster an article edited in the console is stored for
			// the other nodes before it is written here, and theirs are
			// written here.
			editor.SetShare(be.share.ShareContentFile)
			bg.Go(func() { syncContent(bgctx, dir, be.share, be.contentChanged, log) })
		}
	}
	if rr != nil {
		// Articles whose embedding failed (at start or on a reload) are
		// tried again each minute; meanwhile questions rank without. Each
		// node embeds for its own knowledge base.
		bg.Go(func() { rr.Run(bgctx, time.Minute) })
	}
	// The timers run on one node of a cluster at a time (internal/leader).
	timers := []func(context.Context){
		queue.RunTimers,
		func(ctx context.Context) { handoff.NewNotices(queue, engine).Run(ctx) },
		func(ctx context.Context) { rollupLoop(ctx, db, time.Minute, log) },
	}
	if followupDelay > 0 {
		timers = append(timers, func(ctx context.Context) { engine.RunFollowups(ctx, db, time.Minute) })
	}
	if keep > 0 {
		timers = append(timers, retention{store: db, keep: keep, interval: time.Hour, now: time.Now, log: log,
			after: func(ctx context.Context) { pruneAttachments(ctx, db, files, log) }}.run)
	}
	if hooks != nil {
		// One node delivers the outbox every node appends to.
		timers = append(timers, hooks.Run)
	}
	bg.Go(func() { leader.Run(bgctx, db, leader.Timers, timers...) })
	if slices.Contains(cfg.list("allowed-origins"), "*") {
		log.Warn("allowed-origins is *: any website may embed the chat and open the agent websocket from a logged-in browser; list the shop's sites instead")
	}
	webOpts.Assets, webOpts.Log, webOpts.Observer, webOpts.Attachments = content.Web(), log, m, files
	webOpts.Home = &widgetHome{kb: live, db: db, agents: agents, queue: queue, now: time.Now}
	if webOpts.DemoLogin {
		log.Warn("demo-login is on: anyone may chat as the demo customer; never use it on a shop's real site")
	}
	webSrv := web.NewServer(engine, webOpts)
	consoleSrv := console.NewServer(engine, queue, agents, live, console.Options{
		Assets:         content.Console(),
		AllowedOrigins: cfg.list("allowed-origins"),
		Canned:         defaultCanned,
		Teams:          teamNames(qopts.Teams),
		Log:            log,
		Records:        recordsWithFiles{serveStore: db, file: be.file, files: files, log: log},
		Attachments:    files,
		APIKeys:        db,
		Webhooks:       webhookStatus,
		Insights:       insights.NewService(db, live),
		Editor:         editor,
		Stats:          db,
	})
	stopAdmin, err := serveAdmin(dataDir, adminTarget{db: db, file: be.file, agents: agents, dataDir: dataDir, log: log, sessionsEnded: consoleSrv.CloseAgent}, log)
	if err != nil {
		return err
	}
	defer stopAdmin()
	mux := http.NewServeMux()
	webSrv.Routes(mux)
	consoleSrv.Routes(mux)
	customerapi.NewServer(engine, db, db, customerapi.Options{Log: log}).Routes(mux)
	health := newHealth(dataDir, db)
	health.content = contentProblems(live)
	mux.Handle("GET /healthz", health.liveness())
	mux.Handle("GET /readyz", health.readiness())
	metricsURL, stopMonitoring, err := serveMonitoring(cfg.get("metrics-addr"), m, mux, log)
	if err != nil {
		return err
	}
	defer stopMonitoring()
	// Telegram's webhook comes last: its path is checked against the
	// routes above.
	// Alone on the bbolt file, the node polls and sends (no lease); on
	// PostgreSQL, the *postgres.DB is the lease.
	stopTelegram, err := startTelegram(ctx, cfg, engine, db, be.lease, mux, m, log)
	if err != nil {
		return err
	}
	if stopTelegram != nil {
		defer stopTelegram()
	}
	srv := newHTTPServer(instrument(m, mux), limits, log)
	ln, err := net.Listen("tcp", cfg.get("addr"))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := baseURL(ln.Addr())
	if metricsURL == "" {
		metricsURL = base + "/metrics"
	}
	log.Info("listening", "addr", ln.Addr().String())
	consoleHint := ""
	if list, err := agents.List(ctx); err == nil && len(list) == 0 {
		dirFlag := ""
		if dataDir != "data" {
			dirFlag = " --data-dir " + strconv.Quote(dataDir)
		}
		consoleHint = fmt.Sprintf(" (add an agent first, in another terminal: echo 'a long password' | %s agent add%s --name Ana --email ana@example.com --role admin)", commandName(os.Args[0]), dirFlag)
	}
	fmt.Fprintf(stdout, "Frontdesk is running.\n  Demo shop with the chat widget: %s/\n  Agent console: %s/console%s\n  Widget script tag: <script src=\"%s/widget.js\" async></script>\n  Health: %s/healthz   Metrics: %s\nPress Ctrl+C to stop.\n", base, base, consoleHint, base, base, metricsURL)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	// Websockets are hijacked connections that http.Server.Shutdown does
	// not track: tell them first, then stop the listener.
	if err := webSrv.Shutdown(sctx); err != nil {
		log.Warn("websocket shutdown", "err", err)
	}
	if err := consoleSrv.Shutdown(sctx); err != nil {
		log.Warn("agent websocket shutdown", "err", err)
	}
	stopHTTP(sctx, srv, "main", log)
	log.Info("stopped")
	return nil
}

// serveGCPercent is the garbage collector's target serve runs with when
// GOGC is not set: twice Go's default heap growth between collections.
// At 3,000 conversations a message a second the collector took about a
// tenth of the server's CPU; with 200 it runs half as often, for about a
// fifth more memory under that load and none more per idle connection
// (README, "Performance").
const serveGCPercent = 200

// tuneGC sets serveGCPercent unless the operator set GOGC.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}

// baseURL is how a person on this machine reaches the listener.
func baseURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// webOptions reads the web chat's settings: the origins that may embed
// it and where its per-address limits apply.
func webOptions(cfg *settings) (web.Options, error) {
	o := web.Options{AllowedOrigins: cfg.list("allowed-origins")}
	var err error
	if sec := cfg.get("identity-secret"); sec != "" {
		if len(sec) < 16 {
			return o, usageError{"identity-secret: use at least 16 characters (frontdesk identity secret makes one)"}
		}
		o.IdentitySecret = []byte(sec)
	}
	if o.DemoLogin, err = cfg.boolean("demo-login"); err != nil {
		return o, err
	}
	if o.DemoLogin && o.IdentitySecret == nil {
		// The demo alone: a secret for this run, so the switch works.
		var b [32]byte
		rand.Read(b[:])
		o.IdentitySecret = []byte(hex.EncodeToString(b[:]))
	}
	if o.TrustProxy, err = cfg.boolean("trust-proxy"); err != nil {
		return o, err
	}
	for _, v := range cfg.list("limit-exempt") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return o, usageError{fmt.Sprintf("limit-exempt: %q is not an address or prefix such as 127.0.0.1 or 10.0.0.0/8", v)}
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		o.LimitExempt = append(o.LimitExempt, p.Masked())
	}
	return o, nil
}

// queueOptions reads the hand-off settings: business hours, teams, manual
// assignment and SLAs.
func queueOptions(cfg *settings) (handoff.Options, error) {
	var o handoff.Options
	hours, err := handoff.ParseHours(cfg.get("business-hours"), cfg.get("holidays"), cfg.get("timezone"))
	if err != nil {
		msg := fmt.Sprintf("business hours: %v", err)
		if _, tzErr := time.LoadLocation(strings.TrimSpace(cfg.get("timezone"))); tzErr != nil {
			msg = fmt.Sprintf("timezone: %q is not a time zone; %s", cfg.get("timezone"), timezoneHint(cfg.get("timezone")))
		} else if hint := hoursHint(cfg.get("business-hours")); hint != "" {
			msg += "\n" + hint
		}
		return o, usageError{msg}
	}
	o.Hours = hours
	for _, pair := range cfg.list("teams") {
		tag, team, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(tag) == "" || strings.TrimSpace(team) == "" {
			return o, usageError{fmt.Sprintf("teams: %q is not tag=team", pair)}
		}
		if o.Teams == nil {
			o.Teams = map[string]string{}
		}
		o.Teams[strings.TrimSpace(tag)] = strings.TrimSpace(team)
	}
	if o.ManualAssign, err = strconv.ParseBool(cfg.get("manual-assign")); err != nil {
		return o, usageError{fmt.Sprintf("manual-assign: %q is not true or false", cfg.get("manual-assign"))}
	}
	for _, pair := range cfg.list("sla") {
		p, d, ok := strings.Cut(pair, "=")
		prio, perr := strconv.Atoi(strings.TrimSpace(p))
		wait, derr := time.ParseDuration(strings.TrimSpace(d))
		if !ok || perr != nil || derr != nil || prio < 0 || wait <= 0 {
			return o, usageError{fmt.Sprintf("sla: %q is not priority=duration such as 0=5m", pair)}
		}
		if o.SLA == nil {
			o.SLA = handoff.DefaultSLA()
		}
		o.SLA[prio] = wait
	}
	return o, nil
}

// articles looks articles up by id.
type articles interface {
	Article(id string) (*kb.Article, bool)
}

// defaultCanned are the canned replies the console offers.
var defaultCanned = []console.Canned{
	{Title: "Greeting", Text: "Hi {name}, thanks for waiting. I'm looking into this for you now."},
	{Title: "Need order number", Text: "Could you send me your order number? You'll find it in your order confirmation email."},
	{Title: "Checking", Text: "Thanks! Give me a moment while I check that."},
	{Title: "Anything else?", Text: "Is there anything else I can help you with?"},
	{Title: "Goodbye", Text: "Thanks for contacting Lumen & Co. Have a lovely day!"},
}

// teamNames lists the teams named in the tag-to-team map, sorted.
func teamNames(teams map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range teams {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

const serveUsage = `Usage: frontdesk serve [flags]

Runs the bot: the chat widget and the demo page on /, the agent console
on /console, the websockets, the agent API and /metrics. Without flags
it uses ./data and the embedded demo content, and listens on :8080.
Every flag has an environment twin (FRONTDESK_ and the flag's name in
capitals), and --config FILE reads a YAML file of the same names; flags
win over the environment, the environment over the file.

Flags:
`

// commandName is how to run this binary again from the same directory,
// for the hints serve prints: "./frontdesk" when it was started by a
// relative path (the README's quick start), else "frontdesk".
func commandName(arg0 string) string {
	if strings.Contains(arg0, "/") && !filepath.IsAbs(arg0) {
		return arg0
	}
	return "frontdesk"
}
