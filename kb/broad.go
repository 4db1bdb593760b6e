package kb

import "slices"

// A broad question is a single word that several articles are about:
// "order", "refund", "my account". The classifier still picks one of
// them, often with a high probability (a one-word question is close to
// whichever article's phrasings use the word most), but which of them
// the customer wants is anybody's guess: the bot asks instead of
// answering ("did you mean" with those articles).

// bareWords may stand beside the one word of a broad question without
// narrowing it: "my order", "about the refund". Question words and verbs
// ("where is my order") do narrow it.
var bareWords = map[string]bool{
	"my": true, "your": true, "our": true, "the": true, "a": true, "an": true,
	"this": true, "that": true, "it": true, "its": true, "i": true, "me": true,
	"we": true, "us": true, "about": true, "for": true, "on": true, "of": true,
	"to": true, "with": true, "and": true, "some": true, "any": true,
	"regarding": true, "re": true,
}

// titledBy maps the stem of each word of the articles' titles (synonyms
// as their group's first word) to the articles whose titles use it, in
// content order. A title says what an article is about; a word in one
// of its phrasings may be in passing ("order" in "can i pay for my order
// later"). An article titled by the word alone ("Refunds") is the one
// about it: such a word maps to that article only.
func titledBy(f *featurizer, articles []Article) map[string][]string {
	m := map[string][]string{}
	only := map[string]string{}
	for _, a := range articles {
		var stems []string
		for _, w := range f.words(a.Title) {
			if !stopWords[w] {
				stems = append(stems, stem(w))
			}
		}
		if len(stems) == 1 && only[stems[0]] == "" {
			only[stems[0]] = a.ID
		}
		for _, s := range stems {
			if ids := m[s]; len(ids) == 0 || ids[len(ids)-1] != a.ID {
				m[s] = append(ids, a.ID)
			}
		}
	}
	for s, id := range only {
		m[s] = []string{id}
	}
	return m
}

// broad returns the articles whose titles use the one word of a
// question (words as the classifier reads it: slips corrected, synonyms
// as their group's first word), when the question is that word alone or
// with bareWords and at least two articles use it; nil otherwise.
func (k *KB) broad(words []string) []string {
	word := ""
	for _, w := range words {
		if bareWords[w] {
			continue
		}
		if word != "" || stopWords[w] {
			return nil
		}
		word = w
	}
	if word == "" {
		return nil
	}
	if ids := k.titled[stem(word)]; len(ids) >= 2 {
		return slices.Clone(ids)
	}
	return nil
}
