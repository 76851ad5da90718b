package packet_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/packet"
)

// Messages used by the generated captures.
const (
	getA = "GET /a HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: ua\r\n\r\n"
	getB = "GET /b?x=1 HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: ua\r\n\r\n"
	getC = "GET /c HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: ua\r\n\r\n"
)

// resp builds a response with a Content-Length body.
func resp(status int, body string) string {
	return fmt.Sprintf("HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", status, len(body), body)
}

// want is what one imported exchange should hold.
type want struct {
	method, url string
	status      int
	reqBody     string
	respBody    string
	flags       capture.Flags
}

func (w want) check(t *testing.T, i int, e *capture.Exchange) {
	t.Helper()
	got := want{e.Request.Method, e.Request.URL, e.Response.Status, string(e.Request.Body), string(e.Response.Body), e.Flags}
	if got != w {
		t.Errorf("exchange %d:\n got %+v\nwant %+v", i, got, w)
	}
}

// keepAlive generates three requests and responses on one connection.
func keepAlive(b *capBuilder, client, server string) {
	c := b.conn(client, server)
	c.handshake()
	for i, req := range []string{getA, getB, getC} {
		c.send(true, req)
		b.tick(time.Millisecond)
		c.send(false, resp(200, strings.Repeat("x", i+1)))
		b.tick(10 * time.Millisecond)
	}
	c.fin(true)
	c.fin(false)
}

var keepAliveWant = []want{
	{"GET", "http://shop.test/a", 200, "", "x", 0},
	{"GET", "http://shop.test/b?x=1", 200, "", "xx", 0},
	{"GET", "http://shop.test/c", 200, "", "xxx", 0},
}

