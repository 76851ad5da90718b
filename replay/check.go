package replay

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/stats"
)

// CheckMode says how a replayed response is judged beyond the explicit
// Checks.
type CheckMode int

// The modes of --checks.
const (
	// CheckAuto compares each response with its recording: status, redirect
	// target, content type, page title, form set, JSON shape and body size.
	CheckAuto CheckMode = iota
	// CheckStatus judges by status class only: a 5xx, or a 4xx where the
	// recording had 2xx or 3xx, fails.
	CheckStatus
)

// ParseCheckMode parses --checks: "auto" (or "") or "status".
func ParseCheckMode(s string) (CheckMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return CheckAuto, nil
	case "status":
		return CheckStatus, nil
	}
	return 0, &FieldError{Field: "CheckMode", Value: strconv.Quote(s), Problem: "want auto or status"}
}

// The comparison of a replayed response with its recording. Every automatic
// check is built so that a faithful replay of a real application passes it:
//
//   - status: the same code (200 and 304 count as one: a conditional request
//     may be answered either way);
//   - redirect: the path of Location, with every word that holds a digit
//     taken as an id and a trailing "-2" dropped (slugs made unique);
//   - content type: the media type of a 2xx response, when both have one;
//   - title: compared after ids, numbers and month and day names are
//     templated and the values the session itself sent (a user name, the
//     name given to an object) are made wildcards, and only where the
//     recording shows it does not depend on the object: every recorded page
//     of the endpoint and query with that status had the same title, and
//     either the path names no object (no id) or it was recorded for two
//     different URLs;
//   - forms: the set of forms with a field a person fills in (their action
//     and those fields' names, ids templated); forms of hidden fields and
//     buttons only (a delete button per listed object) do not count, and an
//     endpoint whose recorded pages disagree is not checked;
//   - JSON shape: every member the recording had at the first two levels
//     (of the first element of arrays) is there with the same kind; null
//     matches anything, extra members and members named by ids are fine;
//   - size: a body under a quarter of the smallest recorded one, where the
//     endpoint was recorded at least twice with bodies of minCheckedSize
//     bytes or more within a factor of two (an error or login page in place
//     of the page). A larger body is never a difference: lists grow under
//     load.
//
// Set-Cookie, Date and other header fields are not compared.
const minCheckedSize = 1024

// The kinds of difference, as the first byte of a reason cache key.
const (
	kindStatus = iota + 1
	kindLocation
	kindType
	kindTitle
	kindForms
	kindJSON
	kindSize
	kindCheck
)

// expect is what a task's recorded response looked like, computed once at
// plan time, and the explicit checks that apply to the task.
type expect struct {
	auto     bool   // compare with the recording (CheckAuto and a recorded response)
	status   int    // recorded status
	locBase  string // normalised path of the recorded Location ("" when none)
	locRaw   string // the recorded Location as it was
	location string // locBase with the rules' values as wildcards (checkRules)
	locText  string // the recorded Location's path, quoted for reasons
	hasLoc   bool
	ctype    string // recorded media type, lower case ("" when none)
	encoding string // recorded Content-Encoding, lower case
	html     bool

	titleBase        string // normalised recorded title, sent values as wildcards
	title, titleText string // titleBase with the rules' values as wildcards, and the title as shown in reasons
	checkTitle       bool
	noTitle          bool // the recorded page had no title
	forms            uint64
	formsText        string
	checkForms       bool
	json             *jsonShape
	size             int64 // full recorded body size, -1 unknown
	minSize          int64 // the smallest recorded body of the endpoint where sizes are stable, else -1

	checks []*Check
}

// rkey is a reason cache key: the kind of difference and what was seen.
func rkey(kind int, seen uint64) uint64 { return uint64(kind)<<56 | seen&(1<<56-1) }

// reasonKey is a key of Player.diffs: a task's expectation and an rkey.
type reasonKey struct {
	e   *expect
	key uint64
}

