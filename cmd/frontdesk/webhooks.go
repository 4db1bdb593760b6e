package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/adapters/webhook"
	"github.com/frontdesk/frontdesk/metrics"
)

// listFlag is a flag that may be repeated; its value is the values
// given, comma-separated, as settings reads every flag.
type listFlag struct{ vs []string }

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.vs, ",")
}
func (l *listFlag) Set(v string) error { l.vs = append(l.vs, v); return nil }

// addRepeated declares a setting that may be given more than once (or
// comma-separated, in the environment and the config file).
func (s *settings) addRepeated(name, usage string) {
	s.defaults[name] = ""
	s.fs.Var(&listFlag{}, name, usage+" (repeatable; env "+envName(name)+", comma-separated)")
}

func webhookSettings(s *settings) {
	s.addRepeated("webhook-url", "`URL` that receives every event (conversation.created, message.created, ...) as a signed JSON POST")
	s.add("webhook-secret", "", "secret that signs webhook bodies (X-Frontdesk-Signature); required with webhook-url")
	s.add("webhook-give-up", "72h", "drop an event its URL has refused for this `duration` since the first failed attempt, logged and counted (0: retry for ever)")
}

// clusterPoll is how often the delivering node of a cluster reads the
// outbox for events the other nodes recorded (one node delivers: the
// timers role); as the Telegram sender reads its outbox.
const clusterPoll = time.Second

// newWebhooks returns the configured webhooks, or nil when no URL is
// set. The caller sets its Recorder on the engine and runs it. shared
// says other processes write to the store too (PostgreSQL): their
// events are delivered within clusterPoll.
func newWebhooks(cfg *settings, db webhook.Store, shared bool, m *metrics.Metrics, log *slog.Logger) (*webhook.Webhooks, error) {
	urls := cfg.list("webhook-url")
	if len(urls) == 0 {
		return nil, nil
	}
	secret := cfg.get("webhook-secret")
	if len(secret) < 16 {
		return nil, usageError{"webhook-url needs webhook-secret, at least 16 characters (frontdesk identity secret makes a good one)"}
	}
	giveUp, err := time.ParseDuration(cfg.get("webhook-give-up"))
	if err != nil || giveUp < 0 {
		return nil, usageError{fmt.Sprintf("webhook-give-up %q is not a duration such as 72h (0: retry for ever)", cfg.get("webhook-give-up"))}
	}
	opts := webhook.Options{URLs: urls, Secret: []byte(secret), GiveUpAfter: giveUp, Observer: m.Webhooks(webhook.Types), Log: log}
	if shared {
		opts.Poll = clusterPoll
	}
	h, err := webhook.New(db, opts)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return h, nil
}
