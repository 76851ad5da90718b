package capture

import "strings"

// URLHost returns the lower-cased host[:port] of an absolute URL as
// recorded ("http://Shop.example:8080/x" gives "shop.example:8080"), or ""
// when raw is not absolute. It does not parse or re-encode: a recorded URL
// that net/url refuses still has its host.
func URLHost(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return strings.ToLower(rest)
}

// URLOrigin returns "scheme://host[:port]" of an absolute URL, lower case,
// or "".
func URLOrigin(raw string) string {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	return strings.ToLower(scheme) + "://" + URLHost(raw)
}

// URLTarget returns the request target of a URL: its path and query exactly
// as recorded (no re-encoding), without the fragment; "/" when empty.
func URLTarget(raw string) string {
	if _, rest, ok := strings.Cut(raw, "://"); ok {
		i := strings.IndexAny(rest, "/?")
		if i < 0 {
			return "/"
		}
		raw = rest[i:]
	}
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	if raw == "" {
		return "/"
	}
	if raw[0] == '?' {
		raw = "/" + raw
	}
	return raw
}

// Host returns the request's host[:port], lower case (URLHost).
func (r *Request) Host() string { return URLHost(r.URL) }

// Target returns the request's path and query as sent (URLTarget).
func (r *Request) Target() string { return URLTarget(r.URL) }
