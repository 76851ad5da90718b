package replay

import (
	"mime"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ampload/amp/capture"
)

// SourceKind says where in a response a correlated value is found.
type SourceKind string

// The places a correlated value can come from, found by the structure of the
// response rather than by the text around the value.
const (
	// SourceHeader: a response header field, its whole value or the text
	// between Left and Right.
	SourceHeader SourceKind = "header"
	// SourceBody: the response body, the text between Left and Right: for
	// long tokens in places without structure (scripts, text).
	SourceBody SourceKind = "body"
	// SourceLocation: a path segment (Segment) or query parameter (Param)
	// of a redirect's Location, Content-Location or Refresh URL.
	SourceLocation SourceKind = "location"
	// SourceCookie: the value of the cookie Name that Set-Cookie sets.
	SourceCookie SourceKind = "cookie"
	// SourceField: the value an HTML page fills into the form field Name
	// (its Occurrence-th field of that name): an input's value, a
	// textarea's text, a select's chosen option — whatever the order of
	// the attributes.
	SourceField SourceKind = "field"
	// SourceAttr: the attribute Attr of the HTML tag Name identifies, such
	// as "meta[name=csrf-token]" content.
	SourceAttr SourceKind = "attr"
	// SourceLink: a path segment (Segment) or query parameter (Param) of
	// the Occurrence-th link, form action or source URL of an HTML page
	// that fits the path pattern Name.
	SourceLink SourceKind = "link"
	// SourceJSON: the JSON member at the path Name ("$.data.items[0].id").
	SourceJSON SourceKind = "json"
	// SourceData: the column Name of the user's --data row, taken at the
	// start of each session (Task is -1).
	SourceData SourceKind = "data"
	// SourceClient: a value the recorded client generated itself (a UUID,
	// nonce or timestamp of kind Name), made fresh for each user and
	// session (Task is -1).
	SourceClient SourceKind = "client"
)

// Source locates a value in one task's response.
type Source struct {
	// Task is the index of the task whose response carries the value.
	Task int `json:"task"`
	// Kind is the part of the response searched.
	Kind SourceKind `json:"kind"`
	// Header is the field name for SourceHeader and SourceLocation.
	Header string `json:"header,omitempty"`
	// Name is the field, cookie or JSON path, the tag key, or the path
	// pattern of a Location or link ("/admin/group/*/change").
	Name string `json:"name,omitempty"`
	// Attr is the attribute of a SourceAttr tag.
	Attr string `json:"attr,omitempty"`
	// Segment is the path segment, from 1, of a Location or link; 0 when
	// the value is a query parameter (Param).
	Segment int `json:"segment,omitempty"`
	// Param is the query parameter of a Location or link.
	Param string `json:"param,omitempty"`
	// Left is the text just before the value (SourceHeader, SourceBody).
	Left string `json:"left,omitempty"`
	// Right is the text just after the value; empty means the end.
	Right string `json:"right,omitempty"`
	// Occurrence is which match to use, from 0: of Left, of the field
	// name, of the tag key or of the link pattern.
	Occurrence int `json:"occurrence,omitempty"`
}

// Use is a place where a later request sent a correlated value back.
type Use struct {
	// Task is the index of the task whose request carries the value.
	Task int `json:"task"`
	// Where names the part of the request: "path", "query", "body" or
	// "header NAME".
	Where string `json:"where"`
	// Name is the parameter, form field or JSON member the value is sent
	// as; for a path segment the segment before it.
	Name string `json:"name,omitempty"`
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

	missing string // the failure reason when a live response lacks the value
}

// maxValue bounds the values correlated.
const maxValue = 4096

// span is a place in a task's request where a rule's live value goes.
type span struct {
	part  int // partTarget, partBody or a header index
	start int
	end   int
	rule  int
	enc   encoding
}

// learned is what Learn found in a session: the rules, and for each task the
// places of its request the rules' live values go to, in order.
type learned struct {
	rules []Rule
	spans [][]span
	ws    map[int][][]span // per WebSocket task, the spans of each of its messages (wsplan.go)
	// wsRules finds the rules sourced in conversations by source and value.
	wsRules map[wsRuleKey]int
}

// Learn finds the correlations of one recorded session. The exchanges must be
// in the order they were sent.
//
// A value a request sends is correlated when an earlier response handed it
// out (before the client first sent it) in a place that a live response
// has too. Long, token-like values are taken from any such place. Short
// values — ids 1, 2, 5 of a fresh database — only from places whose
// structure makes them unambiguous, and only into matching places: a path
// segment of a redirect's Location or a link into the same segment of a
// path of the same shape, a form field into a parameter of the same name,
// a JSON id member into a path segment or a member of the same name.
// Response fields no server hands to one client (Content-Length, Date,
// cache and rate-limit fields) are never sources.
//
// The values the client made itself (UUIDs, nonces, timestamps; see
// ClientValues) come last, as rules of kind SourceClient.
func Learn(s *capture.Session) []Rule {
	l := learnSpans(s)
	l.addClient(s, ClientValues(s))
	return l.rules
}

