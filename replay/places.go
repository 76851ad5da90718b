package replay

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"github.com/ampload/amp/capture"
)

// encoding says how a value is written in its place of a request, so that a
// live value replacing it is written the same way.
type encoding uint8

const (
	encRaw   encoding = iota // as it is: multipart parts, header values, JSON numbers
	encPath                  // a path segment, percent-encoded
	encQuery                 // a query or urlencoded form value
	encJSON                  // the inside of a JSON string
)

// The parts of a request a place can be in; a value >= 0 is a header field,
// by its index in the request's header list.
const (
	partTarget = -1 // the request target: path and query
	partBody   = -2
)

// place is one value a request sends, located by structure: a whole path
// segment, a query or form parameter, a multipart part, a JSON member, a
// header field.
type place struct {
	where string // Use.Where: "path", "query", "body" or "header NAME"
	name  string // the parameter, field, member or header name; for a path segment the segment before it
	ctx   string // a path segment's path before it ("/admin/group/"), else ""
	seg   int    // a path segment's index from 0, else -1
	part  int    // partTarget, partBody or a header index
	start int    // the value's bytes in the part's text
	end   int
	value string // the value, decoded
	enc   encoding
}

// requestPlaces lists the values request e sends, each with its place.
func requestPlaces(e *capture.Exchange) []place {
	var out []place
	target := requestTarget(e.Request.URL)
	out = urlPlaces(out, target, 0, partTarget, "")
	body := e.Request.Body
	ct := e.Request.Header.Get("Content-Type")
	mt, params, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "application/x-www-form-urlencoded":
		out = pairPlaces(out, string(body), 0, partBody, "body")
	case mt == "multipart/form-data" && params["boundary"] != "":
		eachPart(body, params["boundary"], func(name string, file bool, start, end int) {
			if !file && name != "" {
				out = append(out, place{where: "body", name: name, seg: -1, part: partBody, start: start, end: end, value: string(body[start:end]), enc: encRaw})
			}
		})
	case strings.Contains(mt, "json") || (mt == "" && len(body) > 0 && (body[0] == '{' || body[0] == '[')):
		scanJSON(body, func(_, key string, start, end int, str bool) {
			v, ok := jsonScalar(body[start:end], str)
			if !ok {
				return
			}
			p := place{where: "body", name: key, seg: -1, part: partBody, start: start, end: end, value: v, enc: encRaw}
			if str { // the span is inside the quotes
				p.start, p.end, p.enc = start+1, end-1, encJSON
			}
			out = append(out, p)
		})
	}
	for i, f := range e.Request.Header {
		name := strings.ToLower(f.Name)
		switch {
		case name == "referer":
			// The page the request came from: its ids are the user's own too.
			if j := strings.Index(f.Value, "://"); j >= 0 {
				if k := strings.IndexAny(f.Value[j+3:], "/?"); k >= 0 {
					off := j + 3 + k
					out = urlPlaces(out, f.Value[off:], off, i, "header "+f.Name)
				}
			}
		case standardRequestHeader(name):
		case name == "authorization":
			if sch, cred, ok := strings.Cut(f.Value, " "); ok && strings.TrimSpace(cred) != "" {
				start := len(sch) + 1 + (len(cred) - len(strings.TrimLeft(cred, " ")))
				out = append(out, place{where: "header " + f.Name, name: f.Name, seg: -1, part: i, start: start, end: len(f.Value), value: f.Value[start:], enc: encRaw})
			}
		case f.Value != "":
			out = append(out, place{where: "header " + f.Name, name: f.Name, seg: -1, part: i, start: 0, end: len(f.Value), value: f.Value, enc: encRaw})
		}
	}
	return out
}

// urlPlaces appends the path segments and query parameters of a request
// target that starts at byte off of its part. where is "" for the request
// target itself ("path" and "query").
func urlPlaces(out []place, target string, off, part int, where string) []place {
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	path, query, hasQuery := strings.Cut(target, "?")
	pw, qw := "path", "query"
	if where != "" {
		pw, qw = where, where
	}
	prev, seg := "", 0
	for i := 0; i < len(path); {
		if path[i] == '/' {
			i++
			continue
		}
		j := i
		for j < len(path) && path[j] != '/' {
			j++
		}
		raw := path[i:j]
		if v, err := url.PathUnescape(raw); err == nil {
			out = append(out, place{where: pw, name: prev, ctx: path[:i], seg: seg, part: part, start: off + i, end: off + j, value: v, enc: encPath})
		}
		prev = raw
		seg++
		i = j
	}
	if hasQuery {
		out = pairPlaces(out, query, off+len(path)+1, part, qw)
	}
	return out
}