// TestGenerated imports generated captures, one per feature of HTTP/1.x and
// TCP that the importer must handle.
func TestGenerated(t *testing.T) {
	tests := []struct {
		name  string
		link  packet.LinkType
		build func(b *capBuilder)
		want  []want
	}{
		{name: "keep-alive", build: func(b *capBuilder) { keepAlive(b, "10.0.0.1:40000", "10.0.0.2:80") }, want: keepAliveWant},
		{
			// Three requests in one segment, answered in order: two
			// responses in one segment, the third split.
			name: "pipelining",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.send(true, getA+getB+getC)
				c.send(false, resp(200, "first")+resp(404, "second"))
				c.sendSplit(false, resp(500, "third"), 10)
				c.fin(true)
				c.fin(false)
			},
			want: []want{
				{"GET", "http://shop.test/a", 200, "", "first", 0},
				{"GET", "http://shop.test/b?x=1", 404, "", "second", 0},
				{"GET", "http://shop.test/c", 500, "", "third", 0},
			},
		},
		{
			name: "content-length bodies split across segments",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:8080")
				c.handshake()
				c.sendSplit(true, "POST /form HTTP/1.1\r\nHost: shop.test:8080\r\nContent-Length: 11\r\n\r\nhello world", 30, 22)
				c.sendSplit(false, resp(201, "created it"), 5, 58)
			},
			want: []want{{"POST", "http://shop.test:8080/form", 201, "hello world", "created it", 0}},
		},
		{
			// Chunk-size lines with extensions, split inside the size line
			// and inside the CRLF; trailers; a chunked request body too.
			name: "chunked",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.sendSplit(true, "PUT /p HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 70)
				body := "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\n"
				c.sendSplit(false, body, 55, 3, 6, 1, 12)
				c.send(true, getB)
				c.send(false, resp(200, "next"))
			},
			want: []want{
				{"PUT", "http://shop.test/p", 200, "abc", "Wikipedia", 0},
				{"GET", "http://shop.test/b?x=1", 200, "", "next", 0},
			},
		},
		{
			name: "body until close",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.send(true, "GET /old HTTP/1.0\r\nHost: shop.test\r\n\r\n")
				c.send(false, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>")
				c.send(false, "</html>")
				c.fin(false)
				c.fin(true)
			},
			want: []want{{"GET", "http://shop.test/old", 200, "", "<html></html>", 0}},
		},
		{
			// A response to HEAD has a Content-Length and no body.
			name: "HEAD",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.send(true, "HEAD /a HTTP/1.1\r\nHost: shop.test\r\n\r\n")
				c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
				c.send(true, getB)
				c.send(false, resp(200, "body"))
			},
			want: []want{
				{"HEAD", "http://shop.test/a", 200, "", "", 0},
				{"GET", "http://shop.test/b?x=1", 200, "", "body", 0},
			},
		},
		{
			// Expect: 100-continue: the interim 100 is not the response.
			name: "100 continue",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.send(true, "POST /up HTTP/1.1\r\nHost: shop.test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
				c.send(false, "HTTP/1.1 100 Continue\r\n\r\n")
				c.send(true, "data")
				c.send(false, resp(200, "stored"))
			},
			want: []want{{"POST", "http://shop.test/up", 200, "data", "stored", 0}},
		},
		{
			// 204 and 304 have no body whatever their fields say.
			name: "204 and 304",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.send(true, getA+getB+getC)
				c.send(false, "HTTP/1.1 204 No Content\r\n\r\n")
				c.send(false, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n")
				c.send(false, resp(200, "fresh"))
			},
			want: []want{
				{"GET", "http://shop.test/a", 204, "", "", 0},
				{"GET", "http://shop.test/b?x=1", 304, "", "", 0},
				{"GET", "http://shop.test/c", 200, "", "fresh", 0},
			},
		},
		{
			name: "absolute URI",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:3128")
				c.handshake()
				c.send(true, "GET http://elsewhere.test:8080/x?y=1 HTTP/1.1\r\nHost: elsewhere.test:8080\r\n\r\n")
				c.send(false, resp(200, "proxied"))
			},
			want: []want{{"GET", "http://elsewhere.test:8080/x?y=1", 200, "", "proxied", 0}},
		},
		{
			name: "bare LF line ends",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.send(true, "GET /lf HTTP/1.1\nHost: shop.test\nUser-Agent:\n\n")
				c.send(false, "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n")
				c.send(true, getB)
				c.send(false, resp(200, "crlf"))
			},
			want: []want{
				{"GET", "http://shop.test/lf", 200, "", "ok", 0},
				{"GET", "http://shop.test/b?x=1", 200, "", "crlf", 0},
			},
		},
		{
			// No Host field: the URL names the server's address, with the
			// port unless it is 80.
			name: "no Host",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:8080")
				c.handshake()
				c.send(true, "GET /x HTTP/1.0\r\n\r\n")
				c.send(false, resp(200, "a"))
				d := b.conn("[2001:db8::1]:40001", "[2001:db8::2]:80")
				d.handshake()
				d.send(true, "GET /y HTTP/1.0\r\nHost:\r\n\r\n")
				d.send(false, resp(200, "b"))
			},
			want: []want{
				{"GET", "http://10.0.0.2:8080/x", 200, "", "a", 0},
				{"GET", "http://[2001:db8::2]/y", 200, "", "b", 0},
			},
		},
		{
			name: "request segments out of order",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				fs := c.sendSplit(true, getA, 10, 20)
				b.move(b.indexOf(fs[2]), b.indexOf(fs[0])) // 3rd, 1st, 2nd
				c.send(false, resp(200, "x"))
				c.send(true, getB)
				c.send(false, resp(200, "xx"))
				c.send(true, getC)
				c.send(false, resp(200, "xxx"))
			},
			want: keepAliveWant,
		},
		{
			name: "response segments out of order",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				for i, req := range []string{getA, getB, getC} {
					c.send(true, req)
					fs := c.sendSplit(false, resp(200, strings.Repeat("x", i+1)), 20, 30)
					b.move(b.indexOf(fs[1]), b.indexOf(fs[0])) // 2nd before 1st
				}
			},
			want: keepAliveWant,
		},
		{
			// The response's packets come before the request's in the file
			// (merged captures, clock skew between interfaces).
			name: "response captured before its request",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				for i, req := range []string{getA, getB, getC} {
					r := c.send(true, req)
					fs := c.sendSplit(false, resp(200, strings.Repeat("x", i+1)), 25)
					b.move(b.indexOf(r), b.indexOf(fs[1])) // request after both response segments
				}
			},
			want: keepAliveWant,
		},
		{
			// Retransmissions: a copy of a segment, and a retransmission
			// that overlaps the end of one segment and the start of the next.
			name: "retransmissions",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				fs := c.sendSplit(true, getA, 12, 12)
				b.frames = append(b.frames, fs[0], fs[1])
				c.send(false, resp(200, "x"))
				c.send(true, getB)
				save := c.sseq
				c.sendSplit(false, resp(200, "xx"), 30)
				c.sseq = save + 20
				c.send(false, resp(200, "xx")[20:40]) // overlapping copy
				c.sseq = save + uint32(len(resp(200, "xx")))
				c.send(true, getC)
				c.send(false, resp(200, "xxx"))
			},
			want: keepAliveWant,
		},
		{
			// The capture starts inside a response body: that exchange is
			// lost, the next ones import.
			name: "mid-stream start",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.midStream()
				c.send(false, "the end of an earlier body\r\n")
				c.send(true, getA)
				c.send(false, resp(200, "x"))
				c.send(true, getB)
				c.send(false, resp(200, "xx"))
			},
			want: keepAliveWant[:2],
		},
		{
			// A missing segment inside a Content-Length body: that exchange
			// is incomplete, the parser stays in step.
			name: "gap in a body",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.send(true, getA)
				fs := c.sendSplit(false, resp(200, "0123456789"), 60, 3)
				b.drop(fs[1])
				c.send(true, getB)
				c.send(false, resp(200, "xx"))
			},
			want: []want{
				{"GET", "http://shop.test/a", 200, "", "", capture.FlagIncomplete},
				{"GET", "http://shop.test/b?x=1", 200, "", "xx", 0},
			},
		},
		{
			// A whole response is missing: its request gets none, the next
			// response still finds its own request (by TCP numbers).
			name: "gap swallows a response",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.send(true, getA)
				b.drop(c.send(false, resp(200, "x")))
				c.send(true, getB)
				c.send(false, resp(200, "xx"))
				c.send(true, getC)
				c.send(false, resp(200, "xxx"))
			},
			want: []want{
				{"GET", "http://shop.test/a", 0, "", "", capture.FlagNoResponse | capture.FlagIncomplete},
				keepAliveWant[1],
				keepAliveWant[2],
			},
		},
		{
			name: "request without response",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.send(true, getA)
				c.send(false, resp(200, "x"))
				c.send(true, "POST /late HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 2\r\n\r\nhi")
			},
			want: []want{keepAliveWant[0], {"POST", "http://shop.test/late", 0, "hi", "", capture.FlagNoResponse}},
		},
		{
			// After 101 Switching Protocols the connection speaks WebSocket:
			// its frames are read as such (ws_test.go), never as HTTP; the
			// bytes after the client's frame are no frame, so the
			// conversation is marked incomplete.
			name: "upgrade",
			build: func(b *capBuilder) {
				c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
				c.handshake()
				c.send(true, "GET /ws HTTP/1.1\r\nHost: shop.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
				c.send(false, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
				c.send(true, "\x81\x05hello GET / HTTP/1.1\r\n\r\n")
				c.send(false, "\x81\x02hi")
			},
			want: []want{{"GET", "http://shop.test/ws", 101, "", "", capture.FlagIncomplete}},
		},
		{name: "Ethernet with VLAN tag", build: func(b *capBuilder) { b.vlan = true; keepAlive(b, "10.0.0.1:40000", "10.0.0.2:80") }, want: keepAliveWant},
		{name: "IPv6", build: func(b *capBuilder) { keepAlive(b, "[2001:db8::1]:40000", "[2001:db8::2]:80") }, want: keepAliveWant},
		{name: "Linux SLL", link: packet.LinkLinuxSLL, build: func(b *capBuilder) { keepAlive(b, "10.0.0.1:40000", "10.0.0.2:80") }, want: keepAliveWant},
		{name: "Linux SLL2", link: packet.LinkLinuxSLL2, build: func(b *capBuilder) { keepAlive(b, "10.0.0.1:40000", "10.0.0.2:80") }, want: keepAliveWant},
		{name: "Linux SLL2 IPv6", link: packet.LinkLinuxSLL2, build: func(b *capBuilder) { keepAlive(b, "[::1]:40000", "[::1]:80") }, want: keepAliveWant},
		{name: "BSD loopback", link: packet.LinkNull, build: func(b *capBuilder) { keepAlive(b, "[::1]:40000", "[::1]:80") }, want: keepAliveWant},
		{name: "raw IP", link: packet.LinkRaw, build: func(b *capBuilder) { keepAlive(b, "10.0.0.1:40000", "10.0.0.2:80") }, want: keepAliveWant},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			link := tc.link
			if link == 0 {
				link = packet.LinkEthernet
			}
			for _, format := range []string{"pcap", "pcapng", "pcap.gz"} {
				b := newBuilder(t, link)
				tc.build(b)
				var data []byte
				switch format {
				case "pcap":
					data = b.pcap(0)
				case "pcapng":
					data = b.pcapng()
				default:
					data = gzipped(t, b.pcap(0))
				}
				got, st, err := importBytes(t, data, packet.Config{})
				if err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				if len(got) != len(tc.want) {
					for _, e := range got {
						t.Logf("%s %s -> %d [%s]", e.Request.Method, e.Request.URL, e.Response.Status, e.Flags)
					}
					t.Fatalf("%s: %d exchanges, want %d (stats %+v)", format, len(got), len(tc.want), st)
				}
				for i, w := range tc.want {
					w.check(t, i, got[i])
				}
				if st.Requests != len(tc.want) {
					t.Errorf("%s: stats count %d requests", format, st.Requests)
				}
			}
		})
	}
}

