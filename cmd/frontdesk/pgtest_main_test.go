package main

import (
	"testing"

	"github.com/frontdesk/frontdesk/internal/pgtest"
)

// TestMain stops the throw-away PostgreSQL server that tests needing one
// start (see internal/pgtest).
func TestMain(m *testing.M) { pgtest.Main(m) }
