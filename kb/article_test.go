package kb

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

const goodArticle = `---
id: good
title: A good article
questions:
  - is this good
---
Yes.
`

func TestLoadReportsEachBrokenArticleAndKeepsTheRest(t *testing.T) {
	cases := []struct {
		name     string
		file     string
		wantLine int
		wantMsg  string
	}{
		{"bad yaml", "---\nid: x\ntitle: a: b\n---\nbody\n", 3, "mapping values are not allowed"},
		{"wrong type", "---\nid: x\ntitle: T\nquestions: 5\n---\nbody\n", 4, "cannot unmarshal"},
		{"unknown key", "---\nid: x\ntitle: T\nquestons: [a]\n---\nbody\n", 4, "questons"},
		{"missing title", "---\nid: x\nquestions: [a]\n---\nbody\n", 1, "missing title"},
		{"missing body", "---\nid: x\ntitle: T\n---\n\n", 5, "missing body"},
		{"missing id", "---\ntitle: T\n---\nbody\n", 1, "missing id"},
		{"bad id", "---\ntitle: T\nid: Not OK\n---\nbody\n", 3, "must be lower-case"},
		{"no front matter", "just text\n", 1, "missing front matter"},
		{"unclosed front matter", "---\nid: x\ntitle: T\n", 1, "not closed"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is reported with its file and the good article still loads", func(t *testing.T) {
			c, err := Load(fstest.MapFS{
				"a-good.md": {Data: []byte(goodArticle)},
				"b-bad.md":  {Data: []byte(tc.file)},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Articles) != 1 || c.Articles[0].ID != "good" {
				t.Fatalf("articles = %+v, want only the good one", c.Articles)
			}
			if len(c.Problems) != 1 {
				t.Fatalf("problems = %v, want one", c.Problems)
			}
			p := c.Problems[0]
			if p.File != "b-bad.md" || p.Line != tc.wantLine || !strings.Contains(p.Msg, tc.wantMsg) {
				t.Errorf("problem = %q (line %d), want b-bad.md line %d containing %q", p.Error(), p.Line, tc.wantLine, tc.wantMsg)
			}
		})
	}
}

// TestLoadServesNeitherOfTwoArticlesWithOneID: both files are reported,
// each at its id's line, and neither is kept, so that a new file never
// silently replaces the article customers got.
func TestLoadServesNeitherOfTwoArticlesWithOneID(t *testing.T) {
	c, err := Load(fstest.MapFS{
		"a-new.md": {Data: []byte("---\ntitle: New\nid: refund\n---\nnew\n")},
		"z-old.md": {Data: []byte("---\nid: refund\ntitle: Old\n---\nold\n")},
		"other.md": {Data: []byte("---\nid: other\ntitle: Other\nquestions: [q]\nrelated: [refund]\n---\nbody\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 1 || c.Articles[0].ID != "other" || len(c.Articles[0].Related) != 0 {
		t.Errorf("articles = %+v, want only other, without the related refund", c.Articles)
	}
	want := []string{
		`a-new.md:3: duplicate id "refund", also used by z-old.md; neither article is served until one id is changed`,
		`a-new.md:1: no questions`,
		`z-old.md:2: duplicate id "refund", also used by a-new.md`,
		`z-old.md:1: no questions`,
	}
	got := fmt.Sprint(c.Problems)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("problems lack %q:\n%v", w, c.Problems)
		}
	}
	if strings.Contains(got, "related id") {
		t.Errorf("a related id naming the duplicate is reported too: %v", c.Problems)
	}
}

// TestOneYAMLTypoIsOneProblem: an article whose front matter does not
// parse is reported once, and the related ids that name it are not
// reported again.
func TestOneYAMLTypoIsOneProblem(t *testing.T) {
	fsys := fstest.MapFS{"refund.md": {Data: []byte("---\nid: refund\ntitle: Refunds: how\nquestions: [q]\n---\nbody\n")}}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		fsys[n+".md"] = &fstest.MapFile{Data: []byte("---\nid: " + n + "\ntitle: T\nquestions: [q]\nrelated:\n  - refund\n  - nope\n---\nbody\n")}
	}
	c, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var yamlProbs, related int
	for _, p := range c.Problems {
		switch {
		case p.File == "refund.md" && p.Line == 3 && strings.Contains(p.Msg, "bad front matter"):
			yamlProbs++
		case strings.Contains(p.Msg, `related id "nope"`) && p.Line == 7:
			related++
		default:
			t.Errorf("unexpected problem %v", p)
		}
	}
	if yamlProbs != 1 || related != 5 {
		t.Errorf("problems %v: want the YAML error once and each unknown related id on its line", c.Problems)
	}
}

