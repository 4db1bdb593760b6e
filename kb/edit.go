package kb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing/fstest"

	"gopkg.in/yaml.v3"
)

// ErrNotWritable is returned by Editor.Write when the content cannot be
// written: it is the embedded demo content, or the directory is
// read-only. The article's Markdown can still be downloaded and added by
// hand.
var ErrNotWritable = errors.New("the content directory is not writable")

// Editor writes articles into a content directory and reloads the live
// knowledge base from it, so that an article saved is answered at once.
// It checks an article exactly as Load (and so `frontdesk index --check`)
// does, against the rest of the content. It is safe for concurrent use;
// writes of the same file are last-writer-wins.
type Editor struct {
	fsys fs.FS  // the content as Load reads it
	dir  string // where to write; "" for content that cannot be written
	live *Live
	// share, when set, hands each article to the other nodes before it
	// is written here (see SetShare).
	share func(ctx context.Context, name string, data []byte) error
}

// SetShare makes Write hand each checked article to share before it
// writes it, and write nothing when share fails: on a cluster, share
// stores it where every node's copy of the content follows it (see
// cmd/frontdesk's content sync). Call it before the first Write.
func (e *Editor) SetShare(share func(ctx context.Context, name string, data []byte) error) {
	e.share = share
}

// NewEditor returns an editor of the content read from fsys and written
// to dir ("" when fsys is not a directory on disk, such as the embedded
// demo content), reloading live after each write.
func NewEditor(fsys fs.FS, dir string, live *Live) *Editor {
	return &Editor{fsys: fsys, dir: dir, live: live}
}

// Writable reports why articles cannot be written, or nil.
func (e *Editor) Writable() error {
	if e.dir == "" {
		return fmt.Errorf("%w: the server answers from the embedded demo content (start it with --content DIR)", ErrNotWritable)
	}
	f, err := os.CreateTemp(e.dir, ".frontdesk-write-*")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotWritable, err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// Check validates data as the article file name (a path inside the
// content, ending in .md) with the rest of the content as it is on disk:
// it returns the article as it would load (nil if it would not) and the
// problems `frontdesk index --check` would report for that file.
func (e *Editor) Check(name string, data []byte) (*Article, []Problem, error) {
	if err := checkName(name); err != nil {
		return nil, nil, err
	}
	over := fstest.MapFS{}
	err := fs.WalkDir(e.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == name {
			return err
		}
		b, err := fs.ReadFile(e.fsys, p)
		if err != nil {
			return err
		}
		over[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read content: %w", err)
	}
	over[name] = &fstest.MapFile{Data: data}
	c, err := Load(over)
	if err != nil {
		return nil, nil, err
	}
	var probs []Problem
	for _, p := range c.Problems {
		switch {
		case p.File == name:
			probs = append(probs, p)
		case strings.Contains(p.Msg, "(already used by "+name+")"):
			// Load kept this file's article, being first in order, and
			// skipped the other: an edit must not take an id that is in
			// use.
			probs = append(probs, Problem{File: name, Line: 2,
				Msg: fmt.Sprintf("duplicate id (already used by %s); article skipped", p.File)})
		}
	}
	if len(probs) > 0 && slices.ContainsFunc(probs, func(p Problem) bool { return strings.HasSuffix(p.Msg, "article skipped") }) {
		return nil, probs, nil
	}
	for i := range c.Articles {
		if c.Articles[i].File == name {
			return &c.Articles[i], probs, nil
		}
	}
	return nil, probs, nil
}

// Write checks data as the article file name and, if it has no problem,
// writes it (atomically: a reader sees the old file or the new one) and
// reloads the knowledge base. It returns the problems that stopped it, if
// any, and ErrNotWritable when the content cannot be written.
func (e *Editor) Write(ctx context.Context, name string, data []byte) (*Article, []Problem, error) {
	if err := e.Writable(); err != nil {
		return nil, nil, err
	}
	a, probs, err := e.Check(name, data)
	if err != nil || len(probs) > 0 || a == nil {
		return a, probs, err
	}
	if e.share != nil {
		if err := e.share(ctx, name, data); err != nil {
			return nil, nil, fmt.Errorf("share %s with the other nodes: %w", name, err)
		}
	}
	if err := WriteArticleFile(e.dir, name, data); err != nil {
		return nil, nil, err
	}
	if e.live != nil {
		if _, err := e.live.Reload(ctx, e.fsys); err != nil {
			return a, nil, err
		}
	}
	return a, nil, nil
}

// WriteArticleFile writes data as the article file name (a path inside
// the content directory dir, ending in .md) atomically: a reader sees the
// old file or the new one. It does not check the article.
func WriteArticleFile(dir, name string, data []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	dst := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".frontdesk-article-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), dst)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", name, werr)
	}
	return nil
}