// reason returns the reason and sample of the run for e and key, making
// them with mk the first time: the sample is that of the first response of
// its kind, so that reasons stay few and allocate once.
func (p *Player) reason(e *expect, key uint64, mk func() (string, string)) (string, string) {
	k := reasonKey{e, key}
	if r, ok := p.diffs.Load(k); ok {
		r := r.([2]string)
		return r[0], r[1]
	}
	reason, sample := mk()
	r, _ := p.diffs.LoadOrStore(k, [2]string{reason, sample})
	return r.([2]string)[0], r.([2]string)[1]
}

// checkScratch holds one connection's buffers for the checks, reused from
// response to response so that checking allocates nothing once they grew.
type checkScratch struct {
	br   bytes.Reader
	zr   *gzip.Reader
	fr   io.ReadCloser
	dec  []byte
	norm []byte
	keys []uint64
}

// body returns the decoded live body of c, or false when it cannot be
// decoded or was cut short.
func (s *checkScratch) body(c *conn) ([]byte, bool) {
	if c.bodyN > int64(len(c.body)) {
		return nil, false // truncated at maxKeptBody
	}
	enc := c.header("Content-Encoding")
	if len(enc) == 0 || asciiEqualFold(enc, "identity") {
		return c.body, true
	}
	s.br.Reset(c.body)
	var r io.Reader
	switch {
	case asciiEqualFold(enc, "gzip"), asciiEqualFold(enc, "x-gzip"):
		if s.zr == nil {
			zr, err := gzip.NewReader(&s.br)
			if err != nil {
				return nil, false
			}
			s.zr = zr
		} else if err := s.zr.Reset(&s.br); err != nil {
			return nil, false
		}
		r = s.zr
	case asciiEqualFold(enc, "deflate"):
		if s.fr == nil {
			s.fr = flate.NewReader(&s.br)
		} else if err := s.fr.(flate.Resetter).Reset(&s.br, nil); err != nil {
			return nil, false
		}
		r = s.fr
	default:
		// br, zstd: less common, so a decoder of their own each time.
		if r = contentDecoder(string(enc), &s.br); r == nil {
			return nil, false
		}
		if c, ok := r.(io.Closer); ok {
			defer c.Close()
		}
	}
	s.dec = s.dec[:0]
	for len(s.dec) < maxKeptBody {
		if len(s.dec) == cap(s.dec) {
			s.dec = slices.Grow(s.dec, max(4096, len(s.dec)))
		}
		n, err := r.Read(s.dec[len(s.dec):min(cap(s.dec), maxKeptBody)])
		s.dec = s.dec[:len(s.dec)+n]
		if err == io.EOF {
			return s.dec, true
		}
		if err != nil {
			return nil, false
		}
	}
	return nil, false
}

