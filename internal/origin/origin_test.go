package origin

import (
	"net/http/httptest"
	"testing"
)

func TestAllowed(t *testing.T) {
	cases := []struct {
		name    string
		origin  string
		allowed []string
		want    bool
	}{
		{"no origin header is not a browser", "", nil, true},
		{"the server's own page", "http://chat.example.com", nil, true},
		{"the own host in another case", "https://CHAT.example.com", nil, true},
		{"another site is refused", "https://evil.example", nil, false},
		{"the null origin is refused", "null", nil, false},
		{"a configured site", "https://shop.example", []string{"https://shop.example/"}, true},
		{"a configured site in another case", "https://Shop.Example", []string{"https://shop.example"}, true},
		{"another scheme of a configured site is not it", "http://shop.example", []string{"https://shop.example"}, false},
		{"a star allows any", "https://anything.example", []string{"*"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://chat.example.com/ws", nil)
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			if got := Allowed(r, c.allowed); got != c.want {
				t.Errorf("Allowed(%q, %q) = %v, want %v", c.origin, c.allowed, got, c.want)
			}
		})
	}
}
