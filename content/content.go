// Package content holds the demo knowledge base of Frontdesk: the customer
// service of "Lumen & Co", a small online lighting shop. Articles are
// Markdown files with YAML front matter under articles/; synonyms.txt and
// negatives.txt tune the search. `frontdesk serve` uses this content when
// no --content directory is given.
package content

import "embed"

// FS is the embedded demo content, laid out as a content directory.
//
//go:embed articles synonyms.txt negatives.txt web console
var FS embed.FS
