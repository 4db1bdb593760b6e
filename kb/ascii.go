package kb

import "github.com/blevesearch/bleve/v2/analysis"

// Classes of the bytes asciiTokens reads, after the word-boundary rules of
// Unicode's text segmentation (UAX #29), which Bleve's unicode tokenizer
// follows.
const (
	asciiOther     = iota // not handled: the question goes to Bleve's tokenizer
	asciiBreak            // space and punctuation that always separate words
	asciiLetter           // ALetter
	asciiDigit            // Numeric
	asciiMidNumLet        // '.' and '\'': inside a word of letters or of digits
	asciiMidNum           // ',' and ';': inside a number
)

// asciiClass is the class of each byte.
var asciiClass = func() (c [256]uint8) {
	for b := 'a'; b <= 'z'; b++ {
		c[b], c[b-'a'+'A'] = asciiLetter, asciiLetter
	}
	for b := '0'; b <= '9'; b++ {
		c[b] = asciiDigit
	}
	for _, b := range " \t\n?!\"()/&-" {
		c[b] = asciiBreak
	}
	c['.'], c['\''] = asciiMidNumLet, asciiMidNumLet
	c[','], c[';'] = asciiMidNum, asciiMidNum
	return c
}()

// asciiTokens splits q into words as Bleve's unicode tokenizer does, for
// the plain text most questions are: letters, digits, spaces and common
// punctuation. ok is false when q holds any other byte ("_" and ":" join
// words in ways not handled here; non-ASCII text has scripts of its own),
// and the caller must use Bleve's tokenizer. The terms are slices of q.
// Only the terms and their order are the tokenizer's: the analysers'
// filters read nothing else.
func asciiTokens(q []byte) (ts analysis.TokenStream, ok bool) {
	for _, b := range q {
		if asciiClass[b] == asciiOther {
			return nil, false
		}
	}
	n := 0
	for i := 0; i < len(q); {
		c := asciiClass[q[i]]
		if c != asciiLetter && c != asciiDigit {
			i++
			continue
		}
		start := i
		for i++; i < len(q); i++ {
			c, prev := asciiClass[q[i]], asciiClass[q[i-1]]
			if c == asciiLetter || c == asciiDigit {
				continue // letters and digits run together (WB5, WB8-10)
			}
			if i+1 < len(q) && asciiClass[q[i+1]] == prev &&
				(c == asciiMidNumLet || (c == asciiMidNum && prev == asciiDigit)) {
				// "don't", "e.g", "3.5", "10,000" (WB6-7, WB11-12)
				i++
				continue
			}
			break
		}
		if ts == nil {
			ts = make(analysis.TokenStream, 0, len(q)/4+1)
		}
		n++
		typ := analysis.AlphaNumeric
		if asciiClass[q[start]] == asciiDigit && allDigits(q[start:i]) {
			typ = analysis.Numeric
		}
		ts = append(ts, &analysis.Token{Term: q[start:i], Start: start, End: i, Position: n, Type: typ})
	}
	return ts, true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if asciiClass[c] == asciiLetter {
			return false
		}
	}
	return true
}
