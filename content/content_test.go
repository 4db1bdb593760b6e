package content

import (
	"io/fs"
	"strings"
	"testing"
)

func TestScriptsGetTheSharedMarkdownRendererJoinedIn(t *testing.T) {
	shared, err := fs.ReadFile(FS, "markdown.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		fsys fs.FS
		name string
	}{{Web(), "widget.js"}, {Console(), "console.js"}} {
		data, err := fs.ReadFile(c.fsys, c.name)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		if strings.Contains(s, includeMark) || !strings.Contains(s, string(shared)) || !strings.Contains(s, "function renderMarkdown(") {
			t.Errorf("%s: the include was not resolved", c.name)
		}
		info, err := fs.Stat(c.fsys, c.name)
		if err != nil || info.Size() != int64(len(data)) {
			t.Errorf("%s: stat %v, %v; want the joined size %d", c.name, info, err, len(data))
		}
	}
	// Other files pass through as they are.
	if css, err := fs.ReadFile(Web(), "widget.css"); err != nil || len(css) == 0 {
		t.Errorf("widget.css: %d bytes, %v", len(css), err)
	}
}
