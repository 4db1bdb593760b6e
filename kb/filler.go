package kb

import (
	"slices"
	"strings"
)

// fillerWords are the greetings and courtesies people wrap a question in
// ("Hello, how do I return a lamp? Thanks"), and the words of talk that
// only colour it ("are you guys actually a german company"), as Squeeze
// writes them, so that "hellooo" and "thanksss" are among them. They say
// nothing about which article answers; when the content never uses one,
// it would count as an unknown word, the rarest of all, and drag the
// confidence of a plain question down ("Hello, how do I return a lamp?"
// 0.27 against 0.97 without the greeting).
var fillerWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`hi hello hey hiya heya hej howdy greetings morning afternoon
		dear sir madam thanks thank thx thnx tnx ty cheers regards please pls plz kindly
		guys folks actually really basically honestly seriously literally anyway btw lol um uh hmm`) {
		m[Squeeze(w)] = true
	}
	return m
}()

// framingPhrases frame a question without saying what it is about ("I
// would like to know if you ship to Austria"), tokenized as questions
// are ("i'd" is "id"). Few articles phrase their questions so; when none
// does, the phrase's words teach the classifier nothing but what the
// negatives ("i would like to know the capital of ...") say with them.
var framingPhrases = func() [][]string {
	var out [][]string
	for _, p := range []string{
		"i would like to know", "id like to know", "i want to know", "i wanna know", "i need to know",
		"can you tell me", "could you tell me", "can u tell me", "please tell me",
		"i was wondering", "i am wondering", "im wondering", "just wondering", "i wonder",
		"i have a question", "quick question", "i would like to ask", "id like to ask", "i want to ask",
		"may i ask", "can i ask",
		"i would like to", "id like to", "could you please", "can you please", "would you please",
		"is it possible to", "could you explain", "can you explain", "please explain",
		"i am writing because", "im writing because", "i am writing to", "im writing to",
		"i am writing about", "im writing about", "i am contacting you because", "im contacting you because",
		"i am reaching out because", "im reaching out because", "i am reaching out about", "im reaching out about",
	} {
		out = append(out, tokenize(p))
	}
	return out
}()

// framingIn returns the framing phrases the articles' titles and
// questions use.
func framingIn(arts []Article) map[string]bool {
	used := map[string]bool{}
	for i := range arts {
		for _, t := range append([]string{arts[i].Title}, arts[i].Questions...) {
			ws := tokenize(t)
			for _, p := range framingPhrases {
				if at(ws, p) >= 0 {
					used[strings.Join(p, " ")] = true
				}
			}
		}
	}
	return used
}

// at returns where phrase p first starts in words ws, or -1.
func at(ws, p []string) int {
	for i := 0; i+len(p) <= len(ws); i++ {
		if slices.Equal(ws[i:i+len(p)], p) {
			return i
		}
	}
	return -1
}

// Squeeze returns w with each run of one letter made one letter:
// "hellooo" and "hello" are both "helo", "thanksss" is "thanks". Words
// typed in a hurry are matched to lists of known words this way.
func Squeeze(w string) string {
	if !hasRun(w) {
		return w // most words: nothing to squeeze, nothing to allocate
	}
	var b strings.Builder
	var last rune
	for i, r := range w {
		if i == 0 || r != last {
			b.WriteRune(r)
		}
		last = r
	}
	return b.String()
}

// hasRun says whether w has a letter twice in a row.
func hasRun(w string) bool {
	var last rune
	for i, r := range w {
		if i > 0 && r == last {
			return true
		}
		last = r
	}
	return false
}

// withoutFiller returns q without the framing phrases and filler words
// the articles never use, and what it left out; q itself when it has
// none. Filler the articles do use (a "greeting" article's "hello")
// stays: it is evidence there.
func (k *KB) withoutFiller(q string) (string, []string) {
	words := tokenize(q)
	var filler []string
	for _, p := range framingPhrases {
		if i := at(words, p); i >= 0 && !k.framing[strings.Join(p, " ")] {
			filler = append(filler, strings.Join(p, " "))
			words = slices.Delete(slices.Clone(words), i, i+len(p))
		}
	}
	kept := words[:0:0]
	for _, w := range words {
		if fillerWords[Squeeze(w)] && !k.usesWord(w) {
			filler = append(filler, w)
			continue
		}
		kept = append(kept, w)
	}
	if len(filler) == 0 {
		return q, nil
	}
	return strings.Join(kept, " "), filler
}

// usesWord says whether the articles (or synonyms) use w or a word of
// its stem; the negatives do not count ("how do you say thank you in
// japanese" makes "thank" no article's evidence).
func (k *KB) usesWord(w string) bool {
	return k.stems[stem(w)]
}