// pairPlaces appends the values of "k=v&k2=v2" text starting at byte off.
func pairPlaces(out []place, text string, off, part int, where string) []place {
	for i := 0; i <= len(text); {
		j := strings.IndexByte(text[i:], '&')
		if j < 0 {
			j = len(text)
		} else {
			j += i
		}
		pair := text[i:j]
		if k, v, ok := strings.Cut(pair, "="); ok {
			name, err1 := url.QueryUnescape(k)
			val, err2 := url.QueryUnescape(v)
			if err1 == nil && err2 == nil && name != "" {
				start := off + i + len(k) + 1
				out = append(out, place{where: where, name: name, seg: -1, part: part, start: start, end: start + len(v), value: val, enc: encQuery})
			}
		}
		i = j + 1
	}
	return out
}

// eachPart calls fn with the name and content span of every part of a
// multipart body; file says the part carries a file (filename=...).
func eachPart(body []byte, boundary string, fn func(name string, file bool, start, end int)) {
	delim := []byte("--" + boundary)
	i := bytes.Index(body, delim)
	for i >= 0 {
		i += len(delim)
		if bytes.HasPrefix(body[i:], []byte("--")) {
			return
		}
		h := bytes.Index(body[i:], []byte("\r\n\r\n"))
		if h < 0 {
			return
		}
		head := string(body[i : i+h])
		start := i + h + 4
		next := bytes.Index(body[start:], append([]byte("\r\n"), delim...))
		if next < 0 {
			return
		}
		end := start + next
		name, file := "", false
		for _, line := range strings.Split(head, "\r\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "Content-Disposition") {
				continue
			}
			if _, ps, err := mime.ParseMediaType(strings.TrimSpace(v)); err == nil {
				name = ps["name"]
				_, file = ps["filename"]
			}
		}
		fn(name, file, start, end)
		i = end + 2
	}
}

// scanJSON calls fn for every scalar of a JSON document with its path
// ("a.b[2].c"), its member name (the enclosing member's for array
// elements) and its bytes [start, end) — with the quotes for strings. It
// stops quietly at the first syntax error.
func scanJSON(b []byte, fn func(path, key string, start, end int, str bool)) {
	s := jsonScanner{b: b, fn: fn}
	s.value("$", "", 0)
}

type jsonScanner struct {
	b   []byte
	i   int
	fn  func(path, key string, start, end int, str bool)
	bad bool
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\r' || s.b[s.i] == '\t') {
		s.i++
	}
}

func (s *jsonScanner) value(path, key string, depth int) {
	s.ws()
	if s.i >= len(s.b) || depth > 64 {
		s.bad = true
		return
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.i++
		for n := 0; !s.bad; n++ {
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == '}' {
				s.i++
				return
			}
			if n > 0 {
				if s.i >= len(s.b) || s.b[s.i] != ',' {
					s.bad = true
					return
				}
				s.i++
				s.ws()
			}
			start := s.i
			if !s.str() {
				s.bad = true
				return
			}
			name, _ := jsonScalar(s.b[start:s.i], true)
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				s.bad = true
				return
			}
			s.i++
			s.value(path+"."+name, name, depth+1)
		}
	case c == '[':
		s.i++
		for n := 0; !s.bad; n++ {
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				return
			}
			if n > 0 {
				if s.i >= len(s.b) || s.b[s.i] != ',' {
					s.bad = true
					return
				}
				s.i++
			}
			s.value(path+"["+strconv.Itoa(n)+"]", key, depth+1)
		}
	case c == '"':
		start := s.i
		if !s.str() {
			s.bad = true
			return
		}
		s.fn(path, key, start, s.i, true)
	default:
		start := s.i
		for s.i < len(s.b) && !strings.ContainsRune(",]} \t\r\n", rune(s.b[s.i])) {
			s.i++
		}
		if s.i == start {
			s.bad = true
			return
		}
		s.fn(path, key, start, s.i, false)
	}
}

// str skips a JSON string at s.i.
func (s *jsonScanner) str() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			j++
		case '"':
			s.i = j + 1
			return true
		}
	}
	return false
}

// jsonScalar returns the text of a JSON scalar's bytes: a string unquoted,
// a number as written; false for true, false, null and bad strings.
func jsonScalar(raw []byte, str bool) (string, bool) {
	if !str {
		switch string(raw) {
		case "true", "false", "null":
			return "", false
		}
		return string(raw), true
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false
	}
	return v, true
}

// appendEncoded appends v written as enc requires.
func appendEncoded(b []byte, v string, enc encoding) []byte {
	const hex = "0123456789ABCDEF"
	switch enc {
	case encQuery, encPath:
		for i := 0; i < len(v); i++ {
			c := v[i]
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
				b = append(b, c)
			case enc == encQuery && c == ' ':
				b = append(b, '+')
			case enc == encPath && strings.IndexByte("!$&'()*+,;=:@", c) >= 0:
				b = append(b, c)
			default:
				b = append(b, '%', hex[c>>4], hex[c&15])
			}
		}
		return b
	case encJSON:
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
		}
		return b
	}
	return append(b, v...)
}