// check returns the failure reason of the response c holds for task t, or ""
// when it passes, and a sample of what the live response had: the
// status-class judgement first, then the explicit checks, then the
// comparison with the recording. Reasons name only what the recording had
// (bounded by it, so that reasons stay few); the live bytes are the sample.
func (p *Player) check(t *Task, c *conn) (reason, sample string) {
	if r := p.judge(c.status, t.RecordedStatus); r != "" {
		return r, ""
	}
	e := t.exp
	if e == nil {
		return "", ""
	}
	s := &c.chk
	for i, ck := range e.checks {
		if !ck.eval(c, s) {
			return p.reason(e, rkey(kindCheck, uint64(i)), func() (string, string) {
				return stats.CapText("check "+strconv.Quote(ck.Expr)+" failed", stats.MaxReasonLen), ck.failure(c, s)
			})
		}
	}
	if !e.auto {
		return "", ""
	}
	if c.status != e.status && !(c.status == 304 && e.status == 200 || c.status == 200 && e.status == 304) {
		return p.reason(e, rkey(kindStatus, uint64(c.status)), func() (string, string) {
			return Differs(fmt.Sprintf("status %d, recorded %d", c.status, e.status)), ""
		})
	}
	if e.hasLoc {
		live := c.header("Location")
		s.norm = shapePath(s.norm[:0], live)
		if !globMatch(e.location, s.norm) {
			return p.reason(e, rkey(kindLocation, 0), func() (string, string) {
				return Differs("redirect, recorded " + e.locText), string(ckPath(live))
			})
		}
	}
	ct := ckMediaType(c.header("Content-Type"))
	if e.ctype != "" && len(ct) > 0 && c.status < 300 && !asciiEqualFold(ct, e.ctype) {
		return p.reason(e, rkey(kindType, 0), func() (string, string) {
			return Differs("content type, recorded " + e.ctype), string(ct)
		})
	}
	if t.Method == "HEAD" || c.status == 304 || c.status == 204 {
		return "", ""
	}
	if e.minSize >= minCheckedSize && c.bodyN*4 < e.minSize &&
		asciiEqualFold(bytes.TrimSpace(c.header("Content-Encoding")), e.encoding) { // else one side is compressed
		return p.reason(e, rkey(kindSize, 0), func() (string, string) {
			return Differs("body under 1/4 of the recorded size, recorded " + sizeText(e.minSize)), sizeText(c.bodyN)
		})
	}
	if !e.checkTitle && !e.checkForms && e.json == nil {
		return "", ""
	}
	body, ok := s.body(c)
	if !ok {
		return "", ""
	}
	if e.html && bytes.Contains(ct, []byte("html")) {
		if e.checkTitle {
			title, found := pageTitle(body)
			s.norm = shapeTitle(s.norm[:0], title)
			switch {
			case !found && !e.noTitle:
				return p.reason(e, rkey(kindTitle, 0), func() (string, string) {
					return Differs("no title, recorded " + e.titleText), ""
				})
			case found && !globMatch(e.title, s.norm):
				return p.reason(e, rkey(kindTitle, 1), func() (string, string) {
					return Differs("title, recorded " + e.titleText), string(collapseSpace(nil, title))
				})
			}
		}
		if e.checkForms {
			var h uint64
			h, s.keys = pageForms(s.keys[:0], body)
			if h != e.forms {
				return p.reason(e, rkey(kindForms, 0), func() (string, string) {
					return Differs("forms, recorded " + e.formsText), describeForms(body)
				})
			}
		}
	}
	if e.json != nil && bytes.Contains(ct, []byte("json")) {
		if d := e.json.match(body); d.kind != 0 {
			return p.reason(e, rkey(kindJSON, uint64(d.kind)<<32|uint64(d.key+1)<<8|uint64(d.live)), func() (string, string) {
				sample := ""
				if d.kind == 'p' {
					sample = string(truncate(body, stats.MaxSampleLen))
				}
				return Differs("json " + e.json.describe(d)), sample
			})
		}
	}
	return "", ""
}

