package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
)

func TestFindHead(t *testing.T) {
	isGet := func(l []byte) bool { return string(l) == "GET /a HTTP/1.1" }
	tests := []struct {
		name   string
		buf    string
		start  int
		fields string
	}{
		{name: "at start", buf: "GET /a HTTP/1.1\r\nHost: x\r\nx-B:  2 \r\n\r\nbody", start: 0, fields: "Host=x|x-B=2|"},
		// A head after a body of unknown length.
		{name: "after body", buf: "3\r\nabc\r\n0\r\n\r\nGET /a HTTP/1.1\r\nA: 1\r\n\r\n", start: 13, fields: "A=1|"},
		// The start line must begin a line.
		{name: "mid line", buf: "xGET /a HTTP/1.1\r\nA: 1\r\n\r\n", start: -1},
		{name: "cut head", buf: "GET /a HTTP/1.1\r\nA: 1\r\n", start: -1},
		{name: "folded line", buf: "GET /a HTTP/1.1\r\nA: 1\r\n 2\r\n\r\n", start: -1},
		{name: "no colon", buf: "GET /a HTTP/1.1\r\nA 1\r\n\r\n", start: -1},
		{name: "bare LF", buf: "GET /a HTTP/1.1\nA: 1\n\n", start: -1},
		{name: "other request", buf: "GET /b HTTP/1.1\r\n\r\n", start: -1},
		{name: "no fields", buf: "GET /a HTTP/1.1\r\n\r\n", start: 0, fields: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, end, fields := findHead([]byte(tc.buf), isGet)
			if start != tc.start {
				t.Fatalf("start %d, want %d", start, tc.start)
			}
			if start < 0 {
				return
			}
			var b strings.Builder
			for _, f := range fields {
				b.WriteString(f.Name + "=" + f.Value + "|")
			}
			if b.String() != tc.fields {
				t.Errorf("fields %q, want %q", b.String(), tc.fields)
			}
			if !strings.HasSuffix(tc.buf[:end], "\r\n\r\n") {
				t.Errorf("end %d not after the blank line", end)
			}
		})
	}
}

func TestStatusLineIs(t *testing.T) {
	tests := []struct {
		line string
		code int
		want bool
	}{
		{"HTTP/1.1 200 OK", 200, true},
		{"HTTP/1.0 404 Not Found", 404, true},
		{"HTTP/1.1 200", 200, true},
		{"HTTP/1.1 100 Continue", 200, false},
		{"HTTP/1.1 2000 OK", 200, false},
		{"HTTP/2 200 OK", 200, false},
		{"xHTTP/1.1 200 OK", 200, false},
	}
	for _, tc := range tests {
		if got := statusLineIs([]byte(tc.line), tc.code); got != tc.want {
			t.Errorf("statusLineIs(%q, %d) = %v", tc.line, tc.code, got)
		}
	}
}

