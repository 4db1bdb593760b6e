package bot

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/frontdesk/frontdesk/kb"
)

// words lower-cases text and splits it into words of letters, digits and
// apostrophes.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// normalized is text as words joined by single spaces, for comparisons.
func normalized(text string) string { return strings.Join(words(text), " ") }

// Rule names a dialogue rule that decides a customer's typed message
// before the knowledge base is searched.
type Rule string

// The dialogue rules, in the order the bot tries them (see MatchRule).
const (
	RuleHuman       Rule = "human"       // asks for a person: handed off
	RuleFrustration Rule = "frustration" // sounds frustrated: handed off with high priority
	RuleName        Rule = "name"        // gives a name ("I'm Ana"): noted and greeted
	RuleEmail       Rule = "email"       // gives only an email address: noted
	RuleSmalltalk   Rule = "smalltalk"   // greeting, thanks, bye or a request for help
)

// Match is the rule that decides a message, with what the rule found:
// why the customer sounds frustrated, the name, the email address or the
// kind of small talk. The zero Match means no rule decides: the
// knowledge base does.
type Match struct {
	Rule   Rule
	Detail string
}

// Kind is what the bot does on m: DecisionHandoff, DecisionSmalltalk, or
// "" when the knowledge base decides.
func (m Match) Kind() DecisionKind {
	switch m.Rule {
	case RuleHuman, RuleFrustration:
		return DecisionHandoff
	case "":
		return ""
	}
	return DecisionSmalltalk
}

// MatchRule returns the first dialogue rule that decides a customer's
// typed message, in the order the bot applies them: a request for a
// person (one of humanPhrases), frustration (previous holds the
// customer's recent messages, most recent first, for "the same question
// again"), a name, an email address alone, small talk. The bot's turns
// and "frontdesk ask" both decide with it.
func MatchRule(text string, humanPhrases, previous []string) Match {
	if wantsHuman(text, humanPhrases) {
		return Match{Rule: RuleHuman}
	}
	if why := frustrated(text, previous); why != "" {
		return Match{Rule: RuleFrustration, Detail: why}
	}
	if name := introducedName(text); name != "" {
		return Match{Rule: RuleName, Detail: name}
	}
	if email := mentionedEmail(text); email != "" && onlyEmail(text) {
		return Match{Rule: RuleEmail, Detail: email}
	}
	if kind := smalltalk(text); kind != "" {
		return Match{Rule: RuleSmalltalk, Detail: kind}
	}
	return Match{}
}

// smalltalk classifies greetings, thanks, goodbyes and requests for help:
// messages made only of such words (and a little filler). It returns ""
// for anything else, so that "hi, where is my parcel" is a question.
func smalltalk(text string) string {
	ws := words(text)
	if len(ws) == 0 || len(ws) > 6 {
		return ""
	}
	kind := ""
	for _, w := range ws {
		k, ok := smalltalkWords[w]
		if !ok {
			// Typed in a hurry: "helo", "hellooo", "hiii", "thanksss".
			k, ok = smalltalkWords[kb.Squeeze(w)]
		}
		if !ok {
			return ""
		}
		// The strongest kind wins: "hi, thanks" thanks, "ok bye" says bye.
		if k != "" && (kind == "" || rank[k] > rank[kind]) {
			kind = k
		}
	}
	return kind
}

var rank = map[string]int{"greeting": 1, "help": 2, "thanks": 3, "bye": 4}

var smalltalkWords = map[string]string{
	"hi": "greeting", "hello": "greeting", "hey": "greeting", "hiya": "greeting", "howdy": "greeting",
	"morning": "greeting", "afternoon": "greeting", "evening": "greeting", "hallo": "greeting", "yo": "greeting",
	"helo": "greeting", "halo": "greeting", "heya": "greeting", "hai": "greeting", "hola": "greeting",
	"thanks": "thanks", "thank": "thanks", "thx": "thanks", "cheers": "thanks", "ty": "thanks", "ta": "thanks",
	"thanx": "thanks", "thnx": "thanks", "thnks": "thanks", "thankyou": "thanks", "thanku": "thanks", "tanks": "thanks",
	"bye": "bye", "goodbye": "bye", "cya": "bye", "later": "bye", "farewell": "bye",
	"help": "help", "menu": "help", "start": "help", "question": "help", "questions": "help", "ask": "help",
	// Filler that does not change the kind.
	"good": "", "there": "", "you": "", "so": "", "much": "", "very": "", "a": "", "lot": "", "ok": "",
	"okay": "", "great": "", "again": "", "all": "", "and": "", "see": "", "for": "", "the": "", "me": "",
	"please": "", "many": "", "have": "", "nice": "", "day": "", "folks": "", "team": "", "guys": "", "can": "",
	"i": "", "quick": "", "one": "", "something": "", "got": "", "may": "", "small": "", "short": "",
}

