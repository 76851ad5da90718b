package proxy_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/proxy"
)

// testRecorder is a Recorder serving on a loopback port, writing to a file.
type testRecorder struct {
	*proxy.Recorder
	Addr string // host:port
	Path string // the recording
	stop func() error
	done bool
}

// newTestRecorder starts a Recorder with cfg (Listen is ignored). In forward
// mode without CA paths it gets a fresh CA in a temporary directory.
func newTestRecorder(t *testing.T, cfg proxy.Config) *testRecorder {
	t.Helper()
	dir := t.TempDir()
	if cfg.Target == "" && !cfg.NoMITM && cfg.CACert == "" {
		cfg.CACert, cfg.CAKey = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
		if _, err := proxy.LoadOrCreateCA(cfg.CACert, cfg.CAKey); err != nil { // New needs existing files
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "rec.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "proxy", Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- rec.Serve(ctx, ln, w) }()
	tr := &testRecorder{Recorder: rec, Addr: ln.Addr().String(), Path: path}
	tr.stop = func() error {
		cancel()
		err := <-errc
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return err
	}
	t.Cleanup(func() {
		if !tr.done {
			_ = tr.stop()
		}
	})
	return tr
}

// Stop stops the recorder and reads the recording back.
func (tr *testRecorder) Stop(t *testing.T) *capture.Recording {
	t.Helper()
	tr.done = true
	if err := tr.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	rec, err := capture.ReadFile(tr.Path)
	if err != nil {
		t.Fatalf("reading the recording: %v", err)
	}
	return rec
}

// proxyClient returns an HTTP client that uses the recorder as its proxy and
// trusts roots (may be nil).
func (tr *testRecorder) proxyClient(roots *x509.CertPool) *http.Client {
	pu, _ := url.Parse("http://" + tr.Addr)
	return &http.Client{
		Transport: &http.Transport{
			Proxy:              http.ProxyURL(pu),
			TLSClientConfig:    &tls.Config{RootCAs: roots},
			DisableCompression: true,
			ForceAttemptHTTP2:  false,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// caPool returns a pool holding the recorder's CA.
func (tr *testRecorder) caPool(t *testing.T) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(tr.CA().CertPEM) {
		t.Fatal("CA PEM not parsable")
	}
	return pool
}

// exchanges returns all exchanges of a recording in file order of sessions.
func exchanges(rec *capture.Recording) []*capture.Exchange {
	var out []*capture.Exchange
	for _, s := range rec.Sessions {
		out = append(out, s.Exchanges...)
	}
	return out
}

// byURL returns the recorded exchanges whose URL ends with suffix.
func byURL(rec *capture.Recording, suffix string) []*capture.Exchange {
	var out []*capture.Exchange
	for _, e := range exchanges(rec) {
		if strings.HasSuffix(e.Request.URL, suffix) {
			out = append(out, e)
		}
	}
	return out
}

// one returns the single recorded exchange for the URL suffix.
func one(t *testing.T, rec *capture.Recording, suffix string) *capture.Exchange {
	t.Helper()
	es := byURL(rec, suffix)
	if len(es) != 1 {
		t.Fatalf("want 1 exchange for %q, got %d (of %d)", suffix, len(es), rec.Exchanges())
	}
	return es[0]
}

// framing are the header fields net/http takes out of parsed maps.
func framing(name string) bool {
	switch textproto.CanonicalMIMEHeaderKey(name) {
	case "Host", "Transfer-Encoding", "Content-Length", "Trailer", "Connection", "Proxy-Connection":
		return true
	}
	return false
}

// checkHeader reports a difference between recorded fields and a header map
// that a client sent or got, apart from framing fields.
func checkHeader(t *testing.T, what string, got capture.Headers, want http.Header) {
	t.Helper()
	gm := http.Header{}
	for _, f := range got {
		if !framing(f.Name) {
			gm.Add(f.Name, f.Value)
		}
	}
	wm := http.Header{}
	for k, vs := range want {
		if !framing(k) {
			for _, v := range vs {
				wm.Add(k, v)
			}
		}
	}
	if len(gm) != len(wm) {
		t.Errorf("%s: recorded fields %v, want %v", what, gm, wm)
		return
	}
	for k, vs := range wm {
		if strings.Join(gm[k], "\x00") != strings.Join(vs, "\x00") {
			t.Errorf("%s: recorded %s = %q, want %q", what, k, gm[k], vs)
		}
	}
}

// pattern returns n deterministic bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// newUpstream starts a test target with the routes the tests use.
func newUpstream(t *testing.T, tlsServer bool) *httptest.Server {
	t.Helper()
	big := pattern(5 << 20)
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Seen-Accept-Encoding", r.Header.Get("Accept-Encoding"))
		_, _ = w.Write([]byte("hello " + r.URL.RawQuery))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "big.bin", time.Time{}, bytes.NewReader(big))
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := range 3 {
			_, _ = w.Write([]byte(strings.Repeat(string(rune('a'+i)), 1000)))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Method", r.Method)
		_, _ = w.Write(buf.Bytes())
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Accept-Encoding", r.Header.Get("Accept-Encoding"))
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "text/plain")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write([]byte("hello, compressed world"))
		_ = zw.Close()
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/hello", http.StatusFound)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsServer {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// writeCert writes a test server's certificate as PEM and returns the path.
func writeCert(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	path := filepath.Join(t.TempDir(), "upstream.pem")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// decoded returns a recorded body with its gzip Content-Encoding undone.
func decoded(t *testing.T, e *capture.Exchange) []byte {
	t.Helper()
	if e.Response.Header.Get("Content-Encoding") != "gzip" {
		return e.Response.Body
	}
	zr, err := gzip.NewReader(bytes.NewReader(e.Response.Body))
	if err != nil {
		t.Fatalf("recorded gzip body: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("recorded gzip body: %v", err)
	}
	return b
}
