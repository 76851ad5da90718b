package replay

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection of a simulated user: a lean
// client that writes pre-built request bytes and parses the response in
// place, so that a request costs no allocations once the buffers have grown.
// It is not safe for concurrent use; each user owns its conns.
type conn struct {
	target *Target
	guard  *sync.Mutex // held while nc changes, so another goroutine can abort it; may be nil
	nc     net.Conn
	br     *bufio.Reader
	used   bool // a request completed on nc, so a failure to read may be a stale keep-alive

	// The last response, valid until the next request.
	status  int
	hbuf    []byte   // header lines, copied out of br
	hoffs   []hfield // offsets into hbuf
	body    []byte   // the body when kept
	bodyN   int64    // body bytes read (as sent: compressed, de-chunked)
	bytes   int64    // response bytes read (status line, header, body)
	sent    int64    // request bytes written for it (0: never went out)
	first   time.Time
	closing bool // the server asked to close

	chk checkScratch // the checks' buffers (check.go)

	h2    *h2conn // the HTTP/2 connection on nc, or nil (h2.go)
	viaH2 bool    // the last response came over HTTP/2
}

// hfield locates one header field in conn.hbuf.
type hfield struct{ name0, name1, val0, val1 int32 }

// response field accessors ---------------------------------------------------

// header returns the first value of the named response field (ASCII
// case-insensitive) without allocating, or nil.
func (c *conn) header(name string) []byte {
	for _, f := range c.hoffs {
		if asciiEqualFold(c.hbuf[f.name0:f.name1], name) {
			return c.hbuf[f.val0:f.val1]
		}
	}
	return nil
}

