package proxy_test

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/testenv"
	"github.com/ampload/amp/proxy"
)

// curlResult is what one curl transfer sent and got.
type curlResult struct {
	sent   capture.Headers // request fields in the order curl sent them
	header http.Header     // response fields curl got
	status int
	body   []byte
}

// runCurl fetches url through the recorder with extra curl arguments and
// returns what it sent and got, from its trace and dumps.
func runCurl(t *testing.T, tr *testRecorder, ca string, url string, args ...string) curlResult {
	t.Helper()
	curl, err := exec.LookPath("curl")
	if err != nil {
		testenv.Missing(t, "curl not found (apt-get install curl)")
	}
	dir := t.TempDir()
	trace, dump, body := filepath.Join(dir, "trace"), filepath.Join(dir, "headers"), filepath.Join(dir, "body")
	// HTTP/1.1, whose wire form this test reads from curl's trace (the
	// MITM tunnel offers h2 too; TestReverseH2FieldOrder covers its order).
	argv := []string{"-sS", "--http1.1", "--noproxy", "", "-x", "http://" + tr.Addr, "--trace-ascii", trace, "-D", dump, "-o", body}
	if ca != "" {
		argv = append(argv, "--cacert", ca)
	}
	argv = append(append(argv, args...), url)
	cmd := exec.Command(curl, argv...)
	cmd.Env = append(os.Environ(), "http_proxy=", "https_proxy=", "HTTPS_PROXY=", "ALL_PROXY=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("curl %v: %v\n%s", argv, err, out)
	}
	var r curlResult
	r.sent = curlSentHeaders(t, trace)
	raw, _ := os.ReadFile(dump)
	// The dump of an HTTPS transfer starts with the proxy's CONNECT reply.
	if i := bytes.LastIndex(raw, []byte("\r\n\r\nHTTP/")); i >= 0 {
		raw = raw[i+4:]
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	line, _ := tp.ReadLine()
	if f := strings.Fields(line); len(f) >= 2 {
		r.status = atoi(f[1])
	}
	mh, _ := tp.ReadMIMEHeader()
	r.header = http.Header(mh)
	r.body, _ = os.ReadFile(body)
	return r
}

// curlSentHeaders reads the header fields of the last request curl sent (not
// a CONNECT) from a --trace-ascii file.
func curlSentHeaders(t *testing.T, path string) capture.Headers {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields capture.Headers
	inHeader := false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "=> Send header") {
			inHeader, fields = true, nil
			continue
		}
		if strings.HasPrefix(line, "=>") || strings.HasPrefix(line, "<=") || strings.HasPrefix(line, "==") {
			if inHeader && len(fields) > 0 && strings.HasPrefix(fields[0].Name, "CONNECT") {
				fields = nil
			}
			inHeader = false
			continue
		}
		if !inHeader {
			continue
		}
		// "0000: Name: value"
		_, text, ok := strings.Cut(line, ": ")
		if !ok || text == "" {
			continue
		}
		if name, value, ok := strings.Cut(text, ": "); ok && !strings.Contains(name, " ") {
			fields = append(fields, capture.Header{Name: name, Value: value})
		} else if len(fields) == 0 {
			fields = append(fields, capture.Header{Name: text}) // the request line
		}
	}
	if len(fields) > 0 {
		fields = fields[1:] // drop the request line
	}
	return fields
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestCurl(t *testing.T) {
	for _, tlsUp := range []bool{false, true} {
		name := "http"
		if tlsUp {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			up := newUpstream(t, tlsUp)
			cfg := proxy.DefaultConfig()
			cfg.MaxBody = 8 << 20
			if tlsUp {
				cfg.UpstreamCA = writeCert(t, up)
			}
			tr := newTestRecorder(t, cfg)
			ca := ""
			if tlsUp {
				ca = filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(ca, tr.CA().CertPEM, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			post := pattern(100_000)
			postFile := filepath.Join(t.TempDir(), "post.bin")
			if err := os.WriteFile(postFile, post, 0o644); err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				path string
				args []string
				sent []byte
			}{
				{path: "/hello?curl=1", args: []string{"-H", "X-Curl: yes", "-H", "accept-language: en"}},
				{path: "/big"},
				{path: "/chunked"},
				{path: "/echo?form", args: []string{"--data-binary", "@" + postFile, "-H", "Content-Type: application/octet-stream"}, sent: post},
				{path: "/echo?chunked", args: []string{"--data-binary", "@" + postFile, "-H", "Transfer-Encoding: chunked"}, sent: post},
				{path: "/gzip", args: []string{"--compressed"}},
			}
			results := make([]curlResult, len(cases))
			for i, tc := range cases {
				results[i] = runCurl(t, tr, ca, up.URL+tc.path, tc.args...)
			}
			// keep-alive: three transfers in one curl run share one connection.
			ka := exec.Command("curl", "-sS", "--noproxy", "", "-x", "http://"+tr.Addr, "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
				"-w", "%{num_connects}\n", up.URL+"/hello?ka=1", up.URL+"/hello?ka=2", up.URL+"/hello?ka=3")
			if ca != "" {
				ka.Args = append(ka.Args, "--cacert", ca)
			}
			ka.Env = append(os.Environ(), "http_proxy=", "https_proxy=", "HTTPS_PROXY=", "ALL_PROXY=")
			out, err := ka.CombinedOutput()
			if err != nil {
				t.Fatalf("curl keep-alive: %v %s", err, out)
			}
			if got := strings.Fields(string(out)); len(got) != 3 || got[1] != "0" || got[2] != "0" {
				t.Errorf("curl made new connections for later transfers: num_connects %q", got)
			}
			rec := tr.Stop(t)

			for i, tc := range cases {
				r := results[i]
				e := one(t, rec, tc.path)
				if e.Flags != 0 || e.Response.Status != r.status || !bytes.Equal(decoded(t, e), r.body) || !bytes.Equal(e.Request.Body, tc.sent) {
					t.Errorf("%s: recorded flags %v (%s) status %d, %d body bytes (request %d); curl got %d, %d bytes (sent %d)", tc.path,
						e.Flags, e.Error, e.Response.Status, len(e.Response.Body), len(e.Request.Body), r.status, len(r.body), len(tc.sent))
				}
				checkHeader(t, tc.path+" response", e.Response.Header, r.header)
				want := capture.Headers{}
				for _, f := range r.sent {
					if !strings.EqualFold(f.Name, "Proxy-Connection") {
						want = append(want, f)
					}
				}
				// Exactly curl's fields, in curl's order and case, in and out of TLS.
				if fmtHeaders(e.Request.Header) != fmtHeaders(want) {
					t.Errorf("%s: request fields\n got %s\nwant %s", tc.path, fmtHeaders(e.Request.Header), fmtHeaders(want))
				}
			}
			if e := one(t, rec, "/gzip"); e.Response.Header.Get("Content-Encoding") != "gzip" || e.Request.Header.Get("Accept-Encoding") == "" ||
				e.Request.Header.Get("Accept-Encoding") != results[5].header.Get("X-Seen-Accept-Encoding") {
				t.Errorf("gzip: recorded Accept-Encoding %q, upstream saw %q, Content-Encoding %q", e.Request.Header.Get("Accept-Encoding"),
					results[5].header.Get("X-Seen-Accept-Encoding"), e.Response.Header.Get("Content-Encoding"))
			}
			if got := len(byURL(rec, "/hello?ka=1")) + len(byURL(rec, "/hello?ka=2")) + len(byURL(rec, "/hello?ka=3")); got != 3 {
				t.Errorf("keep-alive transfers recorded: %d, want 3", got)
			}
		})
	}
}

func fmtHeaders(h capture.Headers) string {
	var b strings.Builder
	for _, f := range h {
		b.WriteString(f.Name + ": " + f.Value + " | ")
	}
	return b.String()
}

// TestCurlTunnelledPlainHTTP sends plain HTTP inside a CONNECT tunnel (curl
// --proxytunnel): it is recorded like any other request.
func TestCurlTunnelledPlainHTTP(t *testing.T) {
	up := newUpstream(t, false)
	tr := newTestRecorder(t, proxy.DefaultConfig())
	r := runCurl(t, tr, "", up.URL+"/hello?tunnel=1", "--proxytunnel")
	if r.status != 200 || string(r.body) != "hello tunnel=1" {
		t.Fatalf("curl got %d %q", r.status, r.body)
	}
	rec := tr.Stop(t)
	e := one(t, rec, "/hello?tunnel=1")
	if e.Request.URL != up.URL+"/hello?tunnel=1" || string(e.Response.Body) != "hello tunnel=1" || fmtHeaders(e.Request.Header) != fmtHeaders(r.sent) {
		t.Errorf("recorded %s %q with fields %s, curl sent %s", e.Request.URL, e.Response.Body, fmtHeaders(e.Request.Header), fmtHeaders(r.sent))
	}
}