func learnSpans(s *capture.Session) learned {
	n := len(s.Exchanges)
	out := learned{spans: make([][]span, n)}
	ruleOf := map[Source]int{}
	firstSent := map[string]int{} // a value in a place → the first request that sent it
	index := make([]*respIndex, n)
	indexOf := func(i int) *respIndex {
		if index[i] == nil {
			e := s.Exchanges[i]
			index[i] = indexResponse(e, decodedBody(e.Response.Header, e.Response.Body), i)
		}
		return index[i]
	}
	for j, e := range s.Exchanges {
		var sentNow []string
		for _, p := range requestPlaces(e) {
			v := p.value
			if v == "" || len(v) > maxValue {
				continue
			}
			long := dynamicLooking(v)
			key := sentKey(p, long)
			sentNow = append(sentNow, key)
			limit := j
			if f, ok := firstSent[key]; ok && f < limit {
				limit = f // the client sent it before: only earlier responses can have handed it out
			}
			src, ok := findSource(indexOf, limit, p, long)
			if !ok {
				continue
			}
			ri, seen := ruleOf[src]
			if !seen {
				ri = len(out.rules)
				ruleOf[src] = ri
				out.rules = append(out.rules, Rule{Name: p.name, Value: v, Source: src})
			}
			r := &out.rules[ri]
			if u := (Use{Task: j, Where: p.where, Name: p.name}); !slices.Contains(r.Uses, u) {
				r.Uses = append(r.Uses, u)
			}
			out.spans[j] = addSpan(out.spans[j], span{part: p.part, start: p.start, end: p.end, rule: ri, enc: p.enc})
			if long {
				out.spans[j] = textSpans(out.spans[j], e, v, ri)
			}
		}
		if len(e.WS) > 0 {
			if out.ws == nil {
				out.ws = map[int][][]span{}
			}
			out.ws[j] = out.learnWS(j, e, indexOf, ruleOf)
		}
		for _, k := range sentNow {
			if _, ok := firstSent[k]; !ok {
				firstSent[k] = j
			}
		}
	}
	for j := range out.spans {
		sort.Slice(out.spans[j], func(a, b int) bool {
			x, y := out.spans[j][a], out.spans[j][b]
			if x.part != y.part {
				return x.part < y.part
			}
			return x.start < y.start
		})
	}
	return out
}

// sentKey identifies a value the client sent: a long token by itself, a
// short value with its place, since "1" as a page number says nothing
// about "1" as an object id.
func sentKey(p place, long bool) string {
	if long {
		return p.value
	}
	return p.value + "\x00" + p.where + "\x00" + p.name + "\x00" + p.ctx
}

// findSource looks for the place value p holds in the responses before
// request limit, the latest first.
func findSource(indexOf func(int) *respIndex, limit int, p place, long bool) (Source, bool) {
	for i := limit - 1; i >= 0; i-- {
		best, bestRank := Source{}, 99
		for _, c := range indexOf(i).byValue[p.value] {
			if !fits(c, p, long) {
				continue
			}
			if r := kindRank(c.src.Kind); r < bestRank {
				best, bestRank = c.src, r
			}
		}
		if bestRank < 99 {
			return best, true
		}
	}
	if !long {
		return Source{}, false
	}
	// A token in a place without structure: the text around it.
	for i := limit - 1; i >= 0; i-- {
		for _, t := range indexOf(i).text {
			if !strings.Contains(t.text, p.value) {
				continue
			}
			src, ok := locate(t.text, p.value)
			if !ok {
				continue
			}
			src.Task = i
			if t.header == "" {
				src.Kind = SourceBody
			} else {
				src.Kind, src.Header = SourceHeader, t.header
			}
			return src, true
		}
	}
	return Source{}, false
}

