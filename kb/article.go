package kb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Article is one answer in the knowledge base: the Markdown body is what the
// bot says, the questions are the phrasings customers use to ask for it.
type Article struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Questions []string `json:"questions,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Locale    string   `json:"locale,omitempty"`
	Related   []string `json:"related,omitempty"`
	Segments  []string `json:"segments,omitempty"`
	// VariantOf is the id of the article this one stands in for, for
	// customers of one of its Segments (a VIP's version of the returns
	// policy). A variant is never searched: the article it varies is
	// found, then its variant is answered (see KB.Variant).
	VariantOf string `json:"variant_of,omitempty"`
	// Handoff marks topics that always need a person (closing an account,
	// complaints): the bot explains and offers a human instead of resolving.
	Handoff bool   `json:"handoff,omitempty"`
	Body    string `json:"body"`
	// File is the path of the source file inside the content directory.
	File string `json:"file,omitempty"`
}

// frontMatter is the YAML header of an article file.
type frontMatter struct {
	ID        string   `yaml:"id"`
	Title     string   `yaml:"title"`
	Questions []string `yaml:"questions"`
	Tags      []string `yaml:"tags"`
	Locale    string   `yaml:"locale"`
	Related   []string `yaml:"related"`
	Segments  []string `yaml:"segments"`
	VariantOf string   `yaml:"variant_of"`
	Handoff   bool     `yaml:"handoff"`
}

// Problem is something wrong with one content file. Line is 0 when the
// problem is not tied to a line.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Msg  string `json:"message"`
}

func (p Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Content is a loaded content directory: the articles that passed
// validation, the synonym groups, the out-of-scope example questions, and
// every problem found on the way.
type Content struct {
	Articles []Article
	// Variants are the articles with VariantOf: kept out of the search,
	// answered instead of the article they vary for their segments.
	Variants []Article
	// Synonyms are groups of words or short phrases that mean the same thing.
	Synonyms [][]string
	// Negatives are questions the knowledge base must not answer; they teach
	// the model what "out of scope" looks like.
	Negatives []string
	Problems  []Problem
	// Hash identifies the content (and the format of the index built from
	// it); an index stored with the same hash can be reused.
	Hash string
}

// Content file names, relative to the content directory.
const (
	SynonymsFile  = "synonyms.txt"
	NegativesFile = "negatives.txt"
)

// buildVersion changes whenever the index or model format changes, so that
// stored indexes built by an older binary are rebuilt. v2: 16 training
// epochs, which the calibration weights were learnt for; v3: the dense
// word-vector columns (wordvec.go).
const buildVersion = "kb-v4"

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Load reads every *.md article under fsys, the synonyms file and the
// negatives file. A broken article never stops the others from loading: it
// is left out and reported in Content.Problems. Load fails only when fsys
// itself cannot be read.
func Load(fsys fs.FS) (*Content, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read content: %w", err)
	}
	sort.Strings(files)

	c := &Content{}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", buildVersion)
	var parsed []parsedArticle
	// broken are the ids of articles left out (bad YAML, a missing title,
	// a duplicate id): a related id naming one is not reported again.
	broken := map[string]bool{}
	for _, name := range files {
		base := path.Base(name)
		isArticle := strings.HasSuffix(name, ".md") && !strings.EqualFold(base, "README.md")
		if !isArticle && base != SynonymsFile && base != NegativesFile {
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			c.Problems = append(c.Problems, Problem{File: name, Msg: err.Error()})
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
		switch {
		case base == SynonymsFile:
			groups, probs := parseSynonyms(name, data)
			c.Synonyms = append(c.Synonyms, groups...)
			c.Problems = append(c.Problems, probs...)
		case base == NegativesFile:
			c.Negatives = append(c.Negatives, parseLines(data)...)
		default:
			a, at, probs := parseArticle(name, data)
			c.Problems = append(c.Problems, probs...)
			if a == nil {
				broken[declaredID(name, data)] = true
				continue
			}
			parsed = append(parsed, parsedArticle{a, at})
		}
	}
	// Two files with one id: neither is served, so that adding a file
	// never silently replaces the article customers got before.
	files4ID := map[string][]string{}
	for _, p := range parsed {
		files4ID[p.a.ID] = append(files4ID[p.a.ID], p.a.File)
	}
	byID := map[string]bool{}
	var served []parsedArticle // in the order of c.Articles
	for _, p := range parsed {
		if same := files4ID[p.a.ID]; len(same) > 1 {
			var others []string
			for _, f := range same {
				if f != p.a.File {
					others = append(others, f)
				}
			}
			c.Problems = append(c.Problems, Problem{File: p.a.File, Line: p.at.keys["id"],
				Msg: fmt.Sprintf("duplicate id %q, also used by %s; neither article is served until one id is changed", p.a.ID, strings.Join(others, ", "))})
			broken[p.a.ID] = true
			continue
		}
		byID[p.a.ID] = true
		if p.a.VariantOf != "" {
			c.Variants = append(c.Variants, *p.a)
			continue
		}
		served = append(served, p)
		c.Articles = append(c.Articles, *p.a)
	}
	c.Variants = checkVariants(c.Articles, c.Variants, &c.Problems)
	// Related ids can only be checked once every article is known.
	for i := range c.Articles {
		a := &c.Articles[i]
		at := served[i].at
		var kept []string
		for _, r := range a.Related {
			if !byID[r] || r == a.ID {
				if !broken[r] || r == a.ID {
					c.Problems = append(c.Problems, Problem{File: a.File, Line: at.related[r],
						Msg: fmt.Sprintf("related id %q does not name another article", r)})
				}
				continue
			}
			kept = append(kept, r)
		}
		a.Related = kept
	}
	c.Hash = hex.EncodeToString(h.Sum(nil))
	return c, nil
}

// parsedArticle is an article with the lines of its parts.
type parsedArticle struct {
	a  *Article
	at articleLines
}

// articleLines are where the parts of an article file are, so that every
// problem names a line: front-matter keys and related ids by the line
// they are on, the body by the line it starts on.
type articleLines struct {
	keys    map[string]int // front-matter key -> line
	related map[string]int // related id -> line
	body    int
}

// key returns the line of a front-matter key, or the first line when the
// key is missing.
func (l articleLines) key(k string) int {
	if n := l.keys[k]; n > 0 {
		return n
	}
	return 1
}

// declaredIDRe finds the id in front matter that does not parse.
var declaredIDRe = regexp.MustCompile(`(?m)^id:[ \t]*["']?([^"'\s#]+)`)

// declaredID is the id an article file means to have, read leniently from
// a file that did not load, or its name without ".md".
func declaredID(name string, data []byte) string {
	if m := declaredIDRe.FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return strings.TrimSuffix(path.Base(name), ".md")
}

// frontMatterLines maps the keys of a front matter that decoded, and its
// related ids, to their lines in the file (the header starts on line 2).
func frontMatterLines(header []byte) articleLines {
	l := articleLines{keys: map[string]int{}, related: map[string]int{}}
	var doc yaml.Node
	if yaml.Unmarshal(header, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return l
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		l.keys[k.Value] = k.Line + 1
		if k.Value == "related" && v.Kind == yaml.SequenceNode {
			for _, item := range v.Content {
				l.related[strings.TrimSpace(item.Value)] = item.Line + 1
			}
		}
	}
	return l
}

// parseArticle parses one article file. It returns nil when the article
// cannot be used; problems that leave the article usable are returned
// alongside it.
func parseArticle(name string, data []byte) (*Article, articleLines, []Problem) {
	var at articleLines
	bad := func(line int, format string, args ...any) (*Article, articleLines, []Problem) {
		return nil, at, []Problem{{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}}
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return bad(1, "missing front matter: the file must start with a line \"---\"")
	}
	rest := data[len("---\n"):]
	end := bytes.Index(rest, []byte("\n---"))
	if end < 0 && !bytes.HasPrefix(rest, []byte("---")) {
		return bad(1, "front matter is not closed by a line \"---\"")
	}
	var header, body []byte
	if end < 0 {
		body = rest[3:]
	} else {
		header = rest[:end+1]
		body = rest[end+len("\n---"):]
	}
	// The closing line may carry trailing spaces only.
	if i := bytes.IndexByte(body, '\n'); i >= 0 {
		if len(bytes.TrimSpace(body[:i])) > 0 {
			return bad(strings.Count(string(header), "\n")+2, "front matter must be closed by a line holding only \"---\"")
		}
		body = body[i+1:]
	} else {
		body = nil
	}

	var fm frontMatter
	dec := yaml.NewDecoder(bytes.NewReader(header))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil && len(bytes.TrimSpace(header)) > 0 {
		line, msg := yamlLine(err)
		if line > 0 {
			line++ // the header starts on line 2 of the file
		} else {
			line = 1
		}
		return bad(line, "bad front matter: %s", msg)
	}
	at = frontMatterLines(header)
	at.body = strings.Count(string(header), "\n") + 3 // "---", the header, "---"
	a := &Article{
		ID:        strings.TrimSpace(fm.ID),
		Title:     strings.TrimSpace(fm.Title),
		Questions: cleanList(fm.Questions),
		Tags:      cleanList(fm.Tags),
		Locale:    strings.TrimSpace(fm.Locale),
		Related:   cleanList(fm.Related),
		Segments:  cleanList(fm.Segments),
		VariantOf: strings.TrimSpace(fm.VariantOf),
		Handoff:   fm.Handoff,
		Body:      strings.TrimSpace(string(body)),
		File:      name,
	}
	var probs []Problem
	switch {
	case a.ID == "":
		probs = append(probs, Problem{File: name, Line: 1, Msg: "missing id"})
	case !idPattern.MatchString(a.ID):
		probs = append(probs, Problem{File: name, Line: at.key("id"), Msg: fmt.Sprintf("id %q must be lower-case letters, digits, '-' or '_'", a.ID)})
	}
	if a.Title == "" {
		probs = append(probs, Problem{File: name, Line: at.key("title"), Msg: "missing title"})
	}
	if a.Body == "" {
		probs = append(probs, Problem{File: name, Line: at.body, Msg: "missing body: the answer text goes below the front matter"})
	}
	if len(probs) > 0 {
		for i := range probs {
			probs[i].Msg += "; article skipped"
		}
		return nil, at, probs
	}
	if len(a.Questions) == 0 && a.VariantOf == "" {
		probs = append(probs, Problem{File: name, Line: at.key("questions"), Msg: "no questions: add the phrasings customers use, or only the title will match"})
	}
	for i, line := range strings.Split(string(body), "\n") {
		if m := italicRe.FindStringSubmatch(line); m != nil {
			probs = append(probs, Problem{File: name, Line: at.body + i,
				Msg: fmt.Sprintf("*%s* shows with its asterisks: the chat's Markdown has **bold**, lists and links, no italics", m[1])})
		}
	}
	return a, at, probs
}

// italicRe finds *emphasis* with single asterisks, which the widget's and
// the console's Markdown subset (content/markdown.js) shows as written;
// not **bold**, nor a "* " list item.
var italicRe = regexp.MustCompile(`(?:^|[^*\w])\*([^*\s](?:[^*]*[^*\s])?)\*(?:[^*\w]|$)`)

var yamlLineRe = regexp.MustCompile(`line (\d+): `)

// yamlLine pulls the line number out of a yaml.v3 error message.
func yamlLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	m := yamlLineRe.FindStringSubmatchIndex(msg)
	if m == nil {
		return 0, msg
	}
	n, _ := strconv.Atoi(msg[m[2]:m[3]])
	msg = msg[:m[0]] + msg[m[1]:]
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return n, strings.TrimSpace(msg)
}

func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseLines returns the non-empty lines of data that are not comments.
func parseLines(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// parseSynonyms reads one group a line: comma-separated words or phrases.
func parseSynonyms(name string, data []byte) ([][]string, []Problem) {
	var groups [][]string
	var probs []Problem
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var g []string
		for _, w := range strings.Split(line, ",") {
			if w = strings.ToLower(strings.Join(strings.Fields(w), " ")); w != "" {
				g = append(g, w)
			}
		}
		if len(g) < 2 {
			probs = append(probs, Problem{File: name, Line: i + 1, Msg: "a synonym group needs at least two comma-separated terms"})
			continue
		}
		groups = append(groups, g)
	}
	return groups, probs
}