func sizeText(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// prepareChecks computes the expectation of every task of sc from its
// recorded session s once, when sc compiles: the recorded fingerprints
// (unless cfg.CheckMode is CheckStatus), checked as far as the recording's
// endpoint groups agree (f.Groups), and the explicit checks that apply.
func (sc *Script) prepareChecks(s *capture.Session, cfg Config, f *Facts) {
	var sent [][]byte // values the session's requests sent so far, normalised
	for i := range sc.Tasks {
		t := &sc.Tasks[i]
		tmpl := stats.Template(ckPathString(t.Path))
		name := t.Name
		if name == "" {
			name = tmpl
		}
		var e expect
		for j := range cfg.Checks {
			if ck := &cfg.Checks[j]; ck.scopes(t.Method, name) {
				e.checks = append(e.checks, ck)
			}
		}
		ex := s.Exchanges[i]
		sent = sentValues(sent, &ex.Request)
		if cfg.CheckMode == CheckAuto && ex.Response.Status != 0 {
			e.fingerprint(ex, sent)
		}
		if !e.auto && len(e.checks) == 0 {
			continue
		}
		t.exp = &e
		if e.auto {
			g, ok := f.Groups[groupKey(t.Method, tmpl, t.Path, e.status)]
			e.checkTitle = e.checkTitle && ok && g.TitleOK
			e.checkForms = e.checkForms && ok && g.FormsOK
			e.minSize = -1
			if ok {
				e.minSize = g.MinSize
			}
		}
		if e.needBody() {
			t.keepBody = true
		}
	}
}

// matchChecks refuses a check scoped to an endpoint that no task has, naming
// --check: in compiled scripts, or for a plan read on demand in the
// recording's endpoints (Facts.Endpoints, named as the run names them).
func (p *Plan) matchChecks() error {
	for j := range p.cfg.Checks {
		ck := &p.cfg.Checks[j]
		if !p.checkMatches(ck) {
			return ck.unmatched()
		}
	}
	return nil
}

func (p *Plan) checkMatches(ck *Check) bool {
	if p.file == nil {
		for _, sc := range p.Scripts {
			for i := range sc.Tasks {
				if e := sc.Tasks[i].exp; e != nil && slices.Contains(e.checks, ck) {
					return true
				}
			}
		}
		return false
	}
	if p.facts.EndpointsCapped {
		return true // not every endpoint is known: the check may match one
	}
	for _, ep := range p.facts.Endpoints {
		name := ""
		if p.name != nil {
			name = p.name(ep.Method, ep.URL)
		}
		if name == "" {
			name = ep.Template
		}
		if ck.scopes(ep.Method, name) {
			return true
		}
	}
	return false
}

// checkRules makes the recorded values of every script's rules wildcards in
// the Location and title patterns of its tasks: a correlated value (an id,
// a token, a --data column's value, one the client made) is each user's
// own. NewPlayer calls it, so that rules the validation pass added after
// NewPlan count too; it recomputes the patterns from the recorded ones.
func (p *Plan) checkRules() {
	for _, sc := range p.Scripts {
		sc.checkRules()
	}
}

// checkRules does Plan.checkRules for one script.
func (sc *Script) checkRules() {
	var vals [][]byte
	var raw []string
	for _, r := range sc.Rules {
		v := shapeTitle(nil, []byte(r.Value))
		if len(v) >= 2 && bytes.ContainsFunc(v, func(r rune) bool { return r != '#' }) {
			vals = append(vals, v) // not a bare number: that is templated anyway
		}
		// In a Location every value counts, even one that shapes to
		// numbers only: its fresh value may not ("…-bcea-…").
		if len(r.Value) >= 2 {
			raw = append(raw, r.Value)
		}
	}
	for i := range sc.Tasks {
		e := sc.Tasks[i].exp
		if e == nil || !e.auto {
			continue
		}
		if e.hasLoc {
			e.location = string(locationPattern(e.locRaw, raw))
		}
		if e.checkTitle {
			e.title = string(titlePattern([]byte(e.titleBase), vals))
		}
	}
}

// locationPattern is the shape of a recorded Location with each of vals —
// the rules' recorded values, as they stand in it — a wildcard (a 0 byte),
// put in before shaping so that a value shapes the same however the text
// around it does ("Amp-<uuid>" with a letters-only group).
func locationPattern(loc string, vals []string) []byte {
	vals = slices.Clone(vals)
	slices.SortStableFunc(vals, func(a, b string) int { return len(b) - len(a) })
	for _, v := range vals {
		for from := 0; from < len(loc); {
			i := strings.Index(loc[from:], v)
			if i < 0 {
				break
			}
			i += from
			j := i + len(v)
			if (i == 0 || !ckAlnum(loc[i-1])) && (j == len(loc) || !ckAlnum(loc[j])) {
				loc = loc[:i] + "\x00" + loc[j:]
				from = i + 1
				continue
			}
			from = i + 1
		}
	}
	return shapePath(nil, []byte(loc))
}

// needBody reports whether checking needs the live body.
func (e *expect) needBody() bool {
	for _, ck := range e.checks {
		if ck.What == "body" || ck.What == "json" {
			return true
		}
	}
	return e.checkTitle || e.checkForms || e.json != nil
}

// sentValues appends to vals the values req sends (query, urlencoded,
// multipart and JSON bodies), normalised as titles are, of three bytes or
// more: a page title that shows one (the user's name, the name given to an
// object) may show another user's value in the replay.
func sentValues(vals [][]byte, req *capture.Request) [][]byte {
	add := func(v string) {
		n := shapeTitle(nil, []byte(v))
		if len(n) >= 3 && len(n) <= 200 && bytes.ContainsFunc(n, func(r rune) bool { return r >= 'a' && r <= 'z' }) &&
			!slices.ContainsFunc(vals, func(x []byte) bool { return bytes.Equal(x, n) }) {
			vals = append(vals, n)
		}
	}
	if _, q, ok := strings.Cut(req.URL, "?"); ok {
		q, _, _ = strings.Cut(q, "#")
		if m, err := url.ParseQuery(q); err == nil {
			for _, vs := range m {
				for _, v := range vs {
					add(v)
				}
			}
		}
	}
	if len(req.Body) == 0 || len(req.Body) > 1<<20 {
		return vals
	}
	mt, params, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	switch {
	case mt == "application/x-www-form-urlencoded":
		if m, err := url.ParseQuery(string(req.Body)); err == nil {
			for _, vs := range m {
				for _, v := range vs {
					add(v)
				}
			}
		}
	case mt == "multipart/form-data" && params["boundary"] != "":
		mr := multipart.NewReader(bytes.NewReader(req.Body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FileName() == "" {
				if b, err := io.ReadAll(io.LimitReader(part, 4096)); err == nil {
					add(string(b))
				}
			}
		}
	case strings.Contains(mt, "json"):
		var v any
		if json.Unmarshal(req.Body, &v) == nil {
			var walk func(any)
			walk = func(v any) {
				switch x := v.(type) {
				case string:
					add(x)
				case []any:
					for _, y := range x {
						walk(y)
					}
				case map[string]any:
					for _, y := range x {
						walk(y)
					}
				}
			}
			walk(v)
		}
	}
	return vals
}

// titlePattern replaces each occurrence of a sent value in the normalised
// title t, at word boundaries, by a wildcard (0, which matches one byte or
// more); longer values first.
func titlePattern(t []byte, sent [][]byte) []byte {
	vals := slices.Clone(sent)
	slices.SortStableFunc(vals, func(a, b []byte) int { return len(b) - len(a) })
	for _, v := range vals {
		if len(v) == 0 {
			continue
		}
		for from := 0; ; {
			i := bytes.Index(t[from:], v)
			if i < 0 {
				break
			}
			i += from
			j := i + len(v)
			if (i == 0 || !ckAlnum(t[i-1])) && (j == len(t) || !ckAlnum(t[j])) {
				t = append(t[:i], append([]byte{0}, t[j:]...)...)
				from = i + 1
				continue
			}
			from = i + 1
		}
	}
	return t
}

// globMatch reports whether s matches pattern p, where each 0 byte of p
// matches one byte or more.
func globMatch(p string, s []byte) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == 0:
			star, mark = pi, si+1
			pi++
			si++ // at least one byte
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi, si = star+1, mark
			mark++
		default:
			return false
		}
	}
	return pi == len(p)
}

