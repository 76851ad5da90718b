package replay

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
)

// The kinds of client-generated values (ClientValue.Kind).
const (
	// KindUUID is an RFC 9562 UUID of version 1, 4 or 7 in its 36-character
	// form, e.g. "3f2b8c1e-9a4d-4e7b-8f1a-2c3d4e5f6a7b".
	KindUUID = "uuid"
	// KindHex is a random hexadecimal nonce of at least 16 digits, one case.
	KindHex = "hex"
	// KindBase64URL is a random nonce of at least 16 base64url characters
	// (letters of both cases, digits, "-" and "_", optional "=" padding).
	KindBase64URL = "base64url"
	// KindEpochMillis is a 13-digit Unix time in milliseconds within a day of
	// the request.
	KindEpochMillis = "epoch-ms"
	// KindEpochSeconds is a 10-digit Unix time in seconds within a day of the
	// request.
	KindEpochSeconds = "epoch-s"
)

// ClientValue is a value a recorded client generated itself and sent, which
// no earlier response of its session carried: an idempotency key, a
// client-side UUID, a nonce, a timestamp. Replaying it as recorded makes every
// user send the same one, which real servers de-duplicate or reject, so each
// user and iteration sends a fresh value of the same form (see Regenerate).
type ClientValue struct {
	// Value is the recorded value.
	Value string
	// Kind is KindUUID, KindHex, KindBase64URL, KindEpochMillis or
	// KindEpochSeconds.
	Kind string
	// Name is the query parameter, form field, JSON member or header it was
	// first sent under, or the path segment before it for a path segment.
	Name string
}

// clientTimeWindow is how far from a request's start a timestamp may be to
// count as the client's clock.
const clientTimeWindow = 24 * time.Hour

// ClientValues finds the values the client generated in the requests of s,
// each once, in the order first sent. A candidate is a whole path segment,
// query parameter, urlencoded or multipart field, JSON string or number, or
// header value (not Cookie, Authorization or standard fields) that is a UUID
// (anywhere), a timestamp within a day of the request's recorded start
// (anywhere), or a random-looking hex or base64url nonce of 16 characters or
// more (not in the path, where such values are usually names of static
// files). It is a client value when no earlier response of the session
// (header fields or decoded body, in any letter case) contains it, no
// request sent it as a cookie, and its name is not that of a CSRF token or
// password: a value the server handed out is correlated, not regenerated.
func ClientValues(s *capture.Session) []ClientValue {
	var out []ClientValue
	decided := map[string]bool{}
	cookies := map[string]bool{}
	var texts [][]byte // decoded earlier responses, header fields first
	for j, e := range s.Exchanges {
		if j > 0 {
			texts = append(texts, responseText(s.Exchanges[j-1]))
		}
		for _, c := range e.Request.Header.Values("Cookie") {
			for pair := range strings.SplitSeq(c, ";") {
				if _, v, ok := strings.Cut(pair, "="); ok && strings.TrimSpace(v) != "" {
					cookies[strings.TrimSpace(v)] = true
				}
			}
		}
		for _, f := range clientFields(&e.Request) {
			if decided[f.value] {
				continue
			}
			kind := classifyClientValue(f.value, f.where != "path", e.Start)
			if inner := embeddedUUIDs(f.value); kind != KindUUID && len(inner) > 0 {
				// A UUID inside a longer value: a page title, a file name,
				// a URL the client made unique.
				for _, u := range inner {
					if decided[u] {
						continue
					}
					decided[u] = true
					if !cookies[u] && !serverNamed(f.name) && !seenIn(texts, u) {
						out = append(out, ClientValue{Value: u, Kind: KindUUID, Name: f.name})
					}
				}
				continue
			}
			if kind == "" {
				continue
			}
			decided[f.value] = true
			if cookies[f.value] || serverNamed(f.name) || seenIn(texts, f.value) {
				continue
			}
			out = append(out, ClientValue{Value: f.value, Kind: kind, Name: f.name})
		}
	}
	return out
}

