package replay

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/stats"
)

// HTTP/2 in replay. A target speaks it when it is https (offered by ALPN
// beside http/1.1, the server picks) or, with Config.H2C, http (prior
// knowledge, as gRPC clients do); Config.HTTP1 turns it off. Like a browser,
// a user keeps one connection per target and multiplexes on it the requests
// that overlapped in the recording: a task is sent without waiting for the
// tasks still in flight whose recorded response ended after the task's
// recorded start (it cannot depend on them: the recorded client had not seen
// them yet), and waits for the others first. The user goroutine builds every
// request and handles every response (checks, cookies, correlation,
// statistics); only the stream's round trip runs on a goroutine of its own.
// The HTTP/1.1 path is untouched: a target without h2 costs one nil check.

// h2Target is how a target speaks HTTP/2.
type h2Target struct {
	prior bool            // h2c with prior knowledge; else negotiated by ALPN
	tr    *http.Transport // makes the client connections on conns dialled here; safe for concurrent use
}

// dialledKey is the context key of a connection the user dialled, which
// the h2Target's transport takes instead of dialling.
type dialledKey struct{}

// dialled returns the connection NewClientConn was given through ctx.
func dialled(ctx context.Context, _, _ string) (net.Conn, error) {
	if nc, ok := ctx.Value(dialledKey{}).(net.Conn); ok {
		return nc, nil
	}
	return nil, errors.New("replay: no connection to take") // cannot happen: startH2 gives one
}

// withProtocol returns t set up for HTTP/2 as cfg asks (see h2Target).
func (t *Target) withProtocol(cfg Config) *Target {
	switch {
	case cfg.HTTP1:
		return t
	case t.TLS != nil:
		t.TLS.NextProtos = []string{"h2", "http/1.1"}
		t.h2 = &h2Target{}
	case cfg.H2C:
		t.h2 = &h2Target{prior: true}
	default:
		return t
	}
	// Bodies stay as the server sent them (the checks decode them), and no
	// field the recording lacks is added. The transport never dials: it
	// takes the connection the user dialled (and handshook).
	protos := new(http.Protocols)
	if t.h2.prior {
		protos.SetUnencryptedHTTP2(true)
	} else {
		protos.SetHTTP1(true)
		protos.SetHTTP2(true)
	}
	// The transport sets its TLS config's NextProtos when first used, while
	// other users' handshakes read t.TLS: it gets a copy of its own.
	t.h2.tr = &http.Transport{Protocols: protos, DisableCompression: true, TLSClientConfig: t.TLS.Clone(),
		DialContext: dialled, DialTLSContext: dialled}
	return t
}

// Protocol says how replayed requests reach the target: "HTTP/1.1", "h2 or
// HTTP/1.1 (ALPN)" or "h2c".
func (t *Target) Protocol() string {
	switch {
	case t.h2 == nil:
		return "HTTP/1.1"
	case t.h2.prior:
		return "h2c"
	}
	return "h2 or HTTP/1.1 (ALPN)"
}

// h2conn is the HTTP/2 client connection of a conn.
type h2conn struct{ cc *http.ClientConn }

// startH2 makes nc, just dialled (and TLS-handshaken), the conn's HTTP/2
// connection when the target speaks it on nc: always with prior knowledge,
// when the server chose h2 by ALPN otherwise.
func (c *conn) startH2(ctx context.Context, nc net.Conn) error {
	h := c.target.h2
	if h == nil {
		return nil
	}
	scheme := "http"
	if tc, ok := nc.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol != "h2" {
		return nil
	} else if !ok && !h.prior {
		return nil
	} else if ok {
		scheme = "https"
	}
	cc, err := h.tr.NewClientConn(context.WithValue(ctx, dialledKey{}, nc), scheme, c.target.Addr)
	if err != nil {
		return err
	}
	c.h2 = &h2conn{cc: cc}
	return nil
}