// fingerprint fills e from the recorded exchange; sent are the values the session sent up to and with this request.
func (e *expect) fingerprint(ex *capture.Exchange, sent [][]byte) {
	r := &ex.Response
	e.auto, e.status, e.size = true, r.Status, r.BodySize
	if e.size < 0 || (e.size == 0 && len(r.Body) > 0) {
		e.size = int64(len(r.Body))
		if ex.Flags&capture.FlagResponseTruncated != 0 {
			e.size = -1
		}
	}
	e.encoding = string(shapeLower(bytes.TrimSpace([]byte(r.Header.Get("Content-Encoding")))))
	if r.Status >= 300 && r.Status < 400 {
		if loc := r.Header.Get("Location"); loc != "" {
			e.hasLoc, e.locBase, e.locRaw = true, string(shapePath(nil, []byte(loc))), loc
			e.location = e.locBase
			e.locText = quoteShort(ckPath([]byte(loc)))
		}
	}
	e.ctype = string(shapeLower(ckMediaType([]byte(r.Header.Get("Content-Type")))))
	truncated := ex.Flags&capture.FlagResponseTruncated != 0 || r.BodySize > int64(len(r.Body))
	if len(r.Body) == 0 {
		return
	}
	body := decodedBody(r.Header, r.Body)
	if enc := e.encoding; enc != "" && enc != "identity" && bytes.Equal(body, r.Body) {
		return // not decodable (br, zstd): no body fingerprint
	}
	switch {
	case strings.Contains(e.ctype, "html"):
		e.html = true
		title, found := pageTitle(body)
		if found || !truncated {
			pat := titlePattern(shapeTitle(nil, title), sent)
			// A title that is all sent values says nothing about the page.
			e.checkTitle = !found || bytes.ContainsFunc(pat, func(r rune) bool { return r >= 'a' && r <= 'z' })
			e.noTitle = !found
			e.titleBase, e.title = string(pat), string(pat)
			e.titleText = quoteShort(collapseSpace(nil, title))
			if !found {
				e.titleText = "none"
			}
		}
		if !truncated {
			e.checkForms = true
			e.forms, _ = pageForms(nil, body)
			e.formsText = describeForms(body)
		}
	case strings.Contains(e.ctype, "json") && !truncated:
		e.json = newJSONShape(body)
	}
}