// TestTimings checks that an exchange's times come from its packets.
func TestTimings(t *testing.T) {
	b := newBuilder(t, packet.LinkEthernet)
	c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
	c.handshake()
	b.tick(time.Second)
	reqStart := b.now
	c.sendSplit(true, getA, 20)
	b.tick(40 * time.Millisecond)
	first := b.now
	fs := c.sendSplit(false, resp(200, strings.Repeat("z", 3000)), 1000, 1000)
	b.tick(7 * time.Millisecond)
	last := fs[len(fs)-1].ts
	got, _, err := importBytes(t, b.pcap(0), packet.Config{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%d exchanges, %v", len(got), err)
	}
	e := got[0]
	if !e.Start.Equal(reqStart) || e.TTFB != first.Sub(reqStart) || e.Duration != last.Sub(reqStart) {
		t.Errorf("start %v ttfb %v duration %v; want %v %v %v", e.Start, e.TTFB, e.Duration, reqStart, first.Sub(reqStart), last.Sub(reqStart))
	}
	if e.Client != "10.0.0.1:40000" || e.Request.Header.Get("User-Agent") != "ua" || e.Response.BodySize != 3000 {
		t.Errorf("client %q, header %v, body size %d", e.Client, e.Request.Header, e.Response.BodySize)
	}
}

// TestMaxBody checks that a body over the cap is cut, flagged, sized and
// hashed.
func TestMaxBody(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	b := newBuilder(t, packet.LinkEthernet)
	c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
	c.handshake()
	c.send(true, "POST /big HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 10000\r\n\r\n"+body)
	c.sendSplit(false, resp(200, body), 1400, 1400, 1400, 1400, 1400, 1400)
	got, _, err := importBytes(t, b.pcap(0), packet.Config{MaxBody: 100})
	if err != nil || len(got) != 1 {
		t.Fatalf("%d exchanges, %v", len(got), err)
	}
	e := got[0]
	sum := sha256.Sum256([]byte(body))
	if string(e.Request.Body) != body[:100] || e.Request.BodySize != 10000 || string(e.Response.Body) != body[:100] ||
		e.Response.BodySize != 10000 || !bytes.Equal(e.Response.BodyHash, sum[:]) ||
		e.Flags != capture.FlagRequestTruncated|capture.FlagResponseTruncated {
		t.Errorf("bodies %d/%d bytes of %d/%d, flags %s, hash %x", len(e.Request.Body), len(e.Response.Body),
			e.Request.BodySize, e.Response.BodySize, e.Flags, e.Response.BodyHash)
	}
}

// TestSnapLength imports a capture whose packets were cut to 80 bytes: the
// start lines survive, the exchange is marked incomplete.
func TestSnapLength(t *testing.T) {
	b := newBuilder(t, packet.LinkEthernet)
	c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
	c.handshake()
	c.send(true, "GET /images/logo.gif HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	c.send(false, resp(200, strings.Repeat("g", 500)))
	c.fin(true)
	c.fin(false)
	got, st, err := importBytes(t, b.pcap(54+30), packet.Config{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%d exchanges, %v", len(got), err)
	}
	e := got[0]
	if e.Request.Method != "GET" || e.Request.URL != "http://10.0.0.2/images/logo.gif" || e.Response.Status != 200 ||
		e.Flags&capture.FlagIncomplete == 0 || st.Truncated != 2 || st.Incomplete != 1 {
		t.Errorf("%s %s -> %d [%s], stats %+v", e.Request.Method, e.Request.URL, e.Response.Status, e.Flags, st)
	}
}

// TestCutFile imports a capture cut in the middle of its last packet.
func TestCutFile(t *testing.T) {
	b := newBuilder(t, packet.LinkEthernet)
	keepAlive(b, "10.0.0.1:40000", "10.0.0.2:80")
	data := b.pcap(0)
	got, _, err := importBytes(t, data[:len(data)-10], packet.Config{})
	if !errors.Is(err, packet.ErrTruncated) {
		t.Fatalf("error %v, want ErrTruncated", err)
	}
	if len(got) != 3 {
		t.Errorf("%d exchanges before the cut, want 3", len(got))
	}
}

// TestSkipped checks that non-HTTP connections are counted by reason; an
// HTTP/2 preface is HTTP (read as h2c), even without a request after it.
func TestSkipped(t *testing.T) {
	b := newBuilder(t, packet.LinkEthernet)
	c := b.conn("10.0.0.1:40000", "10.0.0.2:443")
	c.handshake()
	c.send(true, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
	c.send(false, "\x16\x03\x03\x00\x5d\x02\x00\x00")
	d := b.conn("10.0.0.1:40001", "10.0.0.2:22")
	d.handshake()
	d.send(false, "SSH-2.0-OpenSSH_9.6\r\n")
	e := b.conn("10.0.0.1:40002", "10.0.0.2:80")
	e.handshake()
	e.send(true, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	keepAlive(b, "10.0.0.1:40003", "10.0.0.2:80")
	got, st, err := importBytes(t, b.pcap(0), packet.Config{})
	if err != nil || len(got) != 3 {
		t.Fatalf("%d exchanges, %v", len(got), err)
	}
	if st.Skipped[packet.SkipTLS] != 1 || st.Skipped[packet.SkipNotHTTP] != 1 || len(st.Skipped) != 2 ||
		st.Streams != 4 || st.HTTPStreams != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestPorts checks that Config.Ports restricts the import to those
// connections.
func TestPorts(t *testing.T) {
	b := newBuilder(t, packet.LinkEthernet)
	keepAlive(b, "10.0.0.1:40000", "10.0.0.2:5000")
	keepAlive(b, "10.0.0.1:40001", "10.0.0.2:80")
	got, st, err := importBytes(t, b.pcap(0), packet.Config{Ports: []uint16{5000}})
	if err != nil || len(got) != 3 || st.OtherPorts == 0 {
		t.Fatalf("%d exchanges, %v, stats %+v", len(got), err, st)
	}
	for _, e := range got {
		if e.Request.URL[:len("http://shop.test/")] != "http://shop.test/" || e.Client != "10.0.0.1:40000" {
			t.Errorf("imported %s from %s", e.Request.URL, e.Client)
		}
	}
}

// TestPortReuse imports two connections on the same addresses and ports,
// the first reset while the reassembler still holds it.
func TestPortReuse(t *testing.T) {
	b := newBuilder(t, packet.LinkEthernet)
	c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
	c.handshake()
	c.send(true, getA)
	c.send(false, resp(200, "x"))
	c.segment(true, nil, "R")
	b.tick(time.Second)
	d := b.conn("10.0.0.1:40000", "10.0.0.2:80")
	d.cisn, d.cseq = 1000, 1000 // the same initial sequence number
	d.handshake()
	d.send(true, getB)
	d.send(false, resp(200, "xx"))
	got, _, err := importBytes(t, b.pcap(0), packet.Config{})
	if err != nil || len(got) != 2 {
		t.Fatalf("%d exchanges, %v", len(got), err)
	}
	keepAliveWant[0].check(t, 0, got[0])
	keepAliveWant[1].check(t, 1, got[1])
}
