package packet

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
)

// pktInfo is what the parser knows about the packet that carried a byte.
type pktInfo struct {
	ts     time.Time
	ack    uint32 // the TCP acknowledgement number of that packet
	hasAck bool
}

// message is one HTTP message being parsed or parsed.
type message struct {
	request bool
	method  string // requests
	target  string // requests: the request-target as sent
	status  int    // responses
	proto   string
	header  capture.Headers
	trailer capture.Headers // HTTP/2 responses: the fields after the body

	body      []byte
	size      int64 // body bytes seen or skipped over (gaps count)
	hash      hash.Hash
	maxBody   int
	truncated bool // body longer than maxBody
	frozen    bool // a gap made the rest of the body unknowable: stop storing
	// incomplete marks bytes missing from the message (gaps, snap length, a
	// body cut by the end of the capture).
	incomplete bool
	interim    bool // a 1xx response before the final one
	orphan     bool // a response whose request the capture lacks

	start, end pktInfo // first and last byte
	startPos   uint32  // TCP sequence number of the first byte
	posKnown   bool
}

// addBody stores body bytes up to the cap and hashes a body that exceeds it.
func (m *message) addBody(b []byte) {
	m.size += int64(len(b))
	if m.frozen || len(b) == 0 {
		return
	}
	if room := m.maxBody - len(m.body); room > 0 {
		n := min(room, len(b))
		m.body = append(m.body, b[:n]...)
		b = b[n:]
	}
	if len(b) == 0 {
		return
	}
	if m.hash == nil {
		m.truncated = true
		m.hash = sha256.New()
		m.hash.Write(m.body)
	}
	m.hash.Write(b)
}

// skipBody accounts for n body bytes that the capture does not have.
func (m *message) skipBody(n int64) {
	m.size += n
	m.frozen = true
	m.incomplete = true
	m.hash = nil // a hash of part of the body would lie
}

// bodyHash returns the SHA-256 of a whole body that was truncated at the cap.
func (m *message) bodyHash() []byte {
	if m.hash == nil || m.frozen {
		return nil
	}
	return m.hash.Sum(nil)
}

// Common strings, so that parsing the usual values does not allocate.
var (
	commonMethods = [...]string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}
	commonProtos  = [...]string{"HTTP/1.1", "HTTP/1.0"}
)

func intern(b []byte, common []string) string {
	for _, s := range common {
		if string(b) == s {
			return s
		}
	}
	return string(b)
}

// isMethodChar is stricter than a token: methods in the wild are upper case
// letters, digits, '-' and '_'. Being strict keeps resynchronisation from
// mistaking body text for a request line.
func isMethodChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

const maxMethodLen = 24

// startKind classifies a start line.
type startKind uint8

const (
	startNone     startKind = iota // not an HTTP/1.x start line
	startMore                      // could be one: need more bytes
	startRequest                   // a request line
	startResponse                  // a status line
)

// classifyStart looks at the beginning of b (a line, complete if it holds a
// '\n') and tells whether it is, or may become, an HTTP/1.x start line. It
// accepts what parseStart accepts.
func classifyStart(b []byte) startKind {
	line := b
	complete := false
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line, complete = b[:i], true
	}
	line = bytes.TrimSuffix(line, []byte{'\r'}) // an incomplete line may end in the CR
	if len(line) == 0 {
		if complete {
			return startNone
		}
		return startMore
	}
	// A status line: "HTTP/1.x NNN".
	const v = "HTTP/1."
	if line[0] == 'H' && len(line) < len(v) && !complete && v[:len(line)] == string(line) {
		return startMore // may also become a request: HEAD
	}
	if bytes.HasPrefix(line, []byte(v)) {
		rest := line[len(v):]
		for i, want := range []byte("d ddd") {
			if i >= len(rest) {
				if complete {
					return startNone
				}
				return startMore
			}
			c := rest[i]
			if want == 'd' && (c < '0' || c > '9') || want == ' ' && c != ' ' {
				return startNone
			}
		}
		if len(rest) > 5 && rest[5] != ' ' {
			return startNone
		}
		if !complete {
			return startMore
		}
		return startResponse
	}
	// A request line: "METHOD SP target SP HTTP/1.x".
	sp := bytes.IndexByte(line, ' ')
	method := line
	if sp >= 0 {
		method = line[:sp]
	}
	if len(method) == 0 || len(method) > maxMethodLen {
		return startNone
	}
	for _, c := range method {
		if !isMethodChar(c) {
			return startNone
		}
	}
	if sp < 0 {
		if complete {
			return startNone
		}
		return startMore
	}
	rest := line[sp+1:]
	if len(rest) > 0 && (rest[0] == ' ' || rest[0] < 0x21 && rest[0] != '\t') {
		return startNone
	}
	for _, c := range rest {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return startNone
		}
	}
	if !complete {
		if len(rest) > 0 && !targetStartOK(rest[0]) {
			return startNone
		}
		return startMore
	}
	last := bytes.LastIndexByte(rest, ' ')
	if last <= 0 || !targetStartOK(rest[0]) {
		return startNone
	}
	proto := rest[last+1:]
	if len(proto) != 8 || !bytes.HasPrefix(proto, []byte(v)) || proto[7] < '0' || proto[7] > '9' {
		return startNone
	}
	return startRequest
}

// targetStartOK reports whether c may start a request-target: origin form
// ("/"), absolute form ("http:"), asterisk form ("*") or authority form
// (CONNECT host:port).
func targetStartOK(c byte) bool {
	return c == '/' || c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '['
}