// fits reports whether candidate c can be the source of the value at p.
func fits(c candidate, p place, long bool) bool {
	if long {
		return true
	}
	if !c.strong {
		return false
	}
	switch c.src.Kind {
	case SourceField:
		return p.seg < 0 && p.name == c.src.Name
	}
	if !idLikeShort(p.value) {
		return false // a short word or version is a label, not an id
	}
	switch c.src.Kind {
	case SourceLocation, SourceLink:
		if c.src.Param != "" {
			return p.seg < 0 && p.name == c.src.Param
		}
		return p.seg == c.src.Segment-1 && p.ctx == c.ctx
	case SourceJSON:
		// Into a path segment only from a member named as an id; into a
		// parameter or member of its own name.
		return p.seg >= 0 && idLikeKey(c.key) || p.seg < 0 && p.name == c.key
	case SourceCookie:
		return p.seg < 0 && strings.EqualFold(p.name, c.src.Name)
	case SourceHeader:
		return p.seg < 0 && strings.EqualFold(p.name, c.src.Header)
	}
	return false
}

// addSpan adds sp unless it overlaps a span already there.
func addSpan(spans []span, sp span) []span {
	for _, x := range spans {
		if x.part == sp.part && sp.start < x.end && x.start < sp.end {
			return spans
		}
	}
	return append(spans, sp)
}

// textSpans adds every other occurrence of the long value v in request e
// (as it is, or query-escaped) as a span of rule ri.
func textSpans(spans []span, e *capture.Exchange, v string, ri int) []span {
	forms := []struct {
		text string
		enc  encoding
	}{{v, encRaw}}
	if q := url.QueryEscape(v); q != v {
		forms = append(forms, struct {
			text string
			enc  encoding
		}{q, encQuery})
	}
	scan := func(part int, text string) {
		for _, f := range forms {
			for from := 0; ; {
				i := strings.Index(text[from:], f.text)
				if i < 0 {
					break
				}
				i += from
				spans = addSpan(spans, span{part: part, start: i, end: i + len(f.text), rule: ri, enc: f.enc})
				from = i + len(f.text)
			}
		}
	}
	scan(partTarget, requestTarget(e.Request.URL))
	body := string(e.Request.Body)
	if mt, ps, _ := mime.ParseMediaType(e.Request.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// Only in the form's own fields: an uploaded file is sent as it is.
		eachPart(e.Request.Body, ps["boundary"], func(_ string, file bool, start, end int) {
			if !file {
				n := len(spans)
				scan(partBody, body[:end])
				kept := spans[:n]
				for _, sp := range spans[n:] {
					if sp.start >= start {
						kept = append(kept, sp)
					}
				}
				spans = kept
			}
		})
	} else {
		scan(partBody, body)
	}
	for i, f := range e.Request.Header {
		if name := strings.ToLower(f.Name); !isHopHeader(name) && name != "origin" {
			scan(i, f.Value)
		}
	}
	return spans
}

// dynamicLooking keeps values that can be server-generated ids or tokens and
// drops words, versions and file names that would match by chance: a
// number of four or more digits, a mix of letters and digits of eight or
// more bytes, or a long run of token characters in both cases (a base64url
// secret without a digit) — never a phrase, a title such as
// "Special:UserLogin", or a file name such as "jquery-3.6.0.min.js".
func dynamicLooking(v string) bool {
	if len(v) < 4 || len(v) > maxValue || staticName(v) {
		return false
	}
	digits, upper, lower, other := 0, false, false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case '0' <= c && c <= '9':
			digits++
		case 'A' <= c && c <= 'Z':
			upper = true
		case 'a' <= c && c <= 'z':
			lower = true
		case c == '_' || c == '-' || c == '+' || c == '/' || c == '=' || c == '~':
		default:
			other = true
		}
	}
	switch {
	case digits == len(v):
		return true
	case digits > 0:
		return len(v) >= 8
	}
	return len(v) >= 20 && upper && lower && !other
}

// idLikeShort reports a short value that can be an object id: digits, or a
// short hex string with a digit ("1", "42", "9f3a").
func idLikeShort(v string) bool {
	digit := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case '0' <= c && c <= '9':
			digit = true
		case 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return digit
}

