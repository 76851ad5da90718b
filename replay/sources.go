package replay

import (
	"bytes"
	"mime"
	"net/url"
	"strings"

	"github.com/ampload/amp/capture"
)

// neverSource reports response header fields whose values no server hands
// to one client to send back: sizes, dates, caching, rate limits, timings
// and policies. A value in them that a later request happens to carry (a
// Content-Length of 777 and an article 777) is a coincidence, not a rule.
func neverSource(name string) bool {
	name = strings.ToLower(name)
	switch name {
	case "content-length", "date", "age", "expires", "last-modified", "cache-control", "pragma", "vary",
		"etag", "retry-after", "server", "content-type", "content-encoding", "content-language", "content-range",
		"accept-ranges", "connection", "keep-alive", "transfer-encoding", "strict-transport-security",
		"x-frame-options", "x-content-type-options", "x-xss-protection", "referrer-policy", "permissions-policy",
		"feature-policy", "x-powered-by", "via", "alt-svc", "report-to", "reporting-endpoints", "nel",
		"timing-allow-origin", "server-timing", "x-response-time", "x-runtime", "x-request-id", "x-correlation-id",
		"x-served-by", "x-cache", "x-cache-hits", "x-timer", "cf-ray", "cf-cache-status", "link",
		"content-disposition", "x-ua-compatible", "upgrade", "trailer":
		return true
	}
	return strings.HasPrefix(name, "x-ratelimit") || strings.HasPrefix(name, "ratelimit") ||
		strings.HasPrefix(name, "x-rate-limit") || strings.HasPrefix(name, "content-security-policy") ||
		strings.HasPrefix(name, "access-control-") || strings.HasPrefix(name, "cross-origin-") ||
		strings.HasPrefix(name, "x-envoy-") || strings.HasPrefix(name, "x-amz-cf-")
}

// candidate is a value one recorded response hands out, with the source that
// finds the same place in a live response.
type candidate struct {
	src    Source
	value  string
	strong bool   // its place is unambiguous enough to source a short value
	unique bool   // a link: the only one of its pattern (and parameter) on the page
	ctx    string // a path segment's path before it (Location, links)
	key    string // a JSON member's name
}

// kindRank orders the kinds of source from the most to the least specific:
// of two places in one response that hold a value, the better one wins.
func kindRank(k SourceKind) int {
	switch k {
	case SourceLocation:
		return 0
	case SourceField:
		return 1
	case SourceCookie:
		return 2
	case SourceHeader:
		return 3
	case SourceJSON:
		return 4
	case SourceLink:
		return 5
	case SourceAttr:
		return 6
	}
	return 7
}

// respIndex is the values a recorded response hands out, by value.
type respIndex struct {
	byValue map[string][]candidate
	text    []textPart // header values and the body, for the textual fallback
}

// textPart is a header field's value, or the body (header "").
type textPart struct{ header, text string }

// indexResponse lists the values a recorded response hands out, each with
// its structural source. body is the decoded body.
func indexResponse(e *capture.Exchange, body []byte, task int) *respIndex {
	ix := &respIndex{byValue: map[string][]candidate{}}
	add := func(c candidate) {
		if c.value == "" || len(c.value) > maxValue {
			return
		}
		c.src.Task = task
		ix.byValue[c.value] = append(ix.byValue[c.value], c)
	}
	for _, f := range e.Response.Header {
		name := strings.ToLower(f.Name)
		switch name {
		case "location", "content-location", "refresh":
			v := f.Value
			if name == "refresh" {
				_, after, ok := strings.Cut(strings.ToLower(v), "url=")
				if !ok {
					continue
				}
				v = strings.Trim(v[len(v)-len(after):], `'" `)
			}
			for _, p := range urlPlaces(nil, resolvePath(e.Request.URL, v), 0, 0, "") {
				c := candidate{value: p.value, strong: true, ctx: p.ctx}
				c.src = Source{Kind: SourceLocation, Header: f.Name}
				if p.seg >= 0 {
					c.src.Segment, c.src.Name = p.seg+1, pathPattern(p.ctx, p.seg, resolvePath(e.Request.URL, v))
				} else {
					c.src.Param = p.name
				}
				add(c)
			}
		case "set-cookie":
			nv, _, _ := strings.Cut(f.Value, ";")
			if n, v, ok := strings.Cut(nv, "="); ok {
				add(candidate{src: Source{Kind: SourceCookie, Name: strings.TrimSpace(n)}, value: strings.Trim(strings.TrimSpace(v), `"`), strong: true})
			}
		default:
			if neverSource(name) {
				continue
			}
			ix.text = append(ix.text, textPart{header: f.Name, text: f.Value})
			add(candidate{src: Source{Kind: SourceHeader, Header: f.Name}, value: strings.TrimSpace(f.Value), strong: true})
		}
	}
	mt, _, _ := mime.ParseMediaType(e.Response.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "text/css") || strings.HasPrefix(mt, "font/") || strings.HasPrefix(mt, "image/") ||
		strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/") {
		return ix // style sheets, fonts and media hand out file names, not state
	}
	ix.text = append(ix.text, textPart{text: string(body)})
	trim := bytes.TrimLeft(body, " \t\r\n\xef\xbb\xbf")
	switch {
	case strings.Contains(mt, "html") || strings.Contains(mt, "xml") || (mt == "" && len(trim) > 0 && trim[0] == '<'):
		indexHTML(body, e.Request.URL, add)
	case strings.Contains(mt, "json") || len(trim) > 0 && (trim[0] == '{' || trim[0] == '['):
		indexJSON(body, add)
	}
	return ix
}