// embeddedUUIDs returns the UUIDs that stand inside v between characters
// that are not hex digits.
func embeddedUUIDs(v string) []string {
	var out []string
	for i := 0; i+36 <= len(v); i++ {
		if v[i+8] != '-' || (i > 0 && isHex(v[i-1])) || (i+36 < len(v) && isHex(v[i+36])) {
			continue
		}
		if u := v[i : i+36]; isUUID(u) {
			out = append(out, u)
			i += 35
		}
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ClientValuesOf returns the client values of every session (index for
// index), leaving out values that two or more sessions send: a value two
// recorded people share is a constant (a key in a script the browser had
// cached), not one the client made up.
func ClientValuesOf(sessions []*capture.Session) [][]ClientValue {
	out := make([][]ClientValue, len(sessions))
	count := map[string]int{}
	for i, s := range sessions {
		out[i] = ClientValues(s)
		for _, v := range out[i] {
			count[v.Value]++
		}
	}
	for i, vs := range out {
		kept := vs[:0]
		for _, v := range vs {
			if count[v.Value] == 1 {
				kept = append(kept, v)
			}
		}
		out[i] = kept
	}
	return out
}

// serverNamed reports names under which values come from the server or the
// person, never from a generator in the client.
func serverNamed(name string) bool {
	n := strings.ToLower(name)
	for _, w := range [...]string{"csrf", "xsrf", "authenticity_token", "__requestverificationtoken", "pass", "pwd", "secret"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// seenIn reports whether any text contains v as it is, lower-cased or
// upper-cased.
func seenIn(texts [][]byte, v string) bool {
	forms := [...][]byte{[]byte(v), []byte(strings.ToLower(v)), []byte(strings.ToUpper(v))}
	for _, t := range texts {
		for _, f := range forms {
			if bytes.Contains(t, f) {
				return true
			}
		}
	}
	return false
}

// responseText is what a response tells the client: its header fields and
// its body with its Content-Encoding undone.
func responseText(e *capture.Exchange) []byte {
	var b bytes.Buffer
	for _, h := range e.Response.Header {
		b.WriteString(h.Name)
		b.WriteString(": ")
		b.WriteString(h.Value)
		b.WriteString("\n")
	}
	b.Write(decodeAll(e.Response.Header.Get("Content-Encoding"), e.Response.Body, 64<<20))
	return b.Bytes()
}

// clientField is a value a request sends and where.
type clientField struct {
	where, name, value string // where: path, query, form, json or header
}

// clientFields lists the values of a request that may be client values.
func clientFields(r *capture.Request) []clientField {
	var out []clientField
	raw, _, _ := strings.Cut(r.URL, "#")
	rest := raw
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
		if k := strings.IndexAny(rest, "/?"); k >= 0 {
			rest = rest[k:]
		} else {
			rest = ""
		}
	}
	path, query, _ := strings.Cut(rest, "?")
	prev := ""
	for seg := range strings.SplitSeq(path, "/") {
		if v, err := url.PathUnescape(seg); err == nil && v != "" {
			out = append(out, clientField{"path", prev, v})
			prev = v
		}
	}
	for _, f := range appendPairs(nil, WhereQuery, query) {
		out = append(out, clientField{"query", f.name, f.value})
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/x-www-form-urlencoded":
		for _, f := range appendPairs(nil, WhereForm, string(r.Body)) {
			out = append(out, clientField{"form", f.name, f.value})
		}
	case ct == "multipart/form-data" && params["boundary"] != "":
		mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if name := p.FormName(); name != "" && p.FileName() == "" {
				v, _ := io.ReadAll(io.LimitReader(p, 4096))
				out = append(out, clientField{"form", name, string(v)})
			}
		}
	case strings.Contains(ct, "json") || (ct == "" && len(r.Body) > 0 && (r.Body[0] == '{' || r.Body[0] == '[')):
		var doc any
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.UseNumber()
		if dec.Decode(&doc) == nil {
			for _, f := range appendJSONFields(nil, doc, "", "") {
				out = append(out, clientField{"json", f.name, f.value})
			}
		}
	}
	for _, h := range r.Header {
		if !clientHeader(h.Name) {
			continue
		}
		out = append(out, clientField{"header", h.Name, strings.TrimSpace(h.Value)})
	}
	return out
}

// clientHeader reports whether a request header field may carry a client
// value: not cookies, credentials, caching validators or standard fields.
func clientHeader(name string) bool {
	n := strings.ToLower(name)
	if strings.HasPrefix(n, "sec-") || strings.HasPrefix(n, "accept") || strings.HasPrefix(n, "if-") || strings.HasPrefix(n, ":") {
		return false
	}
	switch n {
	case "cookie", "authorization", "proxy-authorization", "host", "user-agent", "referer", "origin",
		"content-type", "content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive",
		"cache-control", "pragma", "range", "te", "upgrade", "x-csrf-token", "x-xsrf-token", "x-csrftoken":
		return false
	}
	return true
}

// classifyClientValue returns the kind of client value v looks like, or "".
// nonces allows hex and base64url nonces; at is the request's start, which
// timestamps must be within clientTimeWindow of (zero: no timestamps).
func classifyClientValue(v string, nonces bool, at time.Time) string {
	switch {
	case isUUID(v):
		return KindUUID
	case len(v) == 13 && allDigits(v) && !at.IsZero():
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && absDuration(time.UnixMilli(ms).Sub(at)) <= clientTimeWindow {
			return KindEpochMillis
		}
	case len(v) == 10 && allDigits(v) && !at.IsZero():
		if sec, err := strconv.ParseInt(v, 10, 64); err == nil && absDuration(time.Unix(sec, 0).Sub(at)) <= clientTimeWindow {
			return KindEpochSeconds
		}
	case !nonces || len(v) < 16 || len(v) > 512:
	case isHexNonce(v):
		return KindHex
	case isBase64URLNonce(v):
		return KindBase64URL
	}
	return ""
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isUUID reports an RFC 9562 UUID of version 1, 4 or 7 with the RFC variant,
// all lower-case or all upper-case.
func isUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	upper, lower := false, false
	for i := 0; i < 36; i++ {
		c := v[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9':
		case 'a' <= c && c <= 'f':
			lower = true
		case 'A' <= c && c <= 'F':
			upper = true
		default:
			return false
		}
	}
	if upper && lower {
		return false
	}
	ver, variant := v[14], v[19]
	return (ver == '1' || ver == '4' || ver == '7') && strings.IndexByte("89abAB", variant) >= 0
}

// charClass is the class of a nonce character for the randomness test:
// 0 digit, 1 lower-case, 2 upper-case, 3 other.
func charClass(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return 0
	case 'a' <= c && c <= 'z':
		return 1
	case 'A' <= c && c <= 'Z':
		return 2
	}
	return 3
}

// classChanges counts adjacent characters of different classes: random
// strings change class often, words and numbers run on.
func classChanges(v string) int {
	n := 0
	for i := 1; i < len(v); i++ {
		if charClass(v[i]) != charClass(v[i-1]) {
			n++
		}
	}
	return n
}

// isHexNonce reports random-looking hexadecimal: one letter case, digits and
// letters both, switching between them at least once in six characters.
func isHexNonce(v string) bool {
	digits, lower, upper := 0, 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case '0' <= c && c <= '9':
			digits++
		case 'a' <= c && c <= 'f':
			lower++
		case 'A' <= c && c <= 'F':
			upper++
		default:
			return false
		}
	}
	if digits == 0 || lower+upper == 0 || (lower > 0 && upper > 0) {
		return false
	}
	return classChanges(v)*6 >= len(v)-1
}