func TestLoadDropsUnknownRelatedIDs(t *testing.T) {
	c, err := Load(fstest.MapFS{
		"a.md": {Data: []byte("---\nid: a\ntitle: A\nrelated: [b, nope]\n---\nbody\n")},
		"b.md": {Data: []byte("---\nid: b\ntitle: B\n---\nbody\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 2 {
		t.Fatalf("got %d articles, want 2", len(c.Articles))
	}
	if got := c.Articles[0].Related; len(got) != 1 || got[0] != "b" {
		t.Errorf("related = %v, want [b]", got)
	}
	var found bool
	for _, p := range c.Problems {
		if p.File == "a.md" && strings.Contains(p.Msg, `"nope"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("problems %v do not mention the unknown related id", c.Problems)
	}
}

func TestLoadReadsFrontMatterSynonymsAndNegatives(t *testing.T) {
	c, err := Load(fstest.MapFS{
		"articles/close.md": {Data: []byte("---\nid: close\ntitle: Close\nquestions: [close my account]\ntags: [account]\nsegments: [customer]\nlocale: en\nhandoff: true\n---\n**Bold** answer.\r\n")},
		"synonyms.txt":      {Data: []byte("# comment\nParcel,  package\nlonely\n")},
		"negatives.txt":     {Data: []byte("# comment\nwhat is the weather\n\n")},
		"README.md":         {Data: []byte("not an article")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 1 {
		t.Fatalf("articles = %+v", c.Articles)
	}
	a := c.Articles[0]
	if !a.Handoff || a.Locale != "en" || a.Tags[0] != "account" || a.Segments[0] != "customer" || a.Body != "**Bold** answer." || a.File != "articles/close.md" {
		t.Errorf("article = %+v", a)
	}
	if len(c.Synonyms) != 1 || strings.Join(c.Synonyms[0], "|") != "parcel|package" {
		t.Errorf("synonyms = %v", c.Synonyms)
	}
	if len(c.Negatives) != 1 || c.Negatives[0] != "what is the weather" {
		t.Errorf("negatives = %v", c.Negatives)
	}
	if len(c.Problems) != 1 || c.Problems[0].File != "synonyms.txt" || c.Problems[0].Line != 3 {
		t.Errorf("problems = %v, want the one-word synonym group on line 3", c.Problems)
	}
}

func TestContentHashChangesWithContent(t *testing.T) {
	fs := fstest.MapFS{"a.md": {Data: []byte(goodArticle)}}
	c1, _ := Load(fs)
	c2, _ := Load(fs)
	fs["a.md"] = &fstest.MapFile{Data: []byte(strings.Replace(goodArticle, "Yes.", "No.", 1))}
	c3, _ := Load(fs)
	if c1.Hash != c2.Hash {
		t.Error("same content, different hash")
	}
	if c1.Hash == c3.Hash {
		t.Error("changed content, same hash")
	}
}

// FuzzLoadArticle loads one article file of arbitrary bytes. Load must
// not panic nor fail (a broken file is a Problem, not an error); an
// article it keeps must be usable, and every problem must name the file.
// Seeds are in testdata/fuzz/FuzzLoadArticle.
func FuzzLoadArticle(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(fstest.MapFS{"article.md": {Data: data}})
		if err != nil {
			t.Fatalf("Load failed on a readable file: %v", err)
		}
		for _, p := range c.Problems {
			if p.File != "article.md" || p.Line < 0 || p.Msg == "" || p.Error() == "" {
				t.Errorf("problem %+v", p)
			}
		}
		switch len(c.Articles) {
		case 0:
			if len(c.Problems) == 0 {
				t.Error("the article was left out without a problem")
			}
		case 1:
			a := c.Articles[0]
			if !idPattern.MatchString(a.ID) || a.Title == "" || a.Body == "" || a.File != "article.md" {
				t.Errorf("kept an unusable article %+v", a)
			}
		default:
			t.Errorf("one file gave %d articles", len(c.Articles))
		}
	})
}

// TestItalicsAreReportedButTheArticleServes: single-asterisk emphasis,
// which the chat shows with its asterisks, is a problem on its line; the
// article still loads, and **bold** and "* " list items are no problem.
func TestItalicsAreReportedButTheArticleServes(t *testing.T) {
	fsys := fstest.MapFS{"bulbs.md": {Data: []byte("---\nid: bulbs\ntitle: Bulbs\nquestions:\n  - which bulb\n---\n" +
		"Use **E27** bulbs.\n\n* one\n* two\n\nThe bulb must say *dimmable* on the box.\n")}}
	c, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Articles) != 1 {
		t.Fatalf("articles %v, want the one", c.Articles)
	}
	if len(c.Problems) != 1 || c.Problems[0].Line != 12 || !strings.Contains(c.Problems[0].Msg, "*dimmable*") {
		t.Errorf("problems %v, want one for *dimmable* on line 12", c.Problems)
	}
}