// indexHTML lists an HTML page's form fields, identified tags' attributes
// and link URLs.
func indexHTML(body []byte, reqURL string, add func(candidate)) {
	fields := map[string]int{}
	eachField(body, func(name, value string) bool {
		add(candidate{src: Source{Kind: SourceField, Name: name, Occurrence: fields[name]}, value: value, strong: true})
		fields[name]++
		return true
	})
	keys, links := map[string]int{}, map[string]int{}
	var linkCands []candidate
	eachTag(body, func(t *htmlTag) bool {
		for _, a := range t.attrs {
			if !linkAttr(a.name) || a.value == "" || strings.HasPrefix(a.value, "#") || strings.HasPrefix(a.value, "javascript:") {
				continue
			}
			target := resolvePath(reqURL, a.value)
			for _, p := range urlPlaces(nil, target, 0, 0, "") {
				c := candidate{value: p.value, strong: true, ctx: p.ctx}
				if p.seg >= 0 {
					pat := pathPattern(p.ctx, p.seg, target)
					c.src = Source{Kind: SourceLink, Name: pat, Segment: p.seg + 1, Occurrence: links[pat]}
					links[pat]++
				} else {
					path := pathPattern("", -1, target)
					k := path + "?" + p.name
					c.src = Source{Kind: SourceLink, Name: path, Param: p.name, Occurrence: links[k]}
					links[k]++
				}
				linkCands = append(linkCands, c)
			}
		}
		switch t.name {
		case "input", "select", "textarea", "option", "a", "link", "script", "img", "form":
			return true
		}
		key := tagKey(t)
		if key == "" {
			return true
		}
		for _, a := range t.attrs {
			switch a.name {
			case "name", "id", "property", "itemprop", "class", "style", "type", "rel", "lang", "charset", "http-equiv":
				continue
			}
			if linkAttr(a.name) {
				continue
			}
			add(candidate{src: Source{Kind: SourceAttr, Name: key, Attr: a.name, Occurrence: keys[key]}, value: a.value})
		}
		keys[key]++
		return true
	})
	for _, c := range linkCands {
		k := c.src.Name
		if c.src.Param != "" {
			k += "?" + c.src.Param
		}
		c.unique = links[k] == 1
		add(c)
	}
}

// indexJSON lists a JSON document's scalar members. A short value is only
// trusted from a member named like an id, or when it occurs once.
func indexJSON(body []byte, add func(candidate)) {
	var all []candidate
	count := map[string]int{}
	scanJSON(body, func(path, key string, start, end int, str bool) {
		v, ok := jsonScalar(body[start:end], str)
		if !ok {
			return
		}
		all = append(all, candidate{src: Source{Kind: SourceJSON, Name: path}, value: v, key: key})
		count[v]++
	})
	for _, c := range all {
		c.strong = idLikeKey(c.key) || count[c.value] == 1
		add(c)
	}
}

// idLikeKey reports JSON member names that hold ids and tokens.
func idLikeKey(k string) bool {
	l := strings.ToLower(k)
	switch l {
	case "id", "pk", "uuid", "guid", "key", "slug", "token", "nonce", "ref", "handle":
		return true
	}
	return strings.HasSuffix(l, "_id") || strings.HasSuffix(l, "-id") || strings.HasSuffix(l, "token") ||
		strings.HasSuffix(l, "nonce") || (strings.HasSuffix(k, "Id") && len(k) > 2) || strings.HasSuffix(k, "ID")
}

// resolvePath returns the path and query of ref resolved against the
// absolute URL base, as a request for it would send them.
func resolvePath(base, ref string) string {
	if strings.Contains(ref, "://") || strings.HasPrefix(ref, "/") && !strings.HasPrefix(ref, "//") {
		return requestTarget(ref)
	}
	b, err := url.Parse(base)
	if err != nil {
		return requestTarget(ref)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return requestTarget(ref)
	}
	u := b.ResolveReference(r)
	t := u.EscapedPath()
	if u.RawQuery != "" {
		t += "?" + u.RawQuery
	}
	if t == "" {
		t = "/"
	}
	return t
}