// shapeLower returns a lower-case copy of b, ASCII letters only (other
// bytes, valid UTF-8 or not, stay as they are).
func shapeLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// quoteShort quotes b for a reason, cut to 60 bytes.
func quoteShort(b []byte) string {
	if len(b) > 60 {
		b = append(b[:57:57], "..."...)
	}
	return strconv.Quote(string(b))
}

// ckMediaType returns the media type of a Content-Type value, without
// parameters and surrounding space.
func ckMediaType(v []byte) []byte {
	if i := bytes.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return bytes.TrimSpace(v)
}

// ckPath returns the path of a URL or path: no scheme, host, query or
// fragment.
func ckPath(u []byte) []byte {
	if i := bytes.Index(u, []byte("://")); i >= 0 && bytes.IndexByte(u[:i], '/') < 0 {
		u = u[i+3:]
		if j := bytes.IndexByte(u, '/'); j >= 0 {
			u = u[j:]
		} else {
			u = u[len(u):]
		}
	} else if bytes.HasPrefix(u, []byte("//")) {
		u = u[2:]
		if j := bytes.IndexByte(u, '/'); j >= 0 {
			u = u[j:]
		} else {
			u = u[len(u):]
		}
	}
	if i := bytes.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return u
}

func ckPathString(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}

// shapePath appends the normalised path of a Location or form action to dst:
// lower case, every word holding a digit replaced by '#', and a trailing
// "-#" or "_#" of a segment dropped (a slug made unique: hello-world-2).
func shapePath(dst, u []byte) []byte {
	u = bytes.TrimSpace(ckPath(bytes.TrimSpace(u)))
	for len(u) > 0 {
		seg := u
		rest := []byte(nil)
		if i := bytes.IndexByte(u, '/'); i >= 0 {
			seg, rest = u[:i], u[i:]
		}
		if len(seg) == 0 { // a slash
			dst = append(dst, '/')
			u = u[1:]
			continue
		}
		start := len(dst)
		dst = shapeWords(dst, seg, false)
		if n := len(dst) - start; n > 2 && dst[len(dst)-1] == '#' && (dst[len(dst)-2] == '-' || dst[len(dst)-2] == '_') {
			dst = dst[:len(dst)-2]
		}
		u = rest
	}
	return dst
}

// shapeTitle appends the normalised text of a title: lower case, white space
// collapsed, every word holding a digit replaced by '#'.
func shapeTitle(dst, s []byte) []byte {
	start := len(dst)
	return dropCounts(shapeWords(dst, bytes.TrimSpace(s), true), start)
}

