package llm

import "regexp"

var (
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	// Card-like: 13 to 19 digits, optionally grouped by spaces or dashes.
	cardPattern = regexp.MustCompile(`\b\d(?:[ -]?\d){12,18}\b`)
	// Phone-like: 7 to 15 digits, optionally after a + or (, with
	// spaces, dots, dashes or parentheses between them.
	phonePattern = regexp.MustCompile(`(?:\+|\(|\b)\d(?:[ .()-]{0,2}\d){6,14}\b`)
	// A date is not a phone number.
	datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$|^\d{2}\.\d{2}\.\d{4}$`)
)

// Mask replaces e-mail addresses with [email], card-like numbers with
// [card] and phone-like numbers with [phone]. It errs on the side of
// masking: an order number of seven digits or more reads as a phone
// number.
func Mask(s string) string {
	s = emailPattern.ReplaceAllString(s, "[email]")
	s = cardPattern.ReplaceAllString(s, "[card]")
	return phonePattern.ReplaceAllStringFunc(s, func(m string) string {
		if datePattern.MatchString(m) {
			return m
		}
		return "[phone]"
	})
}