// pathPattern is the path of target with segment seg (none if < 0) as "*"
// and other id-like segments as "{id}": what a live path must look like for
// its segment seg to be the same place.
func pathPattern(_ string, seg int, target string) string {
	path, _, _ := strings.Cut(target, "?")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := range segs {
		switch {
		case i == seg:
			segs[i] = "*"
		case idLikeSegment(segs[i]):
			segs[i] = "{id}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// idLikeSegment reports a path segment that is an id: digits, or a long
// token with a digit.
func idLikeSegment(s string) bool {
	if s == "" {
		return false
	}
	digits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			digits = false
			break
		}
	}
	return digits || dynamicLooking(s)
}

// matchPattern reports whether the path of target fits a pathPattern and
// returns its segment seg (from 0; none if < 0).
func matchPattern(pattern string, seg int, target string) (string, bool) {
	path, _, _ := strings.Cut(target, "?")
	p := strings.Split(strings.Trim(pattern, "/"), "/")
	s := strings.Split(strings.Trim(path, "/"), "/")
	if len(p) != len(s) || seg >= len(s) {
		return "", false
	}
	for i := range p {
		switch {
		case i == seg:
		case p[i] == "{id}":
			if !idLikeSegment(s[i]) {
				return "", false
			}
		case p[i] != s[i]:
			return "", false
		}
	}
	if seg < 0 {
		return "", true
	}
	v, err := url.PathUnescape(s[seg])
	if err != nil {
		return "", false
	}
	return v, true
}

// queryParam returns the first value of parameter name in target's query.
func queryParam(target, name string) (string, bool) {
	_, q, ok := strings.Cut(target, "?")
	if !ok {
		return "", false
	}
	for _, p := range pairPlaces(nil, q, 0, 0, "") {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// liveValue finds a rule's source in a live response: header gives the live
// values of a header field, body is the decoded live body (nil if not
// kept), reqURL the recorded URL of the request (the base of relative
// links).
func liveValue(src *Source, header func(name string, fn func(v []byte)), body []byte, reqURL string) (string, bool) {
	var got string
	var ok bool
	switch src.Kind {
	case SourceLocation:
		header(src.Header, func(v []byte) {
			if ok {
				return
			}
			val := string(v)
			if strings.EqualFold(src.Header, "Refresh") {
				_, after, found := strings.Cut(strings.ToLower(val), "url=")
				if !found {
					return
				}
				val = strings.Trim(val[len(val)-len(after):], `'" `)
			}
			target := resolvePath(reqURL, val)
			if src.Param != "" {
				got, ok = queryParam(target, src.Param)
			} else {
				got, ok = matchPattern(src.Name, src.Segment-1, target)
			}
		})
	case SourceCookie:
		header("Set-Cookie", func(v []byte) {
			nv, _, _ := strings.Cut(string(v), ";")
			if n, val, found := strings.Cut(nv, "="); found && strings.TrimSpace(n) == src.Name {
				got, ok = strings.Trim(strings.TrimSpace(val), `"`), true
			}
		})
	case SourceHeader:
		header(src.Header, func(v []byte) {
			if ok {
				return
			}
			text := headerText(capture.Header{Name: src.Header, Value: string(v)})
			if src.Left == "" && src.Right == "" {
				got, ok = strings.TrimSpace(text), text != ""
				return
			}
			got, ok = extract(text, *src)
		})
	case SourceField:
		n := 0
		eachField(body, func(name, value string) bool {
			if name != src.Name {
				return true
			}
			if n == src.Occurrence {
				got, ok = value, true
				return false
			}
			n++
			return true
		})
	case SourceAttr:
		n := 0
		eachTag(body, func(t *htmlTag) bool {
			if tagKey(t) != src.Name {
				return true
			}
			if n == src.Occurrence {
				got, ok = t.attr(src.Attr)
				return false
			}
			n++
			return true
		})
	case SourceLink:
		n := 0
		eachTag(body, func(t *htmlTag) bool {
			for _, a := range t.attrs {
				if !linkAttr(a.name) || a.value == "" {
					continue
				}
				target := resolvePath(reqURL, a.value)
				var v string
				var match bool
				if src.Param != "" {
					if _, fit := matchPattern(src.Name, -1, target); fit {
						v, match = queryParam(target, src.Param)
					}
				} else {
					v, match = matchPattern(src.Name, src.Segment-1, target)
				}
				if !match {
					continue
				}
				if n == src.Occurrence {
					got, ok = v, true
					return false
				}
				n++
			}
			return true
		})
	case SourceJSON:
		scanJSON(body, func(path, _ string, start, end int, str bool) {
			if !ok && path == src.Name {
				got, ok = jsonScalar(body[start:end], str)
			}
		})
	case SourceBody:
		got, ok = extract(string(body), *src)
	}
	return got, ok && got != ""
}

// needsBody reports whether a source reads the response body.
func (s *Source) needsBody() bool {
	switch s.Kind {
	case SourceField, SourceAttr, SourceLink, SourceJSON, SourceBody:
		return true
	}
	return false
}
