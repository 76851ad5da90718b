package proxy

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/ampload/amp/capture"
)

// wireWindow bounds the bytes a wireConn keeps per connection. Message heads
// are found near the end of what was read (net/http reads ahead at most a few
// KiB), so the window only has to hold the largest head worth recovering.
const wireWindow = 64 << 10

// wireConn keeps the bytes read from a connection so that the head of each
// HTTP/1 message read from it can be recovered with its fields in wire order
// and case, which the header maps of net/http lose. Bodies of known length are
// skipped without being copied. A head is only used when it matches what
// net/http parsed (see sameFields), so a wireConn that loses track of the
// stream costs fidelity, never correctness.
type wireConn struct {
	net.Conn

	mu   sync.Mutex
	buf  []byte   // bytes read and not yet consumed
	skip int64    // bytes of a body still to be skipped as they are read
	off  bool     // sniffing stopped: the connection became a tunnel
	h1   bool     // an HTTP/1 head was recovered
	h2   *h2Heads // the connection speaks HTTP/2: its request heads (h2wire.go)
}

// Read reads from the connection and keeps what it read.
func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.keep(p[:n])
		c.mu.Unlock()
	}
	return n, err
}

// keep appends b to the window, after skipping body bytes. c.mu is held.
func (c *wireConn) keep(b []byte) {
	if c.off {
		return
	}
	if c.h2 != nil {
		c.h2.feed(b)
		return
	}
	if c.skip > 0 {
		k := min(c.skip, int64(len(b)))
		c.skip -= k
		b = b[k:]
	}
	if len(b) == 0 {
		return
	}
	c.buf = append(c.buf, b...)
	if !c.h1 && len(c.buf) >= len(http2Preface) && string(c.buf[:len(http2Preface)]) == http2Preface {
		c.h2 = newH2Heads()
		c.h2.feed(c.buf)
		c.buf = nil
		return
	}
	if len(c.buf) > wireWindow {
		c.buf = c.buf[:copy(c.buf, c.buf[len(c.buf)-wireWindow/2:])]
	}
}

// stop ends sniffing, for a connection that carries a tunnel from now on.
func (c *wireConn) stop() {
	c.mu.Lock()
	c.off = true
	c.buf = nil
	c.mu.Unlock()
}

// consume drops the first n bytes of the window, and the rest of n from the
// bytes still to be read.
func (c *wireConn) consume(n int64) {
	if n <= int64(len(c.buf)) {
		c.buf = c.buf[:copy(c.buf, c.buf[n:])]
		return
	}
	c.skip = n - int64(len(c.buf))
	c.buf = c.buf[:0]
}

// requestHead recovers the head of the request r, which net/http has just
// parsed from this connection, with its fields in wire order and case. The head
// and everything before it are consumed, and so is the body when its length is
// known. ok is false when no matching head is in the window.
func (c *wireConn) requestHead(r *http.Request) (h capture.Headers, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.h2 != nil && !c.off {
		return c.h2.claim(r)
	}
	if c.off || len(c.buf) == 0 {
		return nil, false
	}
	line := r.Method + " " + r.RequestURI + " " + r.Proto + "\r\n"
	start, end, fields := findHead(c.buf, func(l []byte) bool { return string(l) == line[:len(line)-2] })
	if start < 0 || !sameFields(fields, r.Header) {
		return nil, false
	}
	c.consume(int64(end))
	if r.ContentLength > 0 {
		c.consume(r.ContentLength)
	}
	c.h1 = true
	return fields, true
}

// responseHead recovers the head of resp, which net/http has just read from
// this connection. Heads of interim (1xx) responses before it are skipped.
func (c *wireConn) responseHead(resp *http.Response) (h capture.Headers, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || len(c.buf) == 0 {
		return nil, false
	}
	start, end, fields := findHead(c.buf, func(l []byte) bool { return statusLineIs(l, resp.StatusCode) })
	if start < 0 || !sameFields(fields, resp.Header) {
		return nil, false
	}
	c.consume(int64(end))
	if resp.ContentLength > 0 && responseHasBody(resp) {
		c.consume(resp.ContentLength)
	}
	return fields, true
}

// statusLineIs reports whether l is an HTTP/1 status line with the given code.
func statusLineIs(l []byte, code int) bool {
	if len(l) < 12 || !bytes.HasPrefix(l, []byte("HTTP/1.")) || l[8] != ' ' {
		return false
	}
	n, err := strconv.Atoi(string(l[9:12]))
	return err == nil && n == code && (len(l) == 12 || l[12] == ' ')
}