// staticName reports a value that names a static file: "app.min.js",
// "logo.png".
func staticName(v string) bool {
	i := strings.LastIndexByte(v, '.')
	if i < 0 {
		return false
	}
	switch strings.ToLower(v[i+1:]) {
	case "js", "mjs", "css", "map", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif",
		"woff", "woff2", "ttf", "otf", "eot", "html", "htm", "txt", "xml", "json", "pdf", "mp4", "webm", "mp3":
		return true
	}
	return false
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

// decodedBody undoes the Content-Encoding (gzip, deflate, br, zstd) so
// that values can be found; other encodings are searched as they are.
func decodedBody(h capture.Headers, body []byte) []byte {
	if body == nil {
		return []byte{}
	}
	return decodeAll(h.Get("Content-Encoding"), body, maxKeptBody)
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

// Describe says in one line where a rule's value comes from and why that
// place is trusted, e.g. `form field "csrf_token"` or
// `Location path segment 4 of /admin/group/*/change`.
func (s Source) Describe() string {
	nth := func(n int) string {
		if n == 0 {
			return ""
		}
		return " (match " + strconv.Itoa(n+1) + ")"
	}
	switch s.Kind {
	case SourceLocation:
		if s.Param != "" {
			return s.Header + " query parameter " + strconv.Quote(s.Param)
		}
		return s.Header + " path segment " + strconv.Itoa(s.Segment) + " of " + s.Name
	case SourceCookie:
		return "Set-Cookie " + s.Name
	case SourceField:
		return "form field " + strconv.Quote(s.Name) + nth(s.Occurrence)
	case SourceAttr:
		return "<" + s.Name + "> " + s.Attr + nth(s.Occurrence)
	case SourceLink:
		if s.Param != "" {
			return "link " + s.Name + " query parameter " + strconv.Quote(s.Param) + nth(s.Occurrence)
		}
		return "link path segment " + strconv.Itoa(s.Segment) + " of " + s.Name + nth(s.Occurrence)
	case SourceJSON:
		return "JSON " + s.Name
	case SourceData:
		return "--data column " + strconv.Quote(s.Name)
	case SourceClient:
		return "made by the client (" + s.Name + "): fresh per user and session"
	case SourceWS:
		return "websocket message JSON " + s.Name + " (the latest the server sent)"
	}
	where := "body"
	if s.Kind == SourceHeader {
		where = "header " + s.Header
	}
	if s.Left == "" {
		return where
	}
	return where + " after " + strconv.Quote(s.Left) + nth(s.Occurrence)
}

// addData adds a rule for each --data binding of session s: the column's
// value replaces the recorded one in the places of the binding's name (a
// form field, JSON member, query parameter or header); a token-like value
// wherever it appears. Spans of learned rules in the same places give way.
func (l *learned) addData(s *capture.Session, bindings []DataBinding, d *DataSet) {
	for _, b := range bindings {
		col := d.Column(b.Column)
		if col < 0 {
			continue
		}
		ri := len(l.rules)
		r := Rule{Name: b.Column, Value: b.Value, Source: Source{Task: -1, Kind: SourceData, Name: b.Column, Occurrence: col}}
		for j, e := range s.Exchanges {
			n := len(l.spans[j])
			for _, p := range requestPlaces(e) {
				if p.value != b.Value || p.seg >= 0 || !strings.EqualFold(p.name, b.Name) {
					continue
				}
				l.spans[j] = takeSpan(l.spans[j], span{part: p.part, start: p.start, end: p.end, rule: ri, enc: p.enc})
				r.Uses = append(r.Uses, Use{Task: j, Where: p.where, Name: p.name})
			}
			if dynamicLooking(b.Value) {
				l.spans[j] = textSpans(l.spans[j], e, b.Value, ri)
				if len(l.spans[j]) > n && len(r.Uses) == 0 {
					r.Uses = append(r.Uses, Use{Task: j, Where: "text"})
				}
			}
		}
		if len(r.Uses) > 0 {
			l.rules = append(l.rules, r)
		}
		sortAll(l.spans)
	}
}

// addClient adds a rule for each value the client generated in session s:
// a fresh value of the same form replaces every occurrence, from the first
// request that sent it on.
func (l *learned) addClient(s *capture.Session, vals []ClientValue) {
	for _, v := range vals {
		ri := len(l.rules)
		r := Rule{Name: v.Name, Value: v.Value, Source: Source{Task: -1, Kind: SourceClient, Name: v.Kind}}
		for j, e := range s.Exchanges {
			var mine []span
			mine = textSpans(mine, e, v.Value, ri)
			for _, sp := range mine {
				l.spans[j] = takeSpan(l.spans[j], sp)
			}
			if len(mine) > 0 {
				r.Uses = append(r.Uses, Use{Task: j, Where: "text", Name: v.Name})
			}
		}
		if len(r.Uses) > 0 {
			l.rules = append(l.rules, r)
		}
		sortAll(l.spans)
	}
}

// takeSpan adds sp, dropping the spans it overlaps.
func takeSpan(spans []span, sp span) []span {
	kept := spans[:0]
	for _, x := range spans {
		if !(x.part == sp.part && sp.start < x.end && x.start < sp.end) {
			kept = append(kept, x)
		}
	}
	return append(kept, sp)
}

func sortAll(spans [][]span) {
	for j := range spans {
		sortSpans(spans[j])
	}
}

// setMissing sets the failure reason of a live response without the rule's
// value: "differs: no <source>" (a fixed text per rule, so reasons stay few).
func (r *Rule) setMissing() {
	r.missing = "differs: no " + r.Source.Describe() + " in the response"
}