func TestSameFields(t *testing.T) {
	wire := capture.Headers{{Name: "host", Value: "x"}, {Name: "x-a", Value: "1"}, {Name: "X-A", Value: "2"},
		{Name: "Transfer-Encoding", Value: "chunked"}, {Name: "B", Value: ""}}
	tests := []struct {
		name string
		m    http.Header
		want bool
	}{
		{name: "same", m: http.Header{"X-A": {"1", "2"}, "B": {""}}, want: true},
		{name: "order of duplicates", m: http.Header{"X-A": {"2", "1"}, "B": {""}}},
		{name: "missing field", m: http.Header{"X-A": {"1", "2"}}},
		{name: "extra field", m: http.Header{"X-A": {"1", "2"}, "B": {""}, "C": {"3"}}},
		{name: "extra value", m: http.Header{"X-A": {"1", "2", "3"}, "B": {""}}},
	}
	for _, tc := range tests {
		if got := sameFields(wire, tc.m); got != tc.want {
			t.Errorf("%s: sameFields = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestWireConnTracksStream reads pipelined requests with bodies of known and
// unknown length through a wireConn, as net/http's server does, and recovers
// each head.
func TestWireConnTracksStream(t *testing.T) {
	stream := "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\nx-one: 1\r\n\r\nGET /b HTTP/1.1\r\n" + // a body that looks like a head
		"POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nx-two: 2\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
		"GET /c HTTP/1.1\r\nhost: h\r\nX-Three: 3\r\n\r\n"
	client, server := net.Pipe()
	defer client.Close()
	go func() {
		for i := 0; i < len(stream); i += 7 { // small writes, so heads straddle reads
			_, _ = client.Write([]byte(stream[i:min(i+7, len(stream))]))
		}
	}()
	wc := &wireConn{Conn: server}
	br := bufio.NewReaderSize(wc, 16)
	want := []string{"Host: h | Content-Length: 17 | x-one: 1", "Host: h | Transfer-Encoding: chunked | x-two: 2", "host: h | X-Three: 3"}
	for i, w := range want {
		_ = server.SetDeadline(time.Now().Add(5 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Fatal(err)
		}
		h, ok := wc.requestHead(req)
		if !ok {
			t.Fatalf("request %d (%s): head not found in %q", i, req.URL, wc.buf)
		}
		var parts []string
		for _, f := range h {
			parts = append(parts, f.Name+": "+f.Value)
		}
		if got := strings.Join(parts, " | "); got != w {
			t.Errorf("request %d: %q, want %q", i, got, w)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(req.Body)
	}
}

func TestAllowed(t *testing.T) {
	r := &Recorder{}
	r.allow, _ = parsePrefixes([]string{"10.1.0.0/16", "192.0.2.7", "2001:db8::/32"})
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:5000", true},
		{"[::1]:5000", true},
		{"10.1.200.3:1", true},
		{"10.2.0.1:1", false},
		{"192.0.2.7:9", true},
		{"192.0.2.8:9", false},
		{"[::ffff:10.1.0.9]:1", true},
		{"[2001:db8::1]:1", true},
		{"[2001:db9::1]:1", false},
	}
	for _, tc := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.allowed(addr); got != tc.want {
			t.Errorf("allowed(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestMatchHost(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"example.com", "example.com", true},
		{"example.com", "EXAMPLE.com:443", true},
		{"example.com:8443", "example.com:8443", true},
		{"example.com:8443", "example.com:443", false},
		{"*.example.com", "api.example.com:443", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "badexample.com", false},
		{"::1", "[::1]:80", true},
		{"[::1]", "[::1]:80", true},
	}
	for _, tc := range tests {
		if got := matchAnyHost([]string{tc.pattern}, tc.host); got != tc.want {
			t.Errorf("match(%q, %q) = %v", tc.pattern, tc.host, got)
		}
	}
}

func TestStaticDetection(t *testing.T) {
	for _, p := range []string{"/a.css", "/x/y.JS", "/f.woff2", "/i.svg", "/m.js.map"} {
		if !staticExtension(p) {
			t.Errorf("%s not static", p)
		}
	}
	for _, p := range []string{"/", "/api/articles/1", "/index.html", "/style.css/edit"} {
		if staticExtension(p) {
			t.Errorf("%s static", p)
		}
	}
	for _, ct := range []string{"image/png", "font/woff2", "text/css; charset=utf-8", "application/javascript"} {
		if !staticType(ct) {
			t.Errorf("%s not static", ct)
		}
	}
	for _, ct := range []string{"text/html", "application/json", ""} {
		if staticType(ct) {
			t.Errorf("%q static", ct)
		}
	}
}

func TestBodyTap(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100)
	for _, max := range []int64{0, 1, 10, 999, 1000, 5000} {
		tap := &bodyTap{rc: nopCloser{bytes.NewReader(data)}, max: max}
		var out bytes.Buffer
		buf := make([]byte, 7)
		for {
			n, err := tap.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		s := tap.state()
		if !bytes.Equal(out.Bytes(), data) || s.n != 1000 || !s.eof {
			t.Fatalf("max %d: passed %d bytes, counted %d, eof %v", max, out.Len(), s.n, s.eof)
		}
		wantKept := min(max, 1000)
		if int64(len(s.body)) != wantKept || !bytes.Equal(s.body, data[:wantKept]) {
			t.Errorf("max %d: kept %d bytes", max, len(s.body))
		}
		if (s.hash != nil) != (max < 1000) {
			t.Errorf("max %d: hash %x", max, s.hash)
		}
	}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func FuzzFindHead(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "GET / HTTP/1.1")
	f.Add([]byte("junk\r\nHTTP/1.1 200 OK\r\nA: b\r\nc:d\r\n\r\nrest"), "HTTP/1.1 200 OK")
	f.Add([]byte("\r\n\r\n\n\r"), "")
	f.Fuzz(func(t *testing.T, buf []byte, line string) {
		start, end, fields := findHead(buf, func(l []byte) bool { return string(l) == line })
		if start < 0 {
			return
		}
		if start > end || end > len(buf) || !bytes.HasSuffix(buf[:end], []byte("\r\n\r\n")) && end-start != len(line)+4 {
			t.Fatalf("start %d end %d of %d", start, end, len(buf))
		}
		if !bytes.HasPrefix(buf[start:], []byte(line+"\r\n")) {
			t.Fatalf("head at %d does not start with the line", start)
		}
		for _, f := range fields {
			if f.Name == "" || strings.ContainsAny(f.Name, ":\r\n") || strings.ContainsAny(f.Value, "\r\n") {
				t.Fatalf("bad field %q: %q", f.Name, f.Value)
			}
		}
	})
}

// FuzzH2Heads feeds arbitrary client bytes (after the HTTP/2 preface) to
// h2Heads in arbitrary chunks: no panic, at most maxH2Heads heads kept, the
// same heads however the bytes were cut, and a claimed head is forgotten.
func FuzzH2Heads(f *testing.F) {
	var seed bytes.Buffer
	fr := http2.NewFramer(&seed, nil)
	_ = fr.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, kv := range [][2]string{{":method", "GET"}, {":path", "/p"}, {":authority", "a.test"}, {"cookie", "a=1"}, {"cookie", "b=2"}, {"x", "y"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	b := hb.Bytes()
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:4], EndStream: true})
	_ = fr.WriteContinuation(1, true, b[4:])
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: b, EndHeaders: true, PadLength: 3})
	f.Add(seed.Bytes(), uint8(7))
	f.Add(seed.Bytes()[:20], uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		whole, chunked := newH2Heads(), newH2Heads()
		whole.feed(append([]byte(http2Preface), data...))
		all := append([]byte(http2Preface), data...)
		for n := int(cut%64) + 1; len(all) > 0; all = all[min(n, len(all)):] {
			chunked.feed(all[:min(n, len(all))])
		}
		if len(whole.heads) > maxH2Heads || fmt.Sprint(whole.heads) != fmt.Sprint(chunked.heads) || whole.dead != chunked.dead {
			t.Fatalf("whole %v (dead %v), chunked %v (dead %v)", whole.heads, whole.dead, chunked.heads, chunked.dead)
		}
		r := &http.Request{Method: "GET", RequestURI: "/p", Header: http.Header{"Cookie": {"a=1; b=2"}, "X": {"y"}}}
		n := len(whole.heads)
		if _, ok := whole.claim(r); ok && len(whole.heads) != n-1 {
			t.Fatalf("a claimed head was kept: %d of %d", len(whole.heads), n)
		}
	})
}
