package proxy_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/proxy"
)

// clientCase is one request a client sends through the proxy, and what the
// client got, to compare with the recording.
type clientCase struct {
	name   string
	method string
	path   string
	header http.Header
	body   []byte
	chunk  bool // send the body chunked (unknown length)

	got     *http.Response
	gotBody []byte
}

func clientCases() []*clientCase {
	return []*clientCase{
		{name: "get", method: "GET", path: "/hello?x=1", header: http.Header{"X-Test": {"a", "b"}, "Accept": {"text/plain"}}},
		{name: "post", method: "POST", path: "/echo", body: []byte("name=amp&x=1"), header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
		{name: "post chunked", method: "POST", path: "/echo?chunked", body: pattern(70_000), chunk: true},
		{name: "chunked response", method: "GET", path: "/chunked"},
		{name: "5 MiB download", method: "GET", path: "/big"},
		{name: "gzip kept", method: "GET", path: "/gzip", header: http.Header{"Accept-Encoding": {"gzip, br"}}},
		{name: "head", method: "HEAD", path: "/big"},
	}
}

// runCases sends the cases in order on one client and records what it got.
// It fails when the connection was not reused (keep-alive).
func runCases(t *testing.T, c *http.Client, base string, cases []*clientCase) {
	t.Helper()
	for i, tc := range cases {
		var body io.Reader
		if tc.body != nil {
			body = bytes.NewReader(tc.body)
			if tc.chunk {
				body = io.MultiReader(body) // hides the length
			}
		}
		req, err := http.NewRequest(tc.method, base+tc.path, body)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range tc.header {
			req.Header[k] = vs
		}
		reused := false
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
		}))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		tc.gotBody, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: reading body: %v", tc.name, err)
		}
		tc.got = resp
		if i > 0 && !reused {
			t.Errorf("%s: the client's connection was not reused (keep-alive through the proxy)", tc.name)
		}
	}
}

// checkCases compares the recording with what the clients sent and got.
func checkCases(t *testing.T, rec *capture.Recording, base string, cases []*clientCase) {
	t.Helper()
	for _, tc := range cases {
		var e *capture.Exchange
		for _, x := range exchanges(rec) {
			if x.Request.URL == base+tc.path && x.Request.Method == tc.method {
				e = x
			}
		}
		if e == nil {
			t.Errorf("%s: %s %s not recorded", tc.name, tc.method, base+tc.path)
			continue
		}
		if e.Flags != 0 || e.Error != "" {
			t.Errorf("%s: flags %v, error %q", tc.name, e.Flags, e.Error)
		}
		if !bytes.Equal(e.Request.Body, tc.body) {
			t.Errorf("%s: recorded request body of %d bytes, client sent %d", tc.name, len(e.Request.Body), len(tc.body))
		}
		if e.Response.Status != tc.got.StatusCode {
			t.Errorf("%s: recorded status %d, client got %d", tc.name, e.Response.Status, tc.got.StatusCode)
		}
		if !bytes.Equal(e.Response.Body, tc.gotBody) {
			t.Errorf("%s: recorded response body of %d bytes, client got %d", tc.name, len(e.Response.Body), len(tc.gotBody))
		}
		checkHeader(t, tc.name+" response", e.Response.Header, tc.got.Header)
		// Exactly the fields the client sent: its own and Go's User-Agent.
		sent := http.Header{"User-Agent": {"Go-http-client/1.1"}}
		for k, vs := range tc.header {
			sent[k] = vs
		}
		checkHeader(t, tc.name+" request", e.Request.Header, sent)
		if tc.chunk && e.Request.Header.Get("Transfer-Encoding") != "chunked" {
			t.Errorf("%s: request fields %v lack Transfer-Encoding: chunked", tc.name, e.Request.Header)
		}
		if e.Start.IsZero() || e.TTFB <= 0 || e.Duration < e.TTFB {
			t.Errorf("%s: timings start %v ttfb %v duration %v", tc.name, e.Start, e.TTFB, e.Duration)
		}
		if e.Client == "" || e.Session == "" {
			t.Errorf("%s: client %q session %q", tc.name, e.Client, e.Session)
		}
	}
	if got := byURL(rec, "/gzip"); len(got) == 1 && got[0].Response.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("gzip: Content-Encoding not kept: %v", got[0].Response.Header)
	}
}

