package replay

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/ampload/amp/capture"
)

// SourceKind says where in a response a correlated value is found.
type SourceKind string

// The places a correlated value can come from.
const (
	// SourceHeader: a response header field (Location, Set-Cookie, X-CSRF-Token, ...).
	SourceHeader SourceKind = "header"
	// SourceBody: the response body (HTML inputs and meta tags, JSON, scripts).
	SourceBody SourceKind = "body"
)

// Source locates a value in one task's response: the text after the
// Occurrence-th match of Left, up to Right (or the end of the text when Right
// is empty).
type Source struct {
	// Task is the index of the task whose response carries the value.
	Task int `json:"task"`
	// Kind is the part of the response searched.
	Kind SourceKind `json:"kind"`
	// Header is the field name for SourceHeader.
	Header string `json:"header,omitempty"`
	// Left is the text just before the value.
	Left string `json:"left"`
	// Right is the text just after the value; empty means the end.
	Right string `json:"right"`
	// Occurrence is which match of Left to use, from 0.
	Occurrence int `json:"occurrence"`
}

// Use is a place where a later request sent a correlated value back.
type Use struct {
	// Task is the index of the task whose request carries the value.
	Task int `json:"task"`
	// Where names the part of the request: "path", "query", "body" or
	// "header NAME".
	Where string `json:"where"`
}

// Rule is a value the server generated in a recorded response and later
// requests of the same session sent back. At replay each user extracts the
// value its own live response carried and substitutes it.
type Rule struct {
	// Name is a readable name: the parameter, JSON key or header it was sent in.
	Name string `json:"name"`
	// Value is the recorded value.
	Value string `json:"value"`
	// Source is where the value comes from.
	Source Source `json:"source"`
	// Uses are where it is sent back.
	Uses []Use `json:"uses"`
}

// token is a value a request sends, with where and under which name.
type token struct {
	value, where, name string
}

// Learn finds the correlations of one recorded session. The exchanges must be
// in the order they were sent.
func Learn(s *capture.Session) []Rule { return learn(s) }

func learn(s *capture.Session) []Rule {
	var rules []Rule
	byValue := map[string]int{}
	sent := map[string]bool{} // values the client sent before: not server-generated
	bodies := make([][]byte, len(s.Exchanges))
	for j, e := range s.Exchanges {
		toks := requestTokens(e)
		for _, tk := range toks {
			if ri, ok := byValue[tk.value]; ok {
				rules[ri].Uses = appendUse(rules[ri].Uses, Use{Task: j, Where: tk.where})
				continue
			}
			if sent[tk.value] || !dynamicLooking(tk.value) {
				continue
			}
			for i := 0; i < j; i++ {
				if bodies[i] == nil {
					bodies[i] = decodedBody(s.Exchanges[i].Response.Header, s.Exchanges[i].Response.Body)
				}
				src, ok := findSource(s.Exchanges[i], bodies[i], tk.value)
				if !ok {
					continue
				}
				src.Task = i
				byValue[tk.value] = len(rules)
				rules = append(rules, Rule{Name: tk.name, Value: tk.value, Source: src, Uses: []Use{{Task: j, Where: tk.where}}})
				break
			}
		}
		for _, tk := range toks {
			sent[tk.value] = true
		}
	}
	return rules
}

func appendUse(uses []Use, u Use) []Use {
	for _, x := range uses {
		if x == u {
			return uses
		}
	}
	return append(uses, u)
}

// dynamicLooking keeps values that can be server-generated ids or tokens and
// drops words and small numbers that would match by chance.
func dynamicLooking(v string) bool {
	if len(v) < 4 || len(v) > 4096 {
		return false
	}
	digit := strings.ContainsAny(v, "0123456789")
	return digit || len(v) >= 16
}

// requestTokens lists the values a request sends: path segments, query and
// form values, JSON strings and numbers, and non-standard header values.
func requestTokens(e *capture.Exchange) []token {
	var out []token
	add := func(v, where, name string) {
		if v != "" {
			out = append(out, token{value: v, where: where, name: name})
		}
	}
	target := requestTarget(e.Request.URL)
	path, query, _ := strings.Cut(target, "?")
	prev := ""
	for _, seg := range strings.Split(path, "/") {
		if seg == "" {
			continue
		}
		if v, err := url.PathUnescape(seg); err == nil {
			add(v, "path", prev)
		}
		prev = seg
	}
	if vals, err := url.ParseQuery(query); err == nil {
		for k, vs := range vals {
			for _, v := range vs {
				add(v, "query", k)
			}
		}
	}
	ct := strings.ToLower(e.Request.Header.Get("Content-Type"))
	body := e.Request.Body
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		if vals, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range vals {
				for _, v := range vs {
					add(v, "body", k)
				}
			}
		}
	case strings.Contains(ct, "json") || (len(body) > 0 && (body[0] == '{' || body[0] == '[')):
		var doc any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&doc) == nil {
			walkJSON(doc, "", func(k, v string) { add(v, "body", k) })
		}
	}
	for _, f := range e.Request.Header {
		name := strings.ToLower(f.Name)
		if standardRequestHeader(name) {
			continue
		}
		v := f.Value
		if name == "authorization" {
			if _, cred, ok := strings.Cut(v, " "); ok {
				v = strings.TrimSpace(cred)
			}
		}
		add(v, "header "+f.Name, f.Name)
	}
	return out
}