// parseHead parses a complete header block (start line, fields, the empty
// line) into a message. It returns nil if the start line is not HTTP/1.x.
func parseHead(block []byte, maxBody int) *message {
	k := classifyStart(block)
	if k != startRequest && k != startResponse {
		return nil
	}
	s := string(block) // one allocation; fields are substrings of it
	nl := strings.IndexByte(s, '\n')
	line := strings.TrimSuffix(s[:nl], "\r")
	m := &message{maxBody: maxBody}
	if k == startResponse {
		m.proto = intern([]byte(line[:8]), commonProtos[:])
		m.status, _ = strconv.Atoi(line[9:12])
	} else {
		m.request = true
		sp := strings.IndexByte(line, ' ')
		last := strings.LastIndexByte(line, ' ')
		m.method = intern([]byte(line[:sp]), commonMethods[:])
		m.target = line[sp+1 : last]
		m.proto = intern([]byte(line[last+1:]), commonProtos[:])
	}
	m.header = parseFields(s[nl+1:], nil)
	return m
}

// parseFields parses header field lines (ending with an empty line or the end
// of s) and appends them to h. Obsolete line folding is joined with a space;
// lines without a colon are dropped.
func parseFields(s string, h capture.Headers) capture.Headers {
	if h == nil {
		h = make(capture.Headers, 0, strings.Count(s, "\n"))
	}
	for len(s) > 0 {
		var line string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			line, s = s, ""
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if n := len(h); n > 0 {
				h[n-1].Value = strings.TrimSpace(h[n-1].Value + " " + strings.TrimSpace(line))
			}
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name := strings.TrimRight(line[:colon], " \t")
		h = append(h, capture.Header{Name: name, Value: strings.Trim(line[colon+1:], " \t")})
	}
	return h
}

// headerEnd returns the length of the header block at the start of b (through
// the empty line that ends it), or -1 if b does not hold all of it yet. It
// starts looking at from (an index into b), and accepts bare LF line ends.
func headerEnd(b []byte, from int) int {
	for i := from; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
	}
	return -1
}

// bodyKind is how a message's body is delimited.
type bodyKind uint8

const (
	bodyNone bodyKind = iota
	bodyLength
	bodyChunked
	bodyUntilClose
	bodyTunnel // CONNECT 2xx or 101: the connection leaves HTTP
	bodyBad    // framing fields that cannot be trusted
)

// framing is what a header block says about the body's delimitation.
type framing struct {
	te      bool // a Transfer-Encoding field is present
	chunked bool // its last coding is chunked
	cl      bool // a Content-Length field is present
	bad     bool // Content-Length values that are not numbers or disagree
	length  int64
}

// framingOf reads Transfer-Encoding and Content-Length in one pass, without
// allocating.
func framingOf(h capture.Headers) framing {
	var f framing
	f.length = -1
	for _, fl := range h {
		switch {
		case len(fl.Name) == len("Transfer-Encoding") && strings.EqualFold(fl.Name, "Transfer-Encoding"):
			f.te = true
			last := fl.Value
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			f.chunked = strings.EqualFold(strings.TrimSpace(last), "chunked")
		case len(fl.Name) == len("Content-Length") && strings.EqualFold(fl.Name, "Content-Length"):
			f.cl = true
			v := fl.Value
			for v != "" {
				part := v
				if i := strings.IndexByte(v, ','); i >= 0 {
					part, v = v[:i], v[i+1:]
				} else {
					v = ""
				}
				x, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
				if err != nil || x < 0 || f.length >= 0 && x != f.length {
					f.bad = true
				}
				f.length = x
			}
		}
	}
	return f
}

// requestBody tells how a request's body is delimited (RFC 9112 6.3).
func requestBody(m *message) (bodyKind, int64) {
	f := framingOf(m.header)
	switch {
	case f.te && f.chunked:
		return bodyChunked, 0
	case f.te, f.bad:
		return bodyBad, 0
	case f.length > 0:
		return bodyLength, f.length
	}
	return bodyNone, 0
}

// responseBody tells how a response to a request with the given method is
// delimited.
func responseBody(m *message, method string) (bodyKind, int64) {
	switch {
	case m.status == 101 || method == "CONNECT" && m.status >= 200 && m.status < 300:
		return bodyTunnel, 0
	case m.status < 200 || m.status == 204 || m.status == 304 || method == "HEAD":
		return bodyNone, 0
	}
	f := framingOf(m.header)
	switch {
	case f.te && f.chunked:
		return bodyChunked, 0
	case f.te || !f.cl:
		return bodyUntilClose, 0
	case f.bad:
		return bodyBad, 0
	case f.length > 0:
		return bodyLength, f.length
	}
	return bodyNone, 0
}

// parseChunkSize reads a chunk-size line (without its line end): hex digits,
// then optional blanks and extensions.
func parseChunkSize(line []byte) (int64, bool) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	line = bytes.TrimLeft(line, " \t")
	var n int64
	i := 0
	for ; i < len(line); i++ {
		c := line[i]
		var d int64
		switch {
		case c >= '0' && c <= '9':
			d = int64(c - '0')
		case c >= 'a' && c <= 'f':
			d = int64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int64(c-'A') + 10
		default:
			goto rest
		}
		if n > (1<<62)>>4 {
			return 0, false
		}
		n = n<<4 | d
	}
rest:
	if i == 0 {
		return 0, false
	}
	if r := bytes.TrimLeft(line[i:], " \t"); len(r) > 0 && r[0] != ';' {
		return 0, false
	}
	return n, true
}