func TestForwardHTTP(t *testing.T) {
	up := newUpstream(t, false)
	cfg := proxy.DefaultConfig()
	cfg.MaxBody = 8 << 20
	tr := newTestRecorder(t, cfg)
	cases := clientCases()
	runCases(t, tr.proxyClient(nil), up.URL, cases)
	if got := cases[5].got.Header.Get("X-Seen-Accept-Encoding"); got != "gzip, br" {
		t.Errorf("upstream saw Accept-Encoding %q, want the client's %q", got, "gzip, br")
	}
	if cl := cases[4].got.ContentLength; cl != 5<<20 {
		t.Errorf("client got Content-Length %d for the 5 MiB download, want it passed on", cl)
	}
	rec := tr.Stop(t)
	if rec.Exchanges() != len(cases) {
		t.Errorf("recorded %d exchanges, want %d", rec.Exchanges(), len(cases))
	}
	if len(rec.Sessions) != 1 {
		t.Errorf("want 1 session, got %d", len(rec.Sessions))
	}
	checkCases(t, rec, up.URL, cases)
	if rec.Header.Source != "proxy" {
		t.Errorf("source %q", rec.Header.Source)
	}
}

func TestForwardHTTPSMITM(t *testing.T) {
	up := newUpstream(t, true)
	cfg := proxy.DefaultConfig()
	cfg.UpstreamCA = writeCert(t, up)
	cfg.MaxBody = 8 << 20
	tr := newTestRecorder(t, cfg)
	cases := clientCases()
	runCases(t, tr.proxyClient(tr.caPool(t)), up.URL, cases)
	rec := tr.Stop(t)
	if rec.Exchanges() != len(cases) {
		t.Errorf("recorded %d exchanges, want %d", rec.Exchanges(), len(cases))
	}
	checkCases(t, rec, up.URL, cases)
	if !strings.HasPrefix(up.URL, "https://") {
		t.Fatal("upstream is not HTTPS")
	}
}

// TestMITMCertificateNames checks the leaf certificates: a DNS name for a
// host name, an IP address for an address, each signed by the CA.
func TestMITMCertificateNames(t *testing.T) {
	up := newUpstream(t, true)
	cfg := proxy.DefaultConfig()
	cfg.InsecureUpstream = true // the test server's certificate names 127.0.0.1 only
	tr := newTestRecorder(t, cfg)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(up.URL, "https://"))
	for _, host := range []string{"localhost", "127.0.0.1"} {
		var peer *x509.Certificate
		c := tr.proxyClient(tr.caPool(t))
		c.Transport.(*http.Transport).TLSClientConfig.VerifyConnection = nil
		resp, err := c.Get("https://" + net.JoinHostPort(host, port) + "/hello")
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		peer = resp.TLS.PeerCertificates[0]
		resp.Body.Close()
		if host == "localhost" && (len(peer.DNSNames) != 1 || peer.DNSNames[0] != "localhost" || len(peer.IPAddresses) != 0) {
			t.Errorf("leaf for localhost: DNS %v IP %v", peer.DNSNames, peer.IPAddresses)
		}
		if host == "127.0.0.1" && (len(peer.IPAddresses) != 1 || !peer.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) || len(peer.DNSNames) != 0) {
			t.Errorf("leaf for 127.0.0.1: DNS %v IP %v", peer.DNSNames, peer.IPAddresses)
		}
		if err := peer.CheckSignatureFrom(tr.CA().Cert.Leaf); err != nil {
			t.Errorf("%s: leaf not signed by the CA: %v", host, err)
		}
	}
	rec := tr.Stop(t)
	if rec.Exchanges() != 2 {
		t.Errorf("recorded %d exchanges, want 2", rec.Exchanges())
	}
}

