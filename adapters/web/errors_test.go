package web

import (
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/doccheck"
)

// TestEveryErrorCodeIsDocumented holds docs/protocol.md's table of
// error-frame codes to the codes the web channel defines, each with a
// class of the core's error codes.
func TestEveryErrorCodeIsDocumented(t *testing.T) {
	doccheck.CodeTable(t, "../../docs/protocol.md", "### `error`", "frames.go", "code", bot.Codes)
}