// Source returns the file of the article with the id and its text: the
// file as it is on disk, or the article rendered when the file cannot be
// read.
func (e *Editor) Source(id string) (string, []byte, bool) {
	if e.live == nil {
		return "", nil, false
	}
	a, ok := e.live.Article(id)
	if !ok {
		return "", nil, false
	}
	if data, err := fs.ReadFile(e.fsys, a.File); err == nil {
		return a.File, data, true
	}
	return a.File, Markdown(*a), true
}

// checkName refuses names that are not an article file inside the
// content directory.
func checkName(name string) error {
	if !fs.ValidPath(name) || name == "." || !strings.HasSuffix(name, ".md") || strings.EqualFold(path.Base(name), "README.md") ||
		strings.HasPrefix(path.Base(name), ".") {
		return fmt.Errorf("article file %q must be a path inside the content directory ending in .md", name)
	}
	return nil
}

// NewFile is the file a new article with the id is saved as: in the
// content's articles/ directory if it has one, else at its root.
func (e *Editor) NewFile(id string) string {
	if st, err := fs.Stat(e.fsys, "articles"); err == nil && st.IsDir() {
		return "articles/" + id + ".md"
	}
	return id + ".md"
}

// Markdown renders a as an article file: YAML front matter, then the
// body. Load reads it back as a.
func Markdown(a Article) []byte {
	fm := frontMatter{ID: a.ID, Title: a.Title, Questions: a.Questions, Tags: a.Tags, Locale: a.Locale,
		Related: a.Related, Segments: a.Segments, Handoff: a.Handoff}
	var buf bytes.Buffer
	buf.WriteString("---\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(omitEmpty(fm)); err != nil {
		// Strings and lists of strings always encode.
		panic(err)
	}
	enc.Close()
	buf.WriteString("---\n")
	buf.WriteString(strings.TrimSpace(a.Body))
	buf.WriteString("\n")
	return buf.Bytes()
}

// omitEmpty is the front matter without its empty fields, in file order.
func omitEmpty(fm frontMatter) yaml.Node {
	var n yaml.Node
	n.Kind = yaml.MappingNode
	add := func(key string, v any) {
		var k, val yaml.Node
		k.SetString(key)
		if err := val.Encode(v); err != nil {
			panic(err)
		}
		n.Content = append(n.Content, &k, &val)
	}
	add("id", fm.ID)
	add("title", fm.Title)
	if len(fm.Questions) > 0 {
		add("questions", fm.Questions)
	}
	if len(fm.Tags) > 0 {
		add("tags", fm.Tags)
	}
	if fm.Locale != "" {
		add("locale", fm.Locale)
	}
	if len(fm.Related) > 0 {
		add("related", fm.Related)
	}
	if len(fm.Segments) > 0 {
		add("segments", fm.Segments)
	}
	if fm.Handoff {
		add("handoff", true)
	}
	return n
}

// Slug turns a title into an article id: lower-case words joined by '-'.
func Slug(title string) string {
	words := tokenize(title)
	for len(strings.Join(words, "-")) > 60 && len(words) > 1 {
		words = words[:len(words)-1]
	}
	s := strings.Join(words, "-")
	if !idPattern.MatchString(s) {
		return ""
	}
	return s
}
