package main

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// termSafe returns s fit to print on a terminal. Control characters (C0,
// tab and newline included, DEL and C1), Unicode bidirectional controls
// and line separators, and bytes that are not UTF-8 are written as Go
// escapes (\x1b, \u202e), so that text customers and agents chose
// themselves cannot recolour, move the cursor, rewrite the title, break
// a table's rows or reorder what the operator reads. A backslash is left
// as it is.
func termSafe(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports whether r, valid UTF-8 above ASCII, is a C1 control,
// a bidirectional control or a line or paragraph separator.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1, e.g. U+009B, a one-character CSI
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // ALM, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return false
}

// termSafeJSON returns JSON as encoding/json wrote it, with the
// characters it leaves raw but a terminal may act on (C1 and
// bidirectional controls) written as \u escapes. The JSON means the same:
// those characters can only occur inside strings.
func termSafeJSON(data []byte) []byte {
	if !bytes.ContainsFunc(data, unsafeRune) {
		return data
	}
	var b bytes.Buffer
	for len(data) > 0 {
		r, n := utf8.DecodeRune(data)
		if unsafeRune(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.Write(data[:n])
		}
		data = data[n:]
	}
	return b.Bytes()
}
