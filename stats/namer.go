package stats

import (
	"fmt"
	"regexp"
	"strings"
)

// Namer names endpoints: it turns a request URL into a path template such
// as "/articles/{id}", so that the statistics of /articles/123 and
// /articles/456 add up. User rules ("REGEX=NAME") are tried first, in order,
// against the path with its query ("/search?q=x"); the first that matches
// names the request, and NAME may use the regex's groups ($1, ${name}).
// Otherwise each path segment that is an id becomes a placeholder:
//
//	123, 2024                        {id}
//	123e4567-e89b-12d3-a456-426614174000  {uuid}
//	5f2b9c0e1a7d, long hex (≥ 8, with a digit and a letter, or ≥ 16)  {hex}
//	base64-ish tokens (≥ 20 chars, mixed case and digits, or lower case and digits)  {token}
//
// An extension stays: /img/123.jpg → /img/{id}.jpg. The query string is
// dropped. A Namer is safe for concurrent use.
type Namer struct {
	rules []nameRule
}

type nameRule struct {
	re   *regexp.Regexp
	name string
}

// NewNamer compiles rules of the form REGEX=NAME (split at the last '=').
// Errors name the rule.
func NewNamer(rules []string) (*Namer, error) {
	n := &Namer{}
	for _, r := range rules {
		i := strings.LastIndex(r, "=")
		if i < 0 {
			return nil, fmt.Errorf("name rule %q: want REGEX=NAME, e.g. '^/articles/=/articles/{slug}'", r)
		}
		expr, name := r[:i], strings.TrimSpace(r[i+1:])
		if expr == "" || name == "" {
			return nil, fmt.Errorf("name rule %q: want REGEX=NAME with both parts non-empty", r)
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("name rule %q: bad regular expression: %v", r, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		n.rules = append(n.rules, nameRule{re: re, name: name})
	}
	return n, nil
}

// Name returns the endpoint name of a request: the first matching rule's
// name, else the path template. rawURL may be absolute or a path.
func (n *Namer) Name(method, rawURL string) string {
	path, query := splitURL(rawURL)
	if n != nil && len(n.rules) > 0 {
		target := path
		if query != "" {
			target += "?" + query
		}
		for _, r := range n.rules {
			if m := r.re.FindStringSubmatchIndex(target); m != nil {
				if strings.Contains(r.name, "$") {
					return string(r.re.ExpandString(nil, r.name, target, m))
				}
				return r.name
			}
		}
	}
	return Template(path)
}

// splitURL returns the path as given (at least "/") and the raw query of
// an absolute URL or a path.
func splitURL(raw string) (path, query string) {
	s := raw
	if i := strings.Index(s, "://"); i >= 0 && !strings.ContainsAny(s[:i], "/?#") {
		s = s[i+3:]
		if j := strings.IndexAny(s, "/?#"); j >= 0 {
			s = s[j:]
		} else {
			s = ""
		}
	}
	s, _, _ = strings.Cut(s, "#")
	path, query, _ = strings.Cut(s, "?")
	if path == "" {
		path = "/"
	}
	return path, query
}

// Template replaces the id-like segments of an escaped URL path by
// placeholders ({id}, {uuid}, {hex}, {token}).
func Template(path string) string {
	if !strings.ContainsAny(path, "0123456789") {
		return path // no digit, no id: the common static case, without allocating
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = templateSegment(s)
	}
	return strings.Join(segs, "/")
}

func templateSegment(s string) string {
	if s == "" {
		return s
	}
	if p := classify(s); p != "" {
		return p
	}
	// an id with a short extension: 123.json, 5f2b9c0e1a7d.png
	if i := strings.IndexByte(s, '.'); i > 0 && len(s)-i-1 <= 5 && isAlnum(s[i+1:]) {
		if p := classify(s[:i]); p != "" {
			return p + s[i:]
		}
	}
	return s
}

func classify(s string) string {
	var digits, lower, upper, hexLetters, other int
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z':
			lower++
			if c <= 'f' {
				hexLetters++
			}
		case c >= 'A' && c <= 'Z':
			upper++
			if c <= 'F' {
				hexLetters++
			}
		default:
			other++
		}
	}
	n := len(s)
	switch {
	case digits == n:
		return "{id}"
	case n == 36 && isUUID(s):
		return "{uuid}"
	case other == 0 && digits+hexLetters == n && (n >= 16 || n >= 8 && digits > 0 && hexLetters > 0) && (upper == 0 || lower == 0):
		return "{hex}"
	case n >= 20 && isToken(s) && digits > 0 && (lower > 0 && upper > 0 || other == 0 && upper == 0 && lower > 0):
		return "{token}"
	}
	return ""
}

func isUUID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isToken reports whether s is made of base64 / base64url characters (with
// optional '=' padding at the end).
func isToken(s string) bool {
	s = strings.TrimRight(s, "=")
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '+' || c == '~') {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