// isBase64URLNonce reports random-looking base64url: upper-case and
// lower-case letters and digits, class changes at least every third
// character (a password such as "Password123456789" has two in 17).
func isBase64URLNonce(v string) bool {
	body := strings.TrimRight(v, "=")
	if len(v)-len(body) > 2 || len(body) < 16 {
		return false
	}
	var seen [4]bool
	for i := 0; i < len(body); i++ {
		c := body[i]
		if charClass(c) == 3 && c != '-' && c != '_' {
			return false
		}
		seen[charClass(c)] = true
	}
	return seen[0] && seen[1] && seen[2] && classChanges(body)*3 >= len(body)-1
}

// Regenerate returns a fresh value of the same form as old, a recorded
// client value of kind: a UUID of the same version (1 and 7 from now, 4
// random) and letter case; hex or base64url of the same length, letter case
// and padding; a timestamp of now in the same unit. Unknown kinds return old.
func Regenerate(kind, old string, now time.Time, rnd *rand.Rand) string {
	switch kind {
	case KindUUID:
		if len(old) != 36 {
			return old
		}
		return newUUID(old[14], strings.ToUpper(old) == old && strings.ContainsAny(old, "ABCDEF"), now, rnd)
	case KindHex:
		digits := "0123456789abcdef"
		if strings.ContainsAny(old, "ABCDEF") {
			digits = "0123456789ABCDEF"
		}
		return randomString(len(old), digits, rnd)
	case KindBase64URL:
		body := strings.TrimRight(old, "=")
		return randomString(len(body), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", rnd) + old[len(body):]
	case KindEpochMillis:
		return strconv.FormatInt(now.UnixMilli(), 10)
	case KindEpochSeconds:
		return strconv.FormatInt(now.Unix(), 10)
	}
	return old
}

// AppendClientSwaps appends to dst a fresh value for each client value of
// vals (from ClientValues), made by Regenerate with now and rnd: call it once
// per user and iteration, with the user's own rnd, so that no two users send
// the same idempotency key.
func AppendClientSwaps(dst []Swap, vals []ClientValue, now time.Time, rnd *rand.Rand) []Swap {
	for _, v := range vals {
		dst = append(dst, Swap{Old: v.Value, New: Regenerate(v.Kind, v.Value, now, rnd)})
	}
	return dst
}

// randomString returns n characters drawn uniformly from alphabet.
func randomString(n int, alphabet string, rnd *rand.Rand) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rnd.IntN(len(alphabet))]
	}
	return string(b)
}