// DefaultHumanPhrases are the phrases that ask for a person at once.
var DefaultHumanPhrases = []string{
	"human", "humans", "real person", "a person", "an agent", "live agent", "agent please", "talk to someone",
	"speak to someone", "speak with someone", "talk with someone", "someone real", "operator",
	"representative", "customer service rep", "live chat", "talk to a person", "speak to a person",
	"talk to staff", "real human", "somebody real", "connect me to", "support agent",
}

// containsPhrase reports whether the words of phrase occur in a row in ws.
// It splits phrase as words does, without allocating for a short phrase
// already in lower case (the human phrases are tried on every message).
func containsPhrase(ws []string, phrase string) bool {
	var arr [8]string
	return containsWords(ws, appendWords(arr[:0], phrase))
}

// appendWords appends the words of text, as words splits them, to dst.
func appendWords(dst []string, text string) []string {
	text = strings.ToLower(text)
	start := -1
	for i, r := range text {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' {
			if start >= 0 {
				dst, start = append(dst, text[start:i]), -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, text[start:])
	}
	return dst
}

// containsWords reports whether the words ps occur in a row in ws.
func containsWords(ws, ps []string) bool {
	if len(ps) == 0 {
		return false
	}
	for i := 0; i+len(ps) <= len(ws); i++ {
		match := true
		for j, p := range ps {
			if ws[i+j] != p {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// wantsHuman reports whether text asks for a person.
func wantsHuman(text string, phrases []string) bool {
	ws := words(text)
	for _, p := range phrases {
		if containsPhrase(ws, p) {
			return true
		}
	}
	return false
}

// Frustration phrases and insults.
var frustrationPhrases = []string{
	"useless", "stupid", "idiot", "idiots", "rubbish", "garbage", "terrible", "awful", "ridiculous",
	"wtf", "not helpful", "doesn't help", "doesnt help", "you don't understand", "you dont understand",
	"this is a joke", "pathetic", "hate this", "worst", "fed up", "sick of", "waste of time", "bullshit",
	"damn", "crap", "annoying", "not listening",
}

// frustrationWords are frustrationPhrases split into words once.
var frustrationWords = func() (out [][]string) {
	for _, p := range frustrationPhrases {
		out = append(out, words(p))
	}
	return out
}()

// describing are the frustration words that also describe things: "an
// annoying humming sound", "a terrible smell" report a fault, which the
// bot can answer, while "this is annoying", "terrible service" are
// about us.
var describing = map[string]bool{
	"useless": true, "stupid": true, "rubbish": true, "garbage": true, "terrible": true, "awful": true,
	"ridiculous": true, "pathetic": true, "worst": true, "crap": true, "annoying": true,
}

// aboutUs are the nouns after a describing word that make it a complaint
// about the shop, its people or the bot.
var aboutUs = map[string]bool{
	"service": true, "support": true, "customer": true, "experience": true, "bot": true, "chat": true,
	"chatbot": true, "shop": true, "store": true, "company": true, "team": true, "staff": true,
	"website": true, "site": true, "app": true, "answer": true, "answers": true, "reply": true,
	"replies": true, "help": true, "assistant": true, "robot": true, "machine": true, "people": true,
}

// functionWords follow a describing word that stands on its own ("this
// is useless, I want a refund", "so annoying and slow"): it is not
// describing a thing.
var functionWords = map[string]bool{
	"i": true, "you": true, "he": true, "she": true, "we": true, "they": true, "it": true, "this": true,
	"that": true, "and": true, "but": true, "or": true, "so": true, "as": true, "the": true, "a": true,
	"an": true, "is": true, "are": true, "was": true, "were": true, "be": true, "to": true, "of": true,
	"for": true, "with": true, "in": true, "on": true, "at": true, "me": true, "my": true, "your": true,
	"now": true, "again": true, "really": true, "ever": true, "please": true, "thanks": true, "not": true,
	"then": true, "if": true, "when": true, "because": true, "just": true, "too": true, "very": true,
	"all": true, "no": true, "yes": true, "ok": true, "okay": true, "here": true, "there": true,
}

// containsFrustration reports whether ws holds the frustration phrase ps,
// not counting a describing word that describes a thing ("an annoying
// humming sound"): one followed by a noun other than those of aboutUs.
func containsFrustration(ws, ps []string) bool {
	for i := 0; i+len(ps) <= len(ws); i++ {
		if !slices.Equal(ws[i:i+len(ps)], ps) {
			continue
		}
		if len(ps) == 1 && describing[ps[0]] && i+1 < len(ws) {
			if next := ws[i+1]; !functionWords[next] && !aboutUs[next] {
				continue
			}
		}
		return true
	}
	return false
}

var exclaims = regexp.MustCompile(`[!?]{3,}`)

// frustrated reports why text sounds frustrated ("" when it does not):
// shouting in capitals, insults and complaints about the bot, or the same
// question again (previous holds the customer's recent questions).
func frustrated(text string, previous []string) string {
	letters, upper := 0, 0
	for _, r := range text {
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		}
	}
	if letters >= 10 && upper*10 >= letters*7 {
		return "shouting"
	}
	ws := words(text)
	for _, p := range frustrationWords {
		if containsFrustration(ws, p) {
			return "insult"
		}
	}
	if exclaims.MatchString(text) && len(ws) > 0 {
		return "exclamation"
	}
	n := normalized(text)
	if len(ws) >= 2 {
		for _, p := range previous {
			if normalized(p) == n {
				return "repeated"
			}
		}
	}
	return ""
}

var nameRe = regexp.MustCompile(`(?i)^\s*(?:hi[,!.]?\s+)?(?:my name is|my name's|i am|i'm|im|call me|this is)\s+([\p{L}][\p{L}'-]{0,30})\s*[.!]?\s*$`)

// notNames are words that follow "I'm" without being a name.
var notNames = map[string]bool{
	"fine": true, "good": true, "ok": true, "okay": true, "looking": true, "trying": true, "not": true,
	"waiting": true, "still": true, "here": true, "back": true, "sorry": true, "confused": true, "new": true,
	"angry": true, "upset": true, "happy": true, "done": true, "a": true, "an": true, "the": true, "interested": true,
}

// introducedName returns the name in "my name is Ana" or "I'm Ana".
func introducedName(text string) string {
	m := nameRe.FindStringSubmatch(text)
	if m == nil || notNames[strings.ToLower(m[1])] {
		return ""
	}
	r := []rune(m[1])
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

var emailRe = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)

// mentionedEmail returns the first email address in text, or "".
func mentionedEmail(text string) string {
	return emailRe.FindString(text)
}

// onlyEmail reports whether text is just an email address, perhaps with
// "my email is" around it: a message that gives it rather than asks.
func onlyEmail(text string) bool {
	rest := words(emailRe.ReplaceAllString(text, " "))
	for _, w := range rest {
		switch w {
		case "my", "email", "e", "mail", "address", "is", "it's", "its", "here", "you", "can", "reach", "me", "at", "contact":
		default:
			return false
		}
	}
	return true
}

// weak reports whether a question is too short to stand alone, so it is
// read together with the previous one ("and abroad?").
func weak(text string) bool {
	ws := words(text)
	if len(ws) == 0 || len(ws) > 3 {
		return false
	}
	return true
}

// declines reports whether text is a plain "no" ("no thanks", "nope"),
// the answer to an offer such as adding a survey comment.
func declines(text string) bool {
	ws := words(text)
	if len(ws) == 0 || len(ws) > 4 {
		return false
	}
	for _, w := range ws {
		switch w {
		case "no", "nope", "nah", "thanks", "thank", "you", "i'm", "im", "good", "fine", "not", "really", "nothing", "ok", "okay":
		default:
			return false
		}
	}
	switch ws[0] {
	case "no", "nope", "nah", "nothing", "not", "i'm", "im":
		return true
	}
	return false
}

// questionWords start a question.
var questionWords = map[string]bool{
	"how": true, "what": true, "when": true, "where": true, "why": true, "who": true, "which": true,
	"can": true, "could": true, "do": true, "does": true, "did": true, "is": true, "are": true,
	"will": true, "would": true, "should": true, "may": true,
}

// asksQuestion reports whether text reads as a question: it ends with a
// question mark or starts with a question word.
func asksQuestion(text string) bool {
	if strings.HasSuffix(strings.TrimSpace(text), "?") {
		return true
	}
	ws := words(text)
	return len(ws) > 0 && questionWords[ws[0]]
}
