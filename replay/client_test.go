package replay

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rawServer serves each connection with fn on loopback.
func rawServer(t *testing.T, fn func(c net.Conn)) *Target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); fn(c) }()
		}
	}()
	tg, err := newTarget("http://"+ln.Addr().String(), false)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// readRequest reads one request head from br (and a body of Content-Length).
func readRequest(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, req.Body)
	return req, nil
}

func get(path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
}

func TestConnResponseFraming(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		response string // the server's bytes for one request
		head     bool
		status   int
		body     string
		closes   bool
	}{
		{name: "content-length", response: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: "hello"},
		{name: "chunked with extension and trailer", response: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nX-T: 1\r\n\r\n", status: 200, body: "hello"},
		{name: "head has no body", response: "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", head: true, status: 200},
		{name: "204", response: "HTTP/1.1 204 No Content\r\n\r\n", status: 204},
		{name: "304 with length", response: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", status: 304},
		// 100 Continue is not the response.
		{name: "interim 100", response: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", status: 201, body: "ok"},
		{name: "bare LF", response: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", status: 200, body: "ok"},
		{name: "close delimited", response: "HTTP/1.1 200 OK\r\n\r\nuntil the end", status: 200, body: "until the end", closes: true},
		{name: "connection close", response: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x", closes: true},
		{name: "http/1.0", response: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x", closes: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := rawServer(t, func(c net.Conn) {
				br := bufio.NewReader(c)
				if _, err := readRequest(br); err != nil {
					return
				}
				io.WriteString(c, tc.response)
				if strings.Contains(tc.name, "close") || strings.Contains(tc.name, "1.0") {
					return // close after the response
				}
				io.Copy(io.Discard, br) // keep the connection open
			})
			c := &conn{target: tg}
			defer c.close()
			req := get("/")
			if tc.head {
				req = []byte("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
			}
			if err := c.roundTrip(context.Background(), req, tc.head, true, time.Now().Add(5*time.Second)); err != nil {
				t.Fatal(err)
			}
			if c.status != tc.status || string(c.body) != tc.body {
				t.Fatalf("status %d body %q, want %d %q", c.status, c.body, tc.status, tc.body)
			}
			if (c.nc == nil) != tc.closes {
				t.Fatalf("connection closed = %v, want %v", c.nc == nil, tc.closes)
			}
			if c.bytes < int64(len(tc.body)) {
				t.Fatalf("bytes %d", c.bytes)
			}
		})
	}
}

func TestConnKeepAliveAndStaleRetry(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	tg := rawServer(t, func(c net.Conn) {
		n := conns.Add(1)
		br := bufio.NewReader(c)
		for i := 0; ; i++ {
			if _, err := readRequest(br); err != nil {
				return
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nSet-Cookie: a=%d\r\nSet-Cookie: b=%d\r\nContent-Length: 2\r\n\r\nok", n, i)
			if n == 1 && i == 2 {
				return // the first connection dies after three requests, silently
			}
		}
	})
	c := &conn{target: tg}
	defer c.close()
	for i := 0; i < 6; i++ {
		if err := c.roundTrip(context.Background(), get("/"), false, false, time.Now().Add(5*time.Second)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		var cookies []string
		c.eachHeader("set-cookie", func(v []byte) { cookies = append(cookies, string(v)) })
		if len(cookies) != 2 || c.status != 200 {
			t.Fatalf("request %d: status %d cookies %v", i, c.status, cookies)
		}
	}
	// Three requests on the first connection, the fourth found it closed and
	// was sent again on a second one, which served the rest.
	if got := conns.Load(); got != 2 {
		t.Fatalf("%d connections, want 2 (keep-alive and one transparent retry)", got)
	}
}

func TestConnErrors(t *testing.T) {
	t.Parallel()
	// A port nothing listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	refused, _ := newTarget("http://"+addr, false)
	c := &conn{target: refused}
	err := c.roundTrip(context.Background(), get("/"), false, false, time.Now().Add(5*time.Second))
	if err == nil || failureReason(err) != "connection refused" {
		t.Fatalf("refused: %v (%s)", err, failureReason(err))
	}

	slow := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) }) // never answers
	c = &conn{target: slow}
	err = c.roundTrip(context.Background(), get("/"), false, false, time.Now().Add(50*time.Millisecond))
	if err == nil || failureReason(err) != "timeout" {
		t.Fatalf("timeout: %v (%s)", err, failureReason(err))
	}

	garbage := rawServer(t, func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH\r\n") })
	c = &conn{target: garbage}
	err = c.roundTrip(context.Background(), get("/"), false, false, time.Now().Add(5*time.Second))
	if err == nil || !strings.Contains(err.Error(), "malformed status line") {
		t.Fatalf("garbage: %v", err)
	}
}

func TestConnTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secure "+r.Host)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted handshake is expected
	srv.StartTLS()
	defer srv.Close()
	tg, err := newTarget(srv.URL, false)
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{target: tg}
	err = c.roundTrip(context.Background(), get("/"), false, true, time.Now().Add(5*time.Second))
	if err == nil || !strings.Contains(failureReason(err), "certificate") {
		t.Fatalf("self-signed server without --insecure: %v (%s)", err, failureReason(err))
	}
	tg.TLS = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, ServerName: "example.com"}
	c = &conn{target: tg}
	defer c.close()
	if err := c.roundTrip(context.Background(), get("/"), false, true, time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if c.status != 200 || string(c.body) != "secure x" {
		t.Fatalf("status %d body %q", c.status, c.body)
	}
	insecure, _ := newTarget(srv.URL, true)
	c2 := &conn{target: insecure}
	defer c2.close()
	if err := c2.roundTrip(context.Background(), get("/"), false, false, time.Now().Add(5*time.Second)); err != nil || c2.status != 200 {
		t.Fatalf("--insecure: %v %d", err, c2.status)
	}
}

// cannedServer answers every request on a connection with the same bytes,
// without allocating, so that a benchmark counts the client's allocations.
func cannedServer(b *testing.B, response string) *Target {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	resp := []byte(response)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				have := 0
				for {
					n, err := c.Read(buf[have:])
					if err != nil {
						return
					}
					have += n
					// Answer each complete request head (these have no body).
					for {
						i := bytes.Index(buf[:have], []byte("\r\n\r\n"))
						if i < 0 {
							break
						}
						if _, err := c.Write(resp); err != nil {
							return
						}
						have = copy(buf, buf[i+4:have])
					}
				}
			}()
		}
	}()
	tg, _ := newTarget("http://"+ln.Addr().String(), false)
	return tg
}

func BenchmarkConnRoundTrip(b *testing.B) {
	tg := cannedServer(b, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nDate: Thu, 26 Nov 2026 09:00:00 GMT\r\n\r\nhello, world")
	c := &conn{target: tg}
	defer c.close()
	req := []byte("GET / HTTP/1.1\r\nHost: " + tg.Host + "\r\nUser-Agent: amp\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.roundTrip(context.Background(), req, false, false, time.Now().Add(5*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}