// uuidEpoch is the start of UUID version 1 time, 1582-10-15, in 100 ns
// intervals before the Unix epoch.
const uuidEpoch = 0x01B21DD213814000

// newUUID returns a UUID of version ver ('1', '4' or '7', else 4) in the
// 36-character form.
func newUUID(ver byte, upper bool, now time.Time, rnd *rand.Rand) string {
	var u [16]byte
	for i := 0; i < 16; i += 8 {
		x := rnd.Uint64()
		for k := range 8 {
			u[i+k] = byte(x >> (8 * k))
		}
	}
	switch ver {
	case '1':
		t := uint64(now.UnixNano()/100) + uuidEpoch
		u[0], u[1], u[2], u[3] = byte(t>>24), byte(t>>16), byte(t>>8), byte(t)
		u[4], u[5] = byte(t>>40), byte(t>>32)
		u[6], u[7] = byte(t>>56)&0x0f|0x10, byte(t>>48)
		u[10] |= 0x01 // a random node id has the multicast bit set
	case '7':
		ms := uint64(now.UnixMilli())
		for k := range 6 {
			u[k] = byte(ms >> (8 * (5 - k)))
		}
		u[6] = u[6]&0x0f | 0x70
	default:
		u[6] = u[6]&0x0f | 0x40
	}
	u[8] = u[8]&0x3f | 0x80
	hex := "0123456789abcdef"
	if upper {
		hex = "0123456789ABCDEF"
	}
	b := make([]byte, 0, 36)
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[x>>4], hex[x&0x0f])
	}
	return string(b)
}
