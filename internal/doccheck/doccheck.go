// Package doccheck lets tests hold the docs to the code: it reads a table
// of a Markdown document and the string constants of a Go file, so that a
// test can fail when a code is added to one and not the other.
package doccheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Table returns the rows of the first table after the line heading in
// the Markdown file, below its header row: each row's cells, trimmed and
// without backticks. It fails t when there is no such heading or table.
func Table(t testing.TB, mdFile, heading string) [][]string {
	t.Helper()
	data, err := os.ReadFile(mdFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == heading {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatalf("%s has no heading %q", mdFile, heading)
	}
	var rows [][]string
	for _, l := range lines[start+1:] {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "|") {
			if rows != nil {
				break // the table ended
			}
			if strings.HasPrefix(l, "#") {
				break // the next section, without a table
			}
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(l, "|"), "|") {
			cells = append(cells, strings.TrimSpace(strings.ReplaceAll(c, "`", "")))
		}
		rows = append(rows, cells)
	}
	if len(rows) < 2 {
		t.Fatalf("%s has no table under %q", mdFile, heading)
	}
	return rows[2:] // below the header and its separator
}

// Column returns cell i of each row.
func Column(rows [][]string, i int) []string {
	var out []string
	for _, r := range rows {
		if i < len(r) {
			out = append(out, r[i])
		}
	}
	return out
}

// Consts returns the values of the string constants declared at the top
// level of the Go file whose names start with prefix, in file order.
func Consts(t testing.TB, goFile, prefix string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), goFile, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, name := range v.Names {
				if !strings.HasPrefix(name.Name, prefix) || i >= len(v.Values) {
					continue
				}
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// CodeTable fails t unless the first column of the table under heading
// in mdFile lists exactly the string constants of goFile named prefix…,
// and each row's second column is one of classes: a table of error codes,
// each with the class of the core's error codes it belongs to.
func CodeTable[C ~string](t testing.TB, mdFile, heading, goFile, prefix string, classes []C) {
	t.Helper()
	rows := Table(t, mdFile, heading)
	documented := map[string]bool{}
	for _, r := range rows {
		documented[r[0]] = true
		if len(r) < 2 || !slices.Contains(classes, C(r[1])) {
			t.Errorf("%s: code %q: the class column is not one of %q", mdFile, r[0], classes)
		}
	}
	defined := map[string]bool{}
	for _, c := range Consts(t, goFile, prefix) {
		defined[c] = true
		if !documented[c] {
			t.Errorf("code %q of %s is not in the table under %q of %s", c, goFile, heading, mdFile)
		}
	}
	for c := range documented {
		if !defined[c] {
			t.Errorf("%s documents code %q, which %s does not define", mdFile, c, goFile)
		}
	}
}