// dropCounts removes from dst[start:] the brackets that hold only number
// words — the "(2)" of "Unread (2) - Miniflux" — so that a count that comes
// and goes with the data does not change a title; white space is folded
// again. It works in place.
func dropCounts(dst []byte, start int) []byte {
	out := dst[:start]
	t := dst[start:]
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '(' || c == '[' {
			end := byte(')')
			if c == '[' {
				end = ']'
			}
			j := i + 1
			for j < len(t) && (t[j] == ' ' || t[j] == '#') {
				j++
			}
			if j < len(t) && t[j] == end {
				i = j
				continue
			}
		}
		if c == ' ' && (len(out) == start || out[len(out)-1] == ' ') {
			continue
		}
		out = append(out, c)
	}
	for len(out) > start && out[len(out)-1] == ' ' {
		out = out[:len(out)-1]
	}
	return out
}

// shapeWords lower-cases s and replaces each word (a run of ASCII letters
// and digits) that holds a digit by '#'; with space, runs of white space
// become one space.
func shapeWords(dst, s []byte, space bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if ckAlnum(c) {
			j, digit, inner := i, false, false
			for j < len(s) && ckAlnum(s[j]) {
				if s[j] >= '0' && s[j] <= '9' {
					digit = true
				}
				if j > i && 'A' <= s[j] && s[j] <= 'Z' && 'a' <= s[j-1] && s[j-1] <= 'z' {
					inner = true
				}
				j++
			}
			if digit || inner && j-i >= 8 || space && dateWord(s[i:j]) { // an id, a random mixed-case one, a date
				dst = append(dst, '#')
			} else {
				for _, w := range s[i:j] {
					if 'A' <= w && w <= 'Z' {
						w += 'a' - 'A'
					}
					dst = append(dst, w)
				}
			}
			i = j
			continue
		}
		if space && ckSpace(c) {
			for i < len(s) && ckSpace(s[i]) {
				i++
			}
			dst = append(dst, ' ')
			continue
		}
		dst = append(dst, c)
		i++
	}
	return dst
}

// dateWord reports the English name of a month or a day of the week, full
// or in three letters: a title that shows today's date changes by itself.
func dateWord(w []byte) bool {
	if len(w) < 3 || len(w) > 9 {
		return false
	}
	for _, d := range [...]string{"january", "february", "march", "april", "may", "june", "july", "august",
		"september", "october", "november", "december", "monday", "tuesday", "wednesday", "thursday",
		"friday", "saturday", "sunday"} {
		if asciiEqualFold(w, d) || len(w) == 3 && asciiEqualFold(w, d[:3]) {
			return true
		}
	}
	return false
}

func ckAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func ckSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// collapseSpace appends s with runs of white space as one space, trimmed.
func collapseSpace(dst, s []byte) []byte {
	s = bytes.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if ckSpace(s[i]) {
			for i+1 < len(s) && ckSpace(s[i+1]) {
				i++
			}
			dst = append(dst, ' ')
			continue
		}
		dst = append(dst, s[i])
	}
	return dst
}

// FNV-1a, 64 bits.
const (
	ckFNVOffset = 14695981039346656037
	ckFNVPrime  = 1099511628211
)

func fnvHash(b []byte) uint64 { return fnvMore(ckFNVOffset, b) }

func fnvMore(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= ckFNVPrime
	}
	return h
}

// CheckSummary says what a plan's replay will compare, for --dry-run.
type CheckSummary struct {
	// Mode is the plan's CheckMode.
	Mode CheckMode
	// Tasks is the number of sendable tasks; Compared those compared with
	// their recording (status and more).
	Tasks, Compared int
	// Redirects, Titles, Forms and JSON count the tasks whose redirect
	// target, page title, form set or JSON shape is compared.
	Redirects, Titles, Forms, JSON int
	// Checks are the explicit checks with the number of tasks each applies to.
	Checks []CheckUse

	uses map[string]int // Add's count by check expression, for Done
}

