package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	customerapi "github.com/frontdesk/frontdesk/adapters/api"
	"github.com/frontdesk/frontdesk/adapters/console"
	"github.com/frontdesk/frontdesk/adapters/telegram"
	"github.com/frontdesk/frontdesk/adapters/webhook"
	"github.com/frontdesk/frontdesk/attachment"
	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/insights"
	"github.com/frontdesk/frontdesk/internal/leader"
	"github.com/frontdesk/frontdesk/metrics"
	"github.com/frontdesk/frontdesk/store/bolt"
	"github.com/frontdesk/frontdesk/store/postgres"
)

// serveStore is everything serve keeps in its store, in one place: the
// bbolt file in the data directory (store/bolt) and PostgreSQL
// (store/postgres) both hold all of it.
type serveStore interface {
	bot.Store
	handoff.Store
	bot.DueFollowups
	bot.APIKeyStore
	webhook.Store
	telegram.Store
	metrics.Conversations
	insights.Source
	console.Stats
	customerapi.Records
	roller
	expirer
	homeStore
	pinger
	leader.Lease
	ListCustomers(ctx context.Context, limit int) ([]bot.Customer, error)
	CustomerByEmail(ctx context.Context, email string) (*bot.Customer, error)
	SaveCustomer(ctx context.Context, c *bot.Customer) error
	ExportCustomer(ctx context.Context, id string, w io.Writer) error
	ForgetCustomer(ctx context.Context, id string) (bot.Erased, error)
}

var (
	_ serveStore = (*bolt.DB)(nil)
	_ serveStore = (*postgres.DB)(nil)
)

// backend is the store serve runs on, with the bus that carries its
// events between the parts of the server (and, on PostgreSQL, between
// the nodes) and where files sent in chats are kept.
type backend struct {
	db    serveStore
	bus   bot.Bus
	files *attachment.Store
	// file is the bbolt database; nil on PostgreSQL, which pg_dump backs
	// up and whose agents the CLI reaches with --store.
	file *bolt.DB
	// lease elects the node that polls Telegram; nil on the bbolt file,
	// which one process owns.
	lease telegram.Lease
	// relay and presence share the agent queue's events and agents'
	// presence between the nodes (handoff.Options); nil on the bbolt
	// file: the queue keeps them in this process.
	relay    handoff.Relay
	presence handoff.PresenceStore
	// share keeps the article files edited in the consoles for every
	// node, contentChanged tells of new ones (contentsync.go); nil on
	// the bbolt file.
	share          contentShare
	contentChanged <-chan struct{}
	close          func()
}

// openBackend opens the store: the bbolt file in dataDir when storeURL
// is empty, else the PostgreSQL database it names (schema migrated by
// store/postgres). Errors never repeat the URL, which may hold a
// password.
func openBackend(ctx context.Context, storeURL, dataDir string, m *metrics.Metrics, log *slog.Logger) (*backend, error) {
	if storeURL == "" {
		db, err := bolt.OpenWith(filepath.Join(dataDir, "frontdesk.db"), bolt.Options{OnCommit: m.ObserveCommit})
		if err != nil {
			return nil, err
		}
		// Files sent in chats live beside the database.
		files, err := attachment.Open(attachmentsDir(dataDir), 0)
		if err != nil {
			db.Close()
			return nil, err
		}
		return &backend{db: db, bus: bot.NewBus(), files: files, file: db, close: func() { db.Close() }}, nil
	}
	target, err := postgresTarget(storeURL)
	if err != nil {
		return nil, usageError{"store: want a postgres:// URL such as postgres://USER:PASSWORD@HOST:5432/DB, or nothing for the bbolt file in --data-dir"}
	}
	db, err := postgres.OpenWith(ctx, storeURL, postgres.Options{})
	if err != nil {
		return nil, fmt.Errorf("store %s: %s", target.shown, target.scrub(err.Error()))
	}
	bus, err := db.NewBus(ctx, log)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: events: %s", target.shown, target.scrub(err.Error()))
	}
	log.Info("store is PostgreSQL", "database", target.shown)
	return &backend{db: db, bus: bus, files: attachment.New(db, 0), lease: db,
		relay: bus.QueueRelay(), presence: db.Presence(), share: db, contentChanged: bus.ContentChanged(),
		close: func() { bus.Close(); db.Close() }}, nil
}