// TestWireHeaders sends a request with fields in an unusual order and case
// and gets a response likewise, over raw connections, and checks that both
// are recorded as they were on the wire.
func TestWireHeaders(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const respHead = "HTTP/1.1 201 Created\r\nx-zeta: %d\r\nSet-Cookie: a=1\r\nContent-Type: text/plain\r\nset-cookie: b=2\r\nContent-Length: 5\r\n\r\n"
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for n := 1; ; n++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			_, _ = fmt.Fprintf(c, respHead+"hello", n)
		}
	}()

	cfg := proxy.DefaultConfig()
	cfg.SkipStatic = true
	tr := newTestRecorder(t, cfg)
	c, err := net.Dial("tcp", tr.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	url := "http://" + ln.Addr().String() + "/wire?q=1"
	reqFields := capture.Headers{
		{Name: "host", Value: ln.Addr().String()},
		{Name: "x-lower", Value: "v1"},
		{Name: "Accept", Value: "*/*"},
		{Name: "X-Dup", Value: "1"},
		{Name: "x-dup", Value: "2"},
		{Name: "Content-Length", Value: "3"},
		{Name: "User-Agent", Value: "raw/1"},
	}
	br := bufio.NewReader(c)
	for i := range 3 { // on one connection: a request the filters skip, then two recorded ones
		var b strings.Builder
		if i == 0 {
			b.WriteString("POST http://" + ln.Addr().String() + "/skipped.png HTTP/1.1\r\n")
		} else {
			b.WriteString("POST " + url + " HTTP/1.1\r\n")
		}
		for _, f := range reqFields {
			b.WriteString(f.Name + ": " + f.Value + "\r\n")
		}
		b.WriteString("Proxy-Connection: keep-alive\r\n\r\nabc")
		if _, err := io.WriteString(c, b.String()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 201 || string(body) != "hello" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
	}
	rec := tr.Stop(t)
	es := byURL(rec, "/wire?q=1")
	if len(es) != 2 {
		t.Fatalf("recorded %d exchanges, want 2", len(es))
	}
	for i, e := range es {
		wantResp := capture.Headers{{Name: "x-zeta", Value: fmt.Sprint(i + 2)}, {Name: "Set-Cookie", Value: "a=1"}, {Name: "Content-Type", Value: "text/plain"},
			{Name: "set-cookie", Value: "b=2"}, {Name: "Content-Length", Value: "5"}}
		if fmt.Sprint(e.Request.Header) != fmt.Sprint(reqFields) {
			t.Errorf("request fields\n got %v\nwant %v", e.Request.Header, reqFields)
		}
		if fmt.Sprint(e.Response.Header) != fmt.Sprint(wantResp) {
			t.Errorf("response fields\n got %v\nwant %v", e.Response.Header, wantResp)
		}
		if string(e.Request.Body) != "abc" || string(e.Response.Body) != "hello" || e.Request.URL != url {
			t.Errorf("exchange %s body %q -> %q", e.Request.URL, e.Request.Body, e.Response.Body)
		}
	}
}

func TestTruncatedBody(t *testing.T) {
	up := newUpstream(t, false)
	cfg := proxy.DefaultConfig()
	cfg.MaxBody = 1000
	tr := newTestRecorder(t, cfg)
	c := tr.proxyClient(nil)
	resp, err := c.Get(up.URL + "/big")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	post := pattern(3000)
	resp, err = c.Post(up.URL+"/echo", "application/octet-stream", bytes.NewReader(post))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rec := tr.Stop(t)

	big := pattern(5 << 20)
	if !bytes.Equal(got, big) {
		t.Fatalf("client got %d bytes, want the whole 5 MiB", len(got))
	}
	e := one(t, rec, "/big")
	sum := sha256.Sum256(big)
	if e.Flags != capture.FlagResponseTruncated || len(e.Response.Body) != 1000 || e.Response.BodySize != 5<<20 ||
		!bytes.Equal(e.Response.BodyHash, sum[:]) || !bytes.Equal(e.Response.Body, big[:1000]) {
		t.Errorf("truncated download: flags %v, %d of %d bytes, hash %x", e.Flags, len(e.Response.Body), e.Response.BodySize, e.Response.BodyHash)
	}
	e = one(t, rec, "/echo")
	if e.Flags != capture.FlagRequestTruncated|capture.FlagResponseTruncated || e.Request.BodySize != 3000 ||
		!bytes.Equal(e.Request.Body, post[:1000]) {
		t.Errorf("truncated upload: flags %v, %d of %d bytes", e.Flags, len(e.Request.Body), e.Request.BodySize)
	}
}

func TestUpstreamErrors(t *testing.T) {
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/refused"
	ln.Close()
	// A server that accepts and never answers.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	heldc := make(chan []net.Conn, 1)
	go func() {
		var held []net.Conn
		defer func() { heldc <- held }()
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	defer func() {
		hang.Close()
		for _, c := range <-heldc {
			c.Close()
		}
	}()
	untrusted := newUpstream(t, true) // its certificate is not trusted by the proxy

	cfg := proxy.DefaultConfig()
	cfg.UpstreamTimeout = 300 * time.Millisecond
	tr := newTestRecorder(t, cfg)
	c := tr.proxyClient(tr.caPool(t))
	cases := []struct {
		url, reason string
	}{
		{refused, "connection refused"},
		{"http://" + hang.Addr().String() + "/hang", "timeout"},
		{untrusted.URL + "/hello", "TLS certificate"},
	}
	for _, tc := range cases {
		resp, err := c.Get(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), tc.reason) {
			t.Errorf("%s: client got %d %q, want 502 naming %q", tc.url, resp.StatusCode, body, tc.reason)
		}
	}
	rec := tr.Stop(t)
	for _, tc := range cases {
		e := one(t, rec, tc.url[strings.LastIndexByte(tc.url, '/'):])
		if e.Flags&capture.FlagFailed == 0 || e.Flags&capture.FlagNoResponse == 0 || !strings.Contains(e.Error, tc.reason) || e.Response.Status != 502 {
			t.Errorf("%s: recorded flags %v status %d error %q", tc.url, e.Flags, e.Response.Status, e.Error)
		}
	}
	if s := tr.Stats(); s.Errors != 3 || s.Requests != 3 {
		t.Errorf("stats %+v, want 3 requests and 3 errors", s)
	}
}