// CheckUse is one explicit check and the number of tasks it applies to.
type CheckUse struct {
	Expr  string
	Tasks int
}

// CheckSummary returns what the replay of p will compare. A plan read on
// demand compiles every session for it, one at a time: where that can
// fail, Each with CheckSummary.Add says why.
func (p *Plan) CheckSummary(cfg Config) CheckSummary {
	sum := CheckSummary{Mode: cfg.CheckMode}
	_ = p.Each(func(sc *Script) error {
		sum.Add(sc)
		return nil
	})
	return sum.Done(cfg)
}

// Add counts what the replay of sc will compare.
func (sum *CheckSummary) Add(sc *Script) {
	if sum.uses == nil {
		sum.uses = map[string]int{}
	}
	for i := range sc.Tasks {
		t := &sc.Tasks[i]
		if t.Target == nil {
			continue
		}
		sum.Tasks++
		e := t.exp
		if e == nil {
			continue
		}
		if e.auto {
			sum.Compared++
			sum.Redirects += b2n(e.hasLoc)
			sum.Titles += b2n(e.checkTitle)
			sum.Forms += b2n(e.checkForms)
			sum.JSON += b2n(e.json != nil)
		}
		for _, ck := range e.checks {
			sum.uses[ck.Expr]++
		}
	}
}

// Done returns the summary with the uses of each of cfg's checks, once
// every script is added.
func (sum CheckSummary) Done(cfg Config) CheckSummary {
	sum.Checks = nil
	for _, ck := range cfg.Checks {
		sum.Checks = append(sum.Checks, CheckUse{Expr: ck.Expr, Tasks: sum.uses[ck.Expr]})
	}
	return sum
}

func b2n(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scopes reports whether the check applies to a request of method to the
// endpoint name.
func (ck *Check) scopes(method, name string) bool {
	return ck.Name == "" || ck.Name == name && (ck.Method == "" || ck.Method == method)
}

// unmatched is the error of a check scoped to an endpoint the recording
// does not have.
func (ck *Check) unmatched() error {
	scope := ck.Name
	if ck.Method != "" {
		scope = ck.Method + " " + ck.Name
	}
	return &FieldError{Field: "Checks", Value: strconv.Quote(ck.Expr), Problem: fmt.Sprintf("no endpoint %q in the recording (amp replay --dry-run lists them)", scope)}
}

// Scopes checks a recording read a session at a time (capture.Open) the
// way NewPlan checks a whole one, in memory that does not grow with it: that
// it holds requests and that every check scoped to an endpoint finds one.
type Scopes struct {
	checks   []Check
	name     func(method, rawURL string) string
	matched  []bool
	requests int64
}

// NewScopes returns a Scopes for the checks of cfg, naming endpoints with
// name (nil: by the path's template, as NewPlan does).
func NewScopes(cfg Config, name func(method, rawURL string) string) *Scopes {
	return &Scopes{checks: cfg.Checks, name: name, matched: make([]bool, len(cfg.Checks))}
}

// Add looks at one session.
func (sc *Scopes) Add(s *capture.Session) {
	for _, e := range s.Exchanges {
		sc.requests++
		method := e.Request.Method
		if method == "" {
			method = "GET"
		}
		name := ""
		if sc.name != nil {
			name = sc.name(method, e.Request.URL)
		}
		if name == "" {
			name = stats.Template(ckPathString(requestTarget(e.Request.URL)))
		}
		for j := range sc.checks {
			if !sc.matched[j] && sc.checks[j].scopes(method, name) {
				sc.matched[j] = true
			}
		}
	}
}

// Err returns what NewPlan would refuse of the sessions added: none with a
// request, or a check scoped to an endpoint none of them has.
func (sc *Scopes) Err() error {
	if sc.requests == 0 {
		return fmt.Errorf("replay: the recording holds no requests")
	}
	for j, ok := range sc.matched {
		if !ok {
			return sc.checks[j].unmatched()
		}
	}
	return nil
}
