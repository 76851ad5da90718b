package stats_test

import (
	"strings"
	"testing"

	"github.com/ampload/amp/stats"
)

func TestNamerTemplates(t *testing.T) {
	t.Parallel()
	n, err := stats.NewNamer(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, want string }{
		{"http://demo.local/articles/123", "/articles/{id}"},
		{"/articles/456?page=2&sort=asc", "/articles/{id}"}, // query dropped
		{"https://shop.example/", "/"},
		{"https://shop.example", "/"},
		{"/users/123e4567-e89b-12d3-a456-426614174000/orders/42", "/users/{uuid}/orders/{id}"},
		{"/commits/5f2b9c0e1a7d", "/commits/{hex}"},
		{"/blobs/0123456789abcdef0123456789abcdef", "/blobs/{hex}"},
		{"/s/eyJhbGciOiJIUzI1NiJ9xQ3", "/s/{token}"},
		{"/reset/k3j5h6g7f8d9s0a1q2w3e4r5", "/reset/{token}"},
		{"/img/123.jpg", "/img/{id}.jpg"},
		// kept: words, versions, slugs, dates, short mixed strings
		{"/api/v2/articles", "/api/v2/articles"},
		{"/blog/how-to-install-python3-on-ubuntu-2024", "/blog/how-to-install-python3-on-ubuntu-2024"},
		{"/static/app.min.js", "/static/app.min.js"},
		{"/archive/2024-01-02", "/archive/2024-01-02"},
		{"/deadbeef", "/deadbeef"}, // hex letters only: a word
		{"/files/My%20Report.pdf", "/files/My%20Report.pdf"},
	}
	for _, tc := range tests {
		if got := n.Name("GET", tc.url); got != tc.want {
			t.Errorf("Name(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

func TestNamerRules(t *testing.T) {
	t.Parallel()
	n, err := stats.NewNamer([]string{
		`^/search\?q==/search`, // '=' inside the regex: split at the last one
		`^/u/([a-z]+)/profile=/u/{user}/profile`,
		`^/api/(v[0-9]+)/=/api/$1/*`,
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, want string }{
		{"/search?q=shoes", "/search"},
		{"/search?page=1", "/search?page=1"[:7]}, // no rule matches; template drops the query
		{"/u/alice/profile", "/u/{user}/profile"},
		{"http://x/api/v3/things/7", "/api/v3/*"},
		{"/articles/9", "/articles/{id}"},
	}
	for _, tc := range tests {
		if got := n.Name("GET", tc.url); got != tc.want {
			t.Errorf("Name(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

func TestNamerBadRules(t *testing.T) {
	t.Parallel()
	for rule, want := range map[string]string{
		"noequals": `name rule "noequals": want REGEX=NAME`,
		"=name":    `name rule "=name": want REGEX=NAME with both parts`,
		"^/a(=/a":  `name rule "^/a(=/a": bad regular expression: missing closing )`,
		`^/x=   `:  `want REGEX=NAME with both parts`,
	} {
		_, err := stats.NewNamer([]string{rule})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rule %q: error %v, want %q", rule, err, want)
		}
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"/articles/123", "/a/b?c=d", "http://h/x/5f2b9c0e1a7d.png", "", "%zz", "/../..//"} {
		f.Add(s)
	}
	n, _ := stats.NewNamer(nil)
	f.Fuzz(func(t *testing.T, raw string) {
		name := n.Name("GET", raw)
		if !strings.HasPrefix(name, "/") && name != "" && !strings.Contains(raw, ":") {
			// paths keep their leading slash; only odd inputs (opaque URLs) may not
			t.Logf("name %q of %q", name, raw)
		}
		if strings.Contains(name, "?") && !strings.Contains(raw, "?") {
			t.Errorf("a '?' appeared in %q from %q", name, raw)
		}
		if n.Name("GET", name) != name && !strings.Contains(name, "?") && !strings.Contains(name, "#") && !strings.Contains(name, "%") {
			t.Errorf("not idempotent: %q -> %q -> %q", raw, name, n.Name("GET", name))
		}
	})
}
