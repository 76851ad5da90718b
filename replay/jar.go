package replay

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// jar is a simulated user's cookie jar: what the servers set during the
// replay, per target. It keeps host and path scoping simple (one jar per
// target, path prefixes), which is what replaying one site needs.
type jar struct {
	cookies []jarCookie
}

type jarCookie struct {
	target      *Target
	name, value string
	path        string
	expires     time.Time // zero: a session cookie
}

// set stores one Set-Cookie field value received from target. A cookie
// that only repeats what the jar holds costs no allocation.
func (j *jar) set(target *Target, field []byte, now time.Time) {
	first, attrs, _ := bytes.Cut(field, []byte(";"))
	name, value, ok := bytes.Cut(bytes.TrimSpace(first), []byte("="))
	name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
	if !ok || len(name) == 0 {
		return
	}
	path := "/"
	var expires time.Time
	deleted := false
	for len(attrs) > 0 {
		var a []byte
		a, attrs, _ = bytes.Cut(attrs, []byte(";"))
		k, v, _ := bytes.Cut(bytes.TrimSpace(a), []byte("="))
		v = bytes.TrimSpace(v)
		switch {
		case asciiEqualFold(k, "path"):
			if len(v) > 0 && v[0] == '/' {
				path = string(v)
			}
		case asciiEqualFold(k, "max-age"):
			if n, err := strconv.Atoi(string(v)); err == nil {
				if n <= 0 {
					deleted = true
				} else {
					expires = now.Add(time.Duration(n) * time.Second)
				}
			}
		case asciiEqualFold(k, "expires") && expires.IsZero() && !deleted:
			if t, err := time.Parse(time.RFC1123, string(v)); err == nil {
				if !t.After(now) {
					deleted = true
				} else {
					expires = t
				}
			}
		}
	}
	for i := range j.cookies {
		x := &j.cookies[i]
		if x.target != target || x.name != string(name) || x.path != path {
			continue
		}
		switch {
		case deleted:
			j.cookies = append(j.cookies[:i], j.cookies[i+1:]...)
		case x.value != string(value):
			x.value = string(value)
			fallthrough
		default:
			x.expires = expires
		}
		return
	}
	if !deleted {
		j.cookies = append(j.cookies, jarCookie{target: target, name: string(name), value: string(value), path: path, expires: expires})
	}
}

// appendHeader appends the Cookie field value for a request to target at
// path: each recorded cookie, with the jar's value when the server set that
// name during the replay, then the jar's other cookies. It returns b unchanged
// when there is no cookie to send.
func (j *jar) appendHeader(b []byte, target *Target, path string, recorded []Cookie, now time.Time) []byte {
	n := 0
	sep := func() {
		if n > 0 {
			b = append(b, "; "...)
		}
		n++
	}
	for _, rc := range recorded {
		sep()
		b = append(b, rc.Name...)
		b = append(b, '=')
		if c := j.lookup(target, rc.Name, path, now); c != nil {
			b = append(b, c.value...)
		} else {
			b = append(b, rc.Value...)
		}
	}
	for i := range j.cookies {
		c := &j.cookies[i]
		if c.target != target || !pathMatch(path, c.path) || (!c.expires.IsZero() && !c.expires.After(now)) || hasCookie(recorded, c.name) {
			continue
		}
		sep()
		b = append(b, c.name...)
		b = append(b, '=')
		b = append(b, c.value...)
	}
	return b
}

func hasCookie(cs []Cookie, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// lookup returns the most specific live cookie of that name for the path.
func (j *jar) lookup(target *Target, name, path string, now time.Time) *jarCookie {
	var best *jarCookie
	for i := range j.cookies {
		c := &j.cookies[i]
		if c.target != target || c.name != name || !pathMatch(path, c.path) || (!c.expires.IsZero() && !c.expires.After(now)) {
			continue
		}
		if best == nil || len(c.path) > len(best.path) {
			best = c
		}
	}
	return best
}

// pathMatch implements RFC 6265 path matching.
func pathMatch(reqPath, cookiePath string) bool {
	if i := strings.IndexByte(reqPath, '?'); i >= 0 {
		reqPath = reqPath[:i]
	}
	if reqPath == cookiePath {
		return true
	}
	if strings.HasPrefix(reqPath, cookiePath) {
		return strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
	}
	return false
}

// reset empties the jar for the next session, keeping its storage.
func (j *jar) reset() { j.cookies = j.cookies[:0] }