// eachHeader calls fn for every response field named name.
func (c *conn) eachHeader(name string, fn func(v []byte)) {
	for _, f := range c.hoffs {
		if asciiEqualFold(c.hbuf[f.name0:f.name1], name) {
			fn(c.hbuf[f.val0:f.val1])
		}
	}
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// errStale marks a failure on a reused connection before any response byte:
// the server closed an idle keep-alive connection, and the request may be sent
// again on a new one.
var errStale = errors.New("replay: stale keep-alive connection")

// errTLS marks a failed TLS handshake.
var errTLS = errors.New("tls")

// roundTrip sends req (a complete HTTP/1.1 request) and reads the response. It
// keeps the body in c.body when keepBody is set, else discards it. head marks
// a HEAD request (no response body). deadline bounds the whole exchange.
func (c *conn) roundTrip(ctx context.Context, req []byte, head, keepBody bool, deadline time.Time) error {
	if c.target.h2 != nil {
		if done, err := c.roundTripH2(ctx, req, head, keepBody, deadline); done {
			return err
		}
	}
	c.viaH2 = false
	err := c.try(ctx, req, head, keepBody, deadline)
	if errors.Is(err, errStale) {
		err = c.try(ctx, req, head, keepBody, deadline)
	}
	if err != nil {
		c.close()
	}
	return err
}

func (c *conn) try(ctx context.Context, req []byte, head, keepBody bool, deadline time.Time) error {
	c.sent = 0
	if c.nc == nil {
		if err := c.dial(ctx, deadline); err != nil {
			return err
		}
	}
	reused := c.used
	if err := c.nc.SetDeadline(deadline); err != nil {
		return err
	}
	if _, err := c.nc.Write(req); err != nil {
		if reused {
			c.close()
			return errStale
		}
		return err
	}
	c.sent = int64(len(req))
	err := c.readResponse(head, keepBody)
	if err != nil && reused && c.bytes == 0 && isConnLoss(err) {
		c.close()
		return errStale
	}
	if err != nil {
		return err
	}
	c.used = true
	if c.closing {
		c.close()
	}
	return nil
}

func isConnLoss(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (c *conn) dial(ctx context.Context, deadline time.Time) error {
	var nc net.Conn
	var err error
	if c.target.dial != nil {
		nc, err = c.target.dial(ctx)
	} else {
		d := net.Dialer{Deadline: deadline, KeepAlive: -1}
		nc, err = d.DialContext(ctx, "tcp", c.target.Addr)
	}
	if err != nil {
		return err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if c.target.TLS != nil {
		tlsConn := tls.Client(nc, c.target.TLS)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			nc.Close()
			return fmt.Errorf("%w: %w", errTLS, err)
		}
		nc = tlsConn
	}
	if err := c.startH2(ctx, nc); err != nil {
		nc.Close()
		return err
	}
	c.setConn(nc)
	if c.br == nil {
		c.br = bufio.NewReaderSize(nc, 16<<10)
	} else {
		c.br.Reset(nc)
	}
	c.used = false
	return nil
}

func (c *conn) close() {
	if c.h2 != nil {
		c.h2.cc.Close()
		c.h2 = nil
	}
	if c.nc != nil {
		c.nc.Close()
		c.setConn(nil)
	}
	c.used = false
}

func (c *conn) setConn(nc net.Conn) {
	if c.guard != nil {
		c.guard.Lock()
		defer c.guard.Unlock()
	}
	c.nc = nc
}

// readResponse parses one response, skipping 1xx interim responses.
func (c *conn) readResponse(head, keepBody bool) error {
	c.bytes, c.bodyN = 0, 0
	c.body = c.body[:0]
	c.first = time.Time{}
	for {
		if err := c.readHeader(); err != nil {
			return err
		}
		if c.status >= 200 || c.status == 101 {
			break
		}
	}
	if c.status == 101 {
		c.closing = true // a protocol switch: nothing more to read as HTTP
		return nil
	}
	if head || c.status == 204 || c.status == 304 {
		return nil
	}
	if te := c.header("Transfer-Encoding"); te != nil && !asciiEqualFold(te, "identity") {
		return c.readChunked(keepBody)
	}
	if cl := c.header("Content-Length"); cl != nil {
		n, err := strconv.ParseInt(string(bytes.TrimSpace(cl)), 10, 64)
		if err != nil || n < 0 {
			return badResponse("bad Content-Length", cl)
		}
		return c.readBody(n, keepBody)
	}
	// No length: the body runs to the end of the connection.
	c.closing = true
	return c.readBody(-1, keepBody)
}

// readHeader reads a status line and header fields into c.hbuf.
func (c *conn) readHeader() error {
	c.hbuf = c.hbuf[:0]
	c.hoffs = c.hoffs[:0]
	c.closing = false
	line, err := c.readLine()
	if err != nil {
		return err
	}
	if c.first.IsZero() {
		c.first = time.Now()
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return badResponse("malformed status line", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil || status < 100 || status > 999 {
		return badResponse("malformed status line", line)
	}
	c.status = status
	http10 := line[7] == '0'
	keepAliveSeen := false
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue // tolerate junk lines, as browsers do
		}
		base := int32(len(c.hbuf))
		c.hbuf = append(c.hbuf, line...)
		v0, v1 := int32(colon+1), int32(len(line))
		for v0 < v1 && (line[v0] == ' ' || line[v0] == '\t') {
			v0++
		}
		for v1 > v0 && (line[v1-1] == ' ' || line[v1-1] == '\t') {
			v1--
		}
		f := hfield{name0: base, name1: base + int32(colon), val0: base + v0, val1: base + v1}
		c.hoffs = append(c.hoffs, f)
		name, val := c.hbuf[f.name0:f.name1], c.hbuf[f.val0:f.val1]
		if asciiEqualFold(name, "Connection") {
			if bytes.Contains(bytes.ToLower(val), []byte("close")) {
				c.closing = true
			}
			if bytes.Contains(bytes.ToLower(val), []byte("keep-alive")) {
				keepAliveSeen = true
			}
		}
	}
	if http10 && !keepAliveSeen {
		c.closing = true
	}
	return nil
}

// readLine returns one line without its CR LF; the slice is valid until the
// next read. Lines longer than the buffer are an error.
func (c *conn) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	c.bytes += int64(len(line))
	if err != nil {
		if err == bufio.ErrBufferFull {
			return nil, badResponse("header line too long", line)
		}
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readBody reads n bytes (n < 0: until EOF), keeping them if asked.
func (c *conn) readBody(n int64, keep bool) error {
	if n < 0 {
		for {
			buf, err := c.br.Peek(1)
			if len(buf) == 0 {
				if err == io.EOF {
					return nil
				}
				return err
			}
			chunk := c.br.Buffered()
			if err := c.consume(int64(chunk), keep); err != nil {
				return err
			}
		}
	}
	return c.consume(n, keep)
}

// consume reads exactly n bytes from br.
func (c *conn) consume(n int64, keep bool) error {
	for n > 0 {
		buf, err := c.br.Peek(int(min(n, int64(c.br.Size()))))
		if len(buf) > 0 {
			if keep && len(c.body) < maxKeptBody {
				c.body = append(c.body, buf[:min(len(buf), maxKeptBody-len(c.body))]...)
			}
			if _, derr := c.br.Discard(len(buf)); derr != nil {
				return derr
			}
			c.bytes += int64(len(buf))
			c.bodyN += int64(len(buf))
			n -= int64(len(buf))
			continue
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// readChunked reads a chunked body and its trailer.
func (c *conn) readChunked(keep bool) error {
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return badResponse("bad chunk size", line)
		}
		if size == 0 {
			for { // trailer fields, then an empty line
				line, err := c.readLine()
				if err != nil {
					return err
				}
				if len(line) == 0 {
					return nil
				}
			}
		}
		if err := c.consume(size, keep); err != nil {
			return err
		}
		if line, err := c.readLine(); err != nil || len(line) != 0 {
			if err == nil {
				err = badResponse("chunk not followed by CRLF", line)
			}
			return err
		}
	}
}

// maxKeptBody bounds the response body a user keeps for correlation.
const maxKeptBody = 4 << 20

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
