package proxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
)

// holdBody is a client's request body as the proxy's upstream transport reads
// it. After the last of its size bytes it holds the transport's next read
// (the one that checks the body ends there) until release is closed, then
// reports what that read got on ended.
type holdBody struct {
	io.ReadCloser
	size    int64
	n       int64
	release chan struct{}
	ended   chan error
	once    sync.Once
}

// Read reads from the body; the first read after its end is held.
func (b *holdBody) Read(p []byte) (int, error) {
	if b.n < b.size {
		n, err := b.ReadCloser.Read(p)
		b.n += int64(n)
		return n, err
	}
	held := false
	b.once.Do(func() { held = true })
	if !held {
		return b.ReadCloser.Read(p)
	}
	<-b.release
	n, err := b.ReadCloser.Read(p)
	b.ended <- err
	return n, err
}

// TestRequestBodyOutlivesResponseHead forces the race behind TestCurl's
// flaky /echo?form: the upstream has the whole request body and answers,
// the proxy writes the response head to the client, and only then does the
// upstream transport (its own goroutine) read the client's body once more to
// see it end. Without full duplex, net/http's server consumes and closes the
// body as the handler writes the response head, so that read failed with
// "invalid Read on closed Body", the transport closed the upstream connection
// as a write error, and the response was cut ("use of closed network
// connection") for the client and in the recording.
func TestRequestBodyOutlivesResponseHead(t *testing.T) {
	for _, reverse := range []bool{false, true} {
		name := "forward"
		if reverse {
			name = "reverse"
		}
		t.Run(name, func(t *testing.T) {
			const size = 100_000
			sent := bytes.Repeat([]byte("0123456789"), size/10)
			rest := make(chan struct{}) // the upstream may send the rest of its response
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				b, _ := io.ReadAll(req.Body)
				w.Header().Set("Content-Type", "application/octet-stream")
				_, _ = w.Write(b[:8<<10])
				w.(http.Flusher).Flush()
				select {
				case <-rest:
				case <-req.Context().Done(): // the proxy closed the connection
					return
				}
				_, _ = w.Write(b[8<<10:])
			}))
			defer up.Close()

			cfg := DefaultConfig()
			cfg.NoMITM = true
			cfg.MaxBody = 1 << 20
			if reverse {
				cfg.Target = up.URL
			}
			r, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			body := &holdBody{size: size, release: make(chan struct{}), ended: make(chan error, 1)}
			inner := r.handler
			r.handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				body.ReadCloser = req.Body
				req.Body = body
				inner.ServeHTTP(w, req)
			})
			path := filepath.Join(t.TempDir(), "rec.amp")
			cw, err := capture.Create(path, capture.FileHeader{Source: "proxy", Created: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- r.Serve(ctx, ln, cw) }()

			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			target := up.URL + "/echo"
			if reverse {
				target = "http://" + ln.Addr().String() + "/echo"
			} else {
				tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: ln.Addr().String()})
			}
			resp, err := (&http.Client{Transport: tr}).Post(target, "application/octet-stream", bytes.NewReader(sent))
			if err != nil {
				t.Fatal(err)
			}
			// The client has the response head: the proxy's server did
			// whatever it does to the request body when the head is written.
			close(body.release)
			if err := <-body.ended; err != io.EOF {
				// The transport closes the upstream connection next; the
				// upstream sees it and ends its response early.
				t.Errorf("reading the request body to its end after the response head: %v, want EOF", err)
			} else {
				close(rest)
			}
			got, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || !bytes.Equal(got, sent) {
				t.Errorf("client got %d of %d response bytes (%v)", len(got), size, err)
			}

			cancel()
			if err := <-errc; err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if err := cw.Close(); err != nil {
				t.Fatal(err)
			}
			rec, err := capture.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Sessions) != 1 || len(rec.Sessions[0].Exchanges) != 1 {
				t.Fatalf("recorded %d exchanges, want 1", rec.Exchanges())
			}
			e := rec.Sessions[0].Exchanges[0]
			if e.Flags != 0 || !bytes.Equal(e.Response.Body, sent) || !bytes.Equal(e.Request.Body, sent) {
				t.Errorf("recorded flags %v (%s), %d response and %d request body bytes, want %d each",
					e.Flags, e.Error, len(e.Response.Body), len(e.Request.Body), size)
			}
		})
	}
}