func walkJSON(v any, key string, fn func(k, v string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			walkJSON(c, k, fn)
		}
	case []any:
		for _, c := range x {
			walkJSON(c, key, fn)
		}
	case string:
		fn(key, x)
	case json.Number:
		fn(key, x.String())
	}
}

func standardRequestHeader(name string) bool {
	if strings.HasPrefix(name, "sec-") || strings.HasPrefix(name, "accept") || strings.HasPrefix(name, "if-") ||
		strings.HasPrefix(name, ":") || isHopHeader(name) {
		return true
	}
	switch name {
	case "user-agent", "referer", "origin", "content-type", "cache-control", "pragma", "dnt",
		"upgrade-insecure-requests", "priority", "content-encoding", "range", "x-requested-with":
		return true
	}
	return false
}

// isHopHeader reports fields that belong to one connection or that the replay
// sets itself (lower-case names).
func isHopHeader(name string) bool {
	switch name {
	case "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
		"proxy-authorization", "te", "trailer", "upgrade", "expect", "cookie":
		return true
	}
	return false
}

// decodedBody undoes gzip or deflate Content-Encoding so that values can be
// found; other encodings are searched as they are.
func decodedBody(h capture.Headers, body []byte) []byte {
	if body == nil {
		return []byte{}
	}
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))) {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return body
		}
		r = zr
	case "deflate":
		r = flate.NewReader(bytes.NewReader(body))
	default:
		return body
	}
	out, err := io.ReadAll(io.LimitReader(r, maxKeptBody))
	if err != nil && len(out) == 0 {
		return body
	}
	return out
}

// findSource looks for v in the response of e: first its header fields, then
// its (decoded) body.
func findSource(e *capture.Exchange, body []byte, v string) (Source, bool) {
	for _, f := range e.Response.Header {
		text := headerText(f)
		if !strings.Contains(text, v) {
			continue
		}
		if src, ok := locate(text, v); ok {
			src.Kind, src.Header = SourceHeader, f.Name
			return src, true
		}
	}
	if bytes.Contains(body, []byte(v)) {
		if src, ok := locate(string(body), v); ok {
			src.Kind = SourceBody
			return src, true
		}
	}
	return Source{}, false
}

// headerText is the part of a field value that is searched: a Location's
// path and query only, since the host changes at replay.
func headerText(f capture.Header) string {
	if strings.EqualFold(f.Name, "Location") || strings.EqualFold(f.Name, "Content-Location") {
		if strings.Contains(f.Value, "://") {
			return requestTarget(f.Value)
		}
	}
	return f.Value
}

// locate finds a whole-token occurrence of v in text and the boundaries that
// extract it again.
func locate(text, v string) (Source, bool) {
	from := 0
	for {
		i := strings.Index(text[from:], v)
		if i < 0 {
			return Source{}, false
		}
		i += from
		end := i + len(v)
		from = i + 1
		if (i > 0 && isWordByte(text[i-1])) || (end < len(text) && isWordByte(text[end])) {
			continue
		}
		right := ""
		if end < len(text) {
			right = text[end : end+1]
		}
		left := leftContext(text, i)
		if left == "" && i > 0 {
			continue
		}
		src := Source{Left: left, Right: right}
		if left != "" {
			src.Occurrence = countBefore(text, left, i)
		}
		if got, ok := extract(text, src); ok && got == v {
			return src, true
		}
	}
}

// countBefore counts the matches of left (overlapping ones too) that end
// before pos: the index of the match that ends at pos.
func countBefore(text, left string, pos int) int {
	n, from := 0, 0
	for {
		i := strings.Index(text[from:], left)
		if i < 0 || from+i+len(left) >= pos {
			return n
		}
		n++
		from += i + 1
	}
}

func isWordByte(b byte) bool {
	return b == '_' || b == '-' || ('0' <= b && b <= '9') || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
}

// leftContext returns the text before position i back to a structural
// boundary (a line break, tag end, or the start of a JSON object, list or
// query pair), at most 48 bytes, without leading white space.
func leftContext(text string, i int) string {
	start := max(0, i-48)
	for k := i - 1; k >= start; k-- {
		switch text[k] {
		case '\n', '>':
			start = k + 1
			k = -1
		case '{', '[', ',', '&', '?', ';':
			start = k
			k = -1
		}
	}
	return strings.TrimLeft(text[start:i], " \t\r")
}

// extract applies a source to a response text.
func extract(text string, src Source) (string, bool) {
	pos := 0
	if src.Left != "" {
		from := 0
		for n := 0; ; n++ {
			i := strings.Index(text[from:], src.Left)
			if i < 0 {
				return "", false
			}
			if n == src.Occurrence {
				pos = from + i + len(src.Left)
				break
			}
			from += i + 1
		}
	}
	rest := text[pos:]
	if src.Right == "" {
		if src.Kind == SourceBody {
			return "", false
		}
		return rest, rest != ""
	}
	j := strings.Index(rest, src.Right)
	if j <= 0 {
		return "", false
	}
	return rest[:j], true
}

// Describe says in one line where a rule's value comes from, e.g.
// `body after "name=\"csrf_token\" value=\""`.
func (s Source) Describe() string {
	where := "body"
	if s.Kind == SourceHeader {
		where = "header " + s.Header
	}
	if s.Left == "" {
		return where
	}
	occ := ""
	if s.Occurrence > 0 {
		occ = " (match " + strconv.Itoa(s.Occurrence+1) + ")"
	}
	return where + " after " + strconv.Quote(s.Left) + occ
}