// roundTripH2 is roundTrip on a target that may speak HTTP/2: it dials if
// needed and, when the connection is HTTP/2, sends req (HTTP/1.1 bytes, see
// user.build) as one stream and waits for its response. It reports false
// when the connection is HTTP/1.1 after all, for the caller to go on.
func (c *conn) roundTripH2(ctx context.Context, req []byte, head, keepBody bool, deadline time.Time) (bool, error) {
	c.sent, c.bytes = 0, 0
	if c.h2 != nil && c.h2.cc.Err() != nil {
		c.close()
	}
	if c.nc == nil {
		if err := c.dial(ctx, deadline); err != nil {
			c.close()
			return true, err
		}
	}
	if c.h2 == nil {
		return false, nil
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	r, err := h2Request(ctx, c.target, req)
	if err != nil {
		return true, err
	}
	c.sent = int64(len(req)) // as HTTP/1.1 would frame it, like the response's bytes
	err = c.h2Exchange(c.h2.cc, r, head, keepBody)
	if err != nil && c.h2.cc.Err() != nil {
		c.close()
	}
	return true, err
}

// h2Exchange sends r on cc and reads the response into c, like readResponse.
func (c *conn) h2Exchange(cc *http.ClientConn, r *http.Request, head, keepBody bool) error {
	c.bytes, c.bodyN, c.status = 0, 0, 0
	c.body = c.body[:0]
	c.hbuf, c.hoffs = c.hbuf[:0], c.hoffs[:0]
	c.first, c.closing, c.viaH2 = time.Time{}, false, true
	resp, err := cc.RoundTrip(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	c.first = time.Now()
	c.status = resp.StatusCode
	c.bytes = int64(len("HTTP/1.1 200 OK\r\n\r\n"))
	c.addFields(resp.Header)
	if !head {
		if err := c.readH2Body(resp.Body, keepBody); err != nil {
			return err
		}
	}
	c.addFields(resp.Trailer) // gRPC's status is in the trailers
	return nil
}

// addFields appends header fields to c.hbuf as "Name: value" lines would be,
// counting them in c.bytes.
func (c *conn) addFields(h http.Header) {
	for name, vs := range h {
		for _, v := range vs {
			base := int32(len(c.hbuf))
			c.hbuf = append(c.hbuf, name...)
			c.hbuf = append(c.hbuf, ": "...)
			c.hbuf = append(c.hbuf, v...)
			n := int32(len(name))
			c.hoffs = append(c.hoffs, hfield{name0: base, name1: base + n, val0: base + n + 2, val1: int32(len(c.hbuf))})
			c.bytes += int64(len(name) + len(v) + 4)
		}
	}
}

// readH2Body reads a response body to its end, keeping up to maxKeptBody of
// it when keep is set.
func (c *conn) readH2Body(body io.Reader, keep bool) error {
	if cap(c.body) < 16<<10 {
		c.body = make([]byte, 0, 16<<10)
	}
	var scratch []byte // once the kept body is full
	for {
		var buf []byte
		switch {
		case !keep:
			buf = c.body[:cap(c.body)] // nothing is kept: the buffer is a scratch
		case len(c.body) < maxKeptBody:
			c.body = slices.Grow(c.body, 16<<10)
			buf = c.body[len(c.body):min(cap(c.body), maxKeptBody)]
		default:
			if scratch == nil {
				scratch = make([]byte, 16<<10)
			}
			buf = scratch
		}
		n, err := body.Read(buf)
		c.bodyN += int64(n)
		c.bytes += int64(n)
		if keep && len(c.body) < maxKeptBody {
			c.body = c.body[:len(c.body)+n]
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// h2Request turns the HTTP/1.1 request bytes that user.build made into an
// HTTP/2 request to t: the Host field is the authority, Content-Length the
// length, fields HTTP/2 forbids are left out, and a gRPC call says that it
// takes trailers. The body is copied: raw is a buffer the user reuses.
func h2Request(ctx context.Context, t *Target, raw []byte) (*http.Request, error) {
	line, rest, _ := bytes.Cut(raw, []byte("\r\n"))
	method, target, ok := strings.Cut(string(line), " ")
	target, _, ok2 := strings.Cut(target, " ")
	head, body, ok3 := bytes.Cut(rest, []byte("\r\n\r\n"))
	if !ok || !ok2 || !ok3 {
		return nil, badResponse("request not HTTP/1.1 framed", line) // cannot happen: user.build made it
	}
	scheme := "http"
	if t.TLS != nil {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: t.Host}
	u.Opaque, u.RawQuery, _ = strings.Cut(target, "?")
	r := &http.Request{Method: method, URL: u, Host: t.Host, Header: http.Header{}, Proto: "HTTP/2.0", ProtoMajor: 2}
	grpc := false
	for len(head) > 0 {
		var f []byte
		f, head, _ = bytes.Cut(head, []byte("\r\n"))
		name, value, _ := strings.Cut(string(f), ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "host":
			r.Host = value
			continue
		case "content-length", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te":
			continue
		case "content-type":
			grpc = strings.HasPrefix(strings.ToLower(value), "application/grpc")
		}
		r.Header.Add(name, value)
	}
	if grpc {
		r.Header.Set("Te", "trailers")
	}
	if len(body) > 0 {
		b := bytes.Clone(body)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}
	return r.WithContext(ctx), nil
}

// stream is one request of a user in flight on an HTTP/2 connection.
type stream struct {
	sc                   *Script
	t                    *Task
	intended, sent, done time.Time
	c                    conn // the response, as a conn holds one
	err                  error
	ch                   chan struct{} // receives when the response is in
}

// doH2 sends task t on the user's HTTP/2 connection c to its target without
// waiting for the response (settle handles it), dialling first if needed. It
// reports false when the connection is HTTP/1.1, for do to go on.
func (u *user) doH2(sc *Script, t *Task, c *conn, intended time.Time) bool {
	p := u.p
	sent := time.Now()
	if intended.IsZero() {
		intended = sent
	}
	deadline := sent.Add(p.cfg.Timeout)
	if c.h2 != nil && c.h2.cc.Err() != nil {
		u.settleAll() // the streams in flight are on the connection that ends
		c.close()
	}
	if c.nc == nil {
		if err := c.dial(p.hard, deadline); err != nil {
			c.close()
			c.sent, c.bytes = 0, 0
			u.finish(sc, t, c, intended, sent, time.Now(), err)
			return true
		}
	}
	if c.h2 == nil {
		return false
	}
	u.req = u.build(u.req[:0], sc, t)
	st := u.newStream()
	st.sc, st.t, st.intended, st.sent, st.err = sc, t, intended, sent, nil
	st.c.target, st.c.sent = c.target, int64(len(u.req))
	ctx, cancel := context.WithDeadline(p.hard, deadline)
	r, err := h2Request(ctx, c.target, u.req)
	if err != nil {
		cancel()
		u.finish(sc, t, c, intended, sent, time.Now(), err)
		u.spare = append(u.spare, st)
		return true
	}
	u.flight = append(u.flight, st)
	go func(cc *http.ClientConn) {
		st.err = st.c.h2Exchange(cc, r, t.Method == "HEAD", t.keepBody)
		st.done = time.Now()
		cancel()
		st.ch <- struct{}{}
	}(c.h2.cc)
	return true
}

func (u *user) newStream() *stream {
	if n := len(u.spare); n > 0 {
		st := u.spare[n-1]
		u.spare = u.spare[:n-1]
		return st
	}
	return &stream{ch: make(chan struct{}, 1)}
}

// settle handles the responses in flight that task t may depend on: those
// whose recorded exchange ended by t's recorded start. t nil settles all.
func (u *user) settle(t *Task) {
	keep := u.flight[:0]
	for _, st := range u.flight {
		if t != nil && st.t.Offset+st.t.RecordedLatency > t.Offset {
			keep = append(keep, st)
			continue
		}
		<-st.ch
		u.finish(st.sc, st.t, &st.c, st.intended, st.sent, st.done, st.err)
		u.spare = append(u.spare, st)
	}
	clear(u.flight[len(keep):])
	u.flight = keep
}

// settleAll handles every response in flight.
func (u *user) settleAll() {
	if len(u.flight) > 0 {
		u.settle(nil)
	}
}

// grpcFailure returns the failure of a gRPC call that the response in c
// answers with a grpc-status other than OK: "grpc: CODE" and the
// grpc-message as the sample; "" for any other response.
func (c *conn) grpcFailure() (reason, sample string) {
	if !c.viaH2 {
		return "", ""
	}
	st := c.header("grpc-status")
	if st == nil || string(st) == "0" {
		return "", ""
	}
	msg, _ := url.PathUnescape(string(c.header("grpc-message")))
	return ReasonGRPC + grpcCodeName(string(st)), msg
}

// ReasonGRPC prefixes the code name of a gRPC call's non-OK status, e.g.
// "grpc: UNAVAILABLE".
const ReasonGRPC = "grpc: "

// grpcCodeName names a grpc-status value as gRPC's documentation does.
func grpcCodeName(code string) string {
	const names = "OK CANCELLED UNKNOWN INVALID_ARGUMENT DEADLINE_EXCEEDED NOT_FOUND ALREADY_EXISTS " +
		"PERMISSION_DENIED RESOURCE_EXHAUSTED FAILED_PRECONDITION ABORTED OUT_OF_RANGE UNIMPLEMENTED " +
		"INTERNAL UNAVAILABLE DATA_LOSS UNAUTHENTICATED"
	n, err := strconv.Atoi(code)
	if err != nil || n < 0 {
		return "status " + strconv.Quote(code)
	}
	for f := range strings.FieldsSeq(names) {
		if n == 0 {
			return f
		}
		n--
	}
	return "status " + code
}

// classifyH2 names the HTTP/2 errors of a stream or a connection. net/http
// does not export their types; their texts are RFC 9113's names.
func classifyH2(err error) (string, bool) {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "stream error: stream ID "):
		// "stream error: stream ID 1; INTERNAL_ERROR; received from peer"
		code := "?"
		if parts := strings.Split(msg[strings.Index(msg, "stream error: "):], "; "); len(parts) > 1 {
			code = parts[1]
		}
		return stats.CapText("h2: stream reset ("+code+")", stats.MaxReasonLen), true
	case strings.Contains(msg, "GOAWAY"):
		return "h2: connection closed by GOAWAY", true
	}
	return "", false
}
