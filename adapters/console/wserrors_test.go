package console

import (
	"testing"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/internal/doccheck"
)

// TestEveryErrorFrameCodeIsDocumented holds docs/agent-api.md's table of
// the agent websocket's error-frame codes to the codes ws.go defines.
func TestEveryErrorFrameCodeIsDocumented(t *testing.T) {
	doccheck.CodeTable(t, "../../docs/agent-api.md", "### Error frames", "ws.go", "code", bot.Codes)
}