// findHead finds the first message head in buf whose start line (without its
// CRLF) satisfies isStart and that starts at the beginning of a line. It
// returns the offsets of the head and the end of its blank line, and its
// fields; start is -1 when there is none or the head is malformed or cut.
func findHead(buf []byte, isStart func(line []byte) bool) (start, end int, fields capture.Headers) {
	for i := 0; i < len(buf); {
		nl := bytes.IndexByte(buf[i:], '\n')
		if nl < 0 {
			return -1, 0, nil
		}
		lineEnd := i + nl // index of '\n'
		line := buf[i:lineEnd]
		if len(line) > 0 && line[len(line)-1] == '\r' && isStart(line[:len(line)-1]) {
			end, fields, ok := parseFields(buf, lineEnd+1)
			if ok {
				return i, end, fields
			}
			return -1, 0, nil
		}
		i = lineEnd + 1
	}
	return -1, 0, nil
}

// parseFields parses "Name: value" CRLF lines from buf[off:] up to the empty
// line. It refuses obsolete line folding and lines without a colon, which
// net/http would have rejected or rewritten, and invalid names and values.
// The fields share one string copy of the head.
func parseFields(buf []byte, off int) (end int, fields capture.Headers, ok bool) {
	headEnd := bytes.Index(buf[off:], []byte("\r\n\r\n"))
	if bytes.HasPrefix(buf[off:], []byte("\r\n")) {
		return off + 2, nil, true
	}
	if headEnd < 0 {
		return 0, nil, false
	}
	head := string(buf[off : off+headEnd+2]) // the field lines, each ending in CRLF
	n := strings.Count(head, "\n")
	fields = make(capture.Headers, 0, n)
	for len(head) > 0 {
		nl := strings.IndexByte(head, '\n')
		line := head[:nl]
		head = head[nl+1:]
		if len(line) == 0 || line[len(line)-1] != '\r' {
			return 0, nil, false // a bare LF
		}
		line = line[:len(line)-1]
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			return 0, nil, false
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return 0, nil, false
		}
		name := line[:colon]
		value := strings.Trim(line[colon+1:], " \t")
		if !validFieldName(name) || !validFieldValue(value) {
			return 0, nil, false
		}
		fields = append(fields, capture.Header{Name: name, Value: value})
	}
	return off + headEnd + 4, fields, true
}

// validFieldValue reports whether v holds no control characters but tab, as
// net/http requires.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// frameFields are the fields net/http takes out of a parsed header map (Host
// into Request.Host, the framing fields into ContentLength, TransferEncoding and
// Trailer), so they cannot be compared.
func frameField(name string) bool {
	return strings.EqualFold(name, "Host") || strings.EqualFold(name, "Transfer-Encoding") ||
		strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "Trailer")
}

// sameFields reports whether the wire fields hold exactly the values of the
// parsed header map m, name by name in order, apart from the framing fields.
func sameFields(fields capture.Headers, m http.Header) bool {
	n := 0
	for _, f := range fields {
		if !frameField(f.Name) {
			n++
		}
	}
	for k, vs := range m {
		if frameField(k) {
			continue
		}
		i := 0
		for _, f := range fields {
			if !strings.EqualFold(f.Name, k) {
				continue
			}
			if i >= len(vs) || f.Value != vs[i] {
				return false
			}
			i++
		}
		if i != len(vs) {
			return false
		}
		n -= len(vs)
	}
	return n == 0
}

// mapFields turns a parsed header map into fields when the wire order is
// unknown: host first (as clients send it), then the rest sorted by name, with
// the framing fields net/http took out put back.
func mapFields(host string, m http.Header, contentLength int64, te []string) capture.Headers {
	var h capture.Headers
	if host != "" {
		h = append(h, capture.Header{Name: "Host", Value: host})
	}
	h = append(h, capture.HeadersFromMap(m)...)
	switch {
	case len(te) > 0:
		h = append(h, capture.Header{Name: "Transfer-Encoding", Value: strings.Join(te, ", ")})
	case contentLength > 0 && m.Get("Content-Length") == "":
		h = append(h, capture.Header{Name: "Content-Length", Value: strconv.FormatInt(contentLength, 10)})
	}
	return h
}

// responseHasBody reports whether resp may carry a body on the wire: not a
// response to HEAD, not 1xx, 204 or 304.
func responseHasBody(resp *http.Response) bool {
	if resp.Request != nil && resp.Request.Method == http.MethodHead {
		return false
	}
	c := resp.StatusCode
	return c >= 200 && c != http.StatusNoContent && c != http.StatusNotModified
}
