// Package content holds what Frontdesk embeds: the demo knowledge base of
// "Lumen & Co", a small online lighting shop (articles/ with Markdown and
// YAML front matter, synonyms.txt and negatives.txt), used by
// `frontdesk serve` when no --content directory is given, and the web
// assets of the chat widget (web/) and the agent console (console/).
package content

import (
	"bytes"
	"embed"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
)

// FS is the embedded content: the demo knowledge base laid out as a
// content directory, and the raw web assets.
//
//go:embed articles synonyms.txt negatives.txt web console markdown.js dom.js
var FS embed.FS

// Web returns the chat widget's assets (widget.js, widget.css,
// index.html), with shared scripts joined in.
func Web() fs.FS { return assets("web") }

// Console returns the agent console's assets (index.html, console.js,
// console.css), with shared scripts joined in.
func Console() fs.FS { return assets("console") }

func assets(dir string) fs.FS {
	sub, err := fs.Sub(FS, dir)
	if err != nil {
		panic(err) // the directory is embedded
	}
	return includeFS{sub: sub, shared: FS}
}

// includeMark is how a script asks for a shared one: a line
// "//@frontdesk:include NAME" is replaced by the file NAME from the root
// of the content. The widget must stay one script tag, so shared code is
// joined in when served rather than loaded separately.
const includeMark = "//@frontdesk:include "

// includeFS serves sub, with includes in .js files resolved from shared.
type includeFS struct {
	sub, shared fs.FS
}

func (f includeFS) Open(name string) (fs.File, error) {
	file, err := f.sub.Open(name)
	if err != nil || path.Ext(name) != ".js" {
		return file, err
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for line := range strings.Lines(string(data)) {
		trimmed := strings.TrimSpace(line)
		inc, ok := strings.CutPrefix(trimmed, includeMark)
		if !ok {
			out.WriteString(line)
			continue
		}
		shared, err := fs.ReadFile(f.shared, strings.TrimSpace(inc))
		if err != nil {
			return nil, &fs.PathError{Op: "include", Path: name, Err: err}
		}
		out.Write(shared)
	}
	return &memFile{name: path.Base(name), Reader: bytes.NewReader(out.Bytes()), size: int64(out.Len())}, nil
}

// memFile is a joined script, held in memory.
type memFile struct {
	name string
	*bytes.Reader
	size int64
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m, nil }
func (m *memFile) Close() error               { return nil }
func (m *memFile) Name() string               { return m.name }
func (m *memFile) Size() int64                { return m.size }
func (m *memFile) Mode() fs.FileMode          { return 0o444 }
func (m *memFile) ModTime() time.Time         { return time.Time{} }
func (m *memFile) IsDir() bool                { return false }
func (m *memFile) Sys() any                   { return nil }
